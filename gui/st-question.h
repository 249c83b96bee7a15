/* st-question.h: one question from systraced (an Agent1.Ask request), read from its a{sv}. Every
 * string in it came from a traced program or describes one: show it through visible_text. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define ST_TYPE_QUESTION (st_question_get_type())
G_DECLARE_FINAL_TYPE(StQuestion, st_question, ST, QUESTION, GObject)

struct _StQuestion {
    GObject parent_instance;
    char *id;
    char *session; /* object path */
    gint32 pid, tid;
    guint32 uid;
    char *user, *program, *argv, *cwd, *policy;
    guint32 rules; /* the policy's rule count */
    char *syscall, *rule_name;
    GPtrArray *parents;   /* char *: "PID PROGRAM", nearest first */
    GPtrArray *arguments; /* char *: name and value, alternately */
    GStrv suggestions;
    gint64 deadline_us; /* CLOCK_REALTIME; 0 when not given */
    guint32 repeats;
};

/* Reads REQUEST (a{sv}); keys of the wrong type are left at their defaults. */
StQuestion *st_question_new(const char *id, GVariant *request);

/* The call in plain words: "“inetd” wants to run “/usr/sbin/ident2”". Caller frees. */
char *st_question_describe(StQuestion *q);
/* The call in policy syntax: "native-execve: filename eq \"/usr/sbin/ident2\"". Caller frees. */
char *st_question_policy_text(StQuestion *q);
/* The value of the first argument, or NULL. */
const char *st_question_first_value(StQuestion *q);

G_END_DECLS
