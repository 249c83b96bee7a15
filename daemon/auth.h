/* auth.h: who may do what, by the caller's UID as the bus reports it (never by a PID). One table
 * (auth.c) that the tests walk. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

enum auth_action {
    AUTH_SUPERVISE,     /* hand over a session (its pidfd's process must be the caller's) */
    AUTH_ATTACH,        /* put a running process under supervision (it must be wholly the
                           caller's: attach.c) */
    AUTH_SEE,           /* list it, find it, read its properties and rules, see its decisions */
    AUTH_CONTROL,       /* detach, kill, change its mode */
    AUTH_ANSWER,        /* answer its questions */
    AUTH_AGENT_OWN,     /* register an agent for one's own sessions */
    AUTH_AGENT_SESSION, /* register an agent attached to one session */
    AUTH_AGENT_ALL,     /* register an agent for every session */
    AUTH_RELOAD,        /* re-read the daemon's configuration */
    AUTH_STATUS,        /* the daemon's status */
    AUTH_ACTION_MAX,
};

enum auth_who {
    AUTH_ANYONE,
    AUTH_OWNER, /* the session's owner, root and the operator group */
    AUTH_PRIV,  /* root and the operator group */
};

struct auth_rule {
    enum auth_action action;
    const char *name;
    enum auth_who who;
};

extern const struct auth_rule auth_table[AUTH_ACTION_MAX];

/* Whether UID is root or a member of OPERATOR_GROUP (NULL: none) by the passwd and group
 * databases. */
bool auth_privileged(uid_t uid, const char *operator_group);
/* Whether CALLER (privileged as auth_privileged says) may do ACTION to something OWNER owns
 * (OWNER is ignored for actions not on a session). */
bool auth_allowed(enum auth_action action, uid_t caller, bool privileged, uid_t owner);
