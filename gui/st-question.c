/* st-question.c: a question's fields and its descriptions in words and in policy syntax. */
#include "st-question.h"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "visible.h"

G_DEFINE_TYPE(StQuestion, st_question, G_TYPE_OBJECT)

/* Shown strings are cut: a 10 kB argument must not make a window wider than the screen. */
#define SHOWN_MAX 300

static void st_question_finalize(GObject *object)
{
    StQuestion *q = ST_QUESTION(object);
    g_free(q->id);
    g_free(q->session);
    g_free(q->user);
    g_free(q->program);
    g_free(q->argv);
    g_free(q->cwd);
    g_free(q->policy);
    g_free(q->syscall);
    g_free(q->rule_name);
    g_ptr_array_unref(q->parents);
    g_ptr_array_unref(q->arguments);
    g_strfreev(q->suggestions);
    G_OBJECT_CLASS(st_question_parent_class)->finalize(object);
}

static void st_question_class_init(StQuestionClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = st_question_finalize;
}

static void st_question_init(StQuestion *q)
{
    q->parents = g_ptr_array_new_with_free_func(g_free);
    q->arguments = g_ptr_array_new_with_free_func(g_free);
}

static char *lookup_string(GVariant *dict, const char *key)
{
    char *s = NULL;
    return g_variant_lookup(dict, key, "s", &s) || g_variant_lookup(dict, key, "o", &s)
               ? s
               : g_strdup("");
}

StQuestion *st_question_new(const char *id, GVariant *request)
{
    StQuestion *q = g_object_new(ST_TYPE_QUESTION, NULL);
    q->id = g_strdup(id);
    q->session = lookup_string(request, "session");
    q->user = lookup_string(request, "user");
    q->program = lookup_string(request, "program");
    q->argv = lookup_string(request, "argv");
    q->cwd = lookup_string(request, "cwd");
    q->policy = lookup_string(request, "policy");
    q->syscall = lookup_string(request, "syscall");
    q->rule_name = lookup_string(request, "rule-name");
    g_variant_lookup(request, "pid", "i", &q->pid);
    g_variant_lookup(request, "tid", "i", &q->tid);
    g_variant_lookup(request, "uid", "u", &q->uid);
    g_variant_lookup(request, "rules", "u", &q->rules);
    g_variant_lookup(request, "repeats", "u", &q->repeats);
    guint64 deadline = 0;
    if (g_variant_lookup(request, "deadline", "t", &deadline))
        q->deadline_us = deadline > G_MAXINT64 ? G_MAXINT64 : (gint64)deadline;
    GVariantIter *it;
    if (g_variant_lookup(request, "parents", "a(is)", &it)) {
        gint32 pid;
        const char *exe;
        while (g_variant_iter_next(it, "(i&s)", &pid, &exe))
            g_ptr_array_add(q->parents, g_strdup_printf("%d %s", pid, exe));
        g_variant_iter_free(it);
    }
    if (g_variant_lookup(request, "arguments", "a(ss)", &it)) {
        const char *name, *value;
        while (g_variant_iter_next(it, "(&s&s)", &name, &value)) {
            g_ptr_array_add(q->arguments, g_strdup(name));
            g_ptr_array_add(q->arguments, g_strdup(value));
        }
        g_variant_iter_free(it);
    }
    if (!g_variant_lookup(request, "suggestions", "^as", &q->suggestions))
        q->suggestions = g_new0(char *, 1);
    return q;
}

const char *st_question_first_value(StQuestion *q)
{
    return q->arguments->len >= 2 ? q->arguments->pdata[1] : NULL;
}

/* How a call reads in words, by its rule name (a call or an alias): {program} is the program,
 * {object} the call's first argument. Placeholders rather than a printf format: a translation
 * cannot then misuse the arguments. */
static const struct {
    const char *rule_name;
    const char *words;
} phrases[] = {
    {"execve", N_("“{program}” wants to run “{object}”")},
    {"execveat", N_("“{program}” wants to run “{object}”")},
    {"fsread", N_("“{program}” wants to read “{object}”")},
    {"fswrite", N_("“{program}” wants to create or change “{object}”")},
    {"connect", N_("“{program}” wants to connect to “{object}”")},
    {"bind", N_("“{program}” wants to listen on “{object}”")},
    {"sendto", N_("“{program}” wants to send to “{object}”")},
    {"sendmsg", N_("“{program}” wants to send to “{object}”")},
    {"kill", N_("“{program}” wants to send the signal “{object}”")},
    {"chdir", N_("“{program}” wants to change directory to “{object}”")},
};

/* TEMPLATE with its placeholders filled in; the values themselves are never scanned. */
static char *fill(const char *template, const char *program, const char *object)
{
    static const char *const names[] = {"{program}", "{object}"};
    const char *values[] = {program, object};
    GString *out = g_string_new(NULL);
    for (const char *p = template; *p;) {
        size_t i = 0;
        while (i < G_N_ELEMENTS(names) && !g_str_has_prefix(p, names[i]))
            i++;
        if (i < G_N_ELEMENTS(names)) {
            g_string_append(out, values[i] ? values[i] : "");
            p += strlen(names[i]);
        } else {
            g_string_append_c(out, *p++);
        }
    }
    return g_string_free(out, FALSE);
}

char *st_question_describe(StQuestion *q)
{
    g_autofree char *who = visible_basename(q->program, 80);
    const char *first = st_question_first_value(q);
    if (first) {
        g_autofree char *what = visible_text(first, SHOWN_MAX);
        for (size_t i = 0; i < G_N_ELEMENTS(phrases); i++)
            if (!g_strcmp0(phrases[i].rule_name, q->rule_name))
                return fill(_(phrases[i].words), who, what);
    }
    g_autofree char *call = visible_text(q->syscall, 64);
    return fill(_("“{program}” wants to make the system call “{object}”"), who, call);
}

char *st_question_policy_text(StQuestion *q)
{
    g_autofree char *name = visible_text(q->rule_name, 64);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "native-%s", name);
    for (guint i = 0; i + 1 < q->arguments->len; i += 2) {
        g_autofree char *arg = visible_text(q->arguments->pdata[i], 64);
        /* visible_text escapes as a policy string does: quoted, it is one. */
        g_autofree char *value = visible_text(q->arguments->pdata[i + 1], SHOWN_MAX);
        g_string_append_printf(s, "%s%s eq \"%s\"", i ? " and " : ": ", arg, value);
    }
    return g_string_free(s, FALSE);
}
