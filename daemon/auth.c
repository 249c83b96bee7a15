/* auth.c: the authorisation table. A user acts on their own sessions; root and the members of
 * the operator group (systraced.conf) on all of them. Everyone may hand a session over: what is
 * checked then is that the handed process is the caller's (session.c). */
#include "auth.h"

#include <grp.h>
#include <pwd.h>

#include "util.h"

const struct auth_rule auth_table[AUTH_ACTION_MAX] = {
    [AUTH_SUPERVISE] = {AUTH_SUPERVISE, "supervise", AUTH_ANYONE},
    [AUTH_ATTACH] = {AUTH_ATTACH, "attach", AUTH_OWNER},
    [AUTH_SEE] = {AUTH_SEE, "see", AUTH_OWNER},
    [AUTH_CONTROL] = {AUTH_CONTROL, "control", AUTH_OWNER},
    [AUTH_ANSWER] = {AUTH_ANSWER, "answer", AUTH_OWNER},
    [AUTH_AGENT_OWN] = {AUTH_AGENT_OWN, "agent-own", AUTH_ANYONE},
    [AUTH_AGENT_SESSION] = {AUTH_AGENT_SESSION, "agent-session", AUTH_OWNER},
    [AUTH_AGENT_ALL] = {AUTH_AGENT_ALL, "agent-all", AUTH_PRIV},
    [AUTH_RELOAD] = {AUTH_RELOAD, "reload", AUTH_PRIV},
    [AUTH_STATUS] = {AUTH_STATUS, "status", AUTH_ANYONE},
};

bool auth_privileged(uid_t uid, const char *operator_group)
{
    if (uid == 0)
        return true;
    if (!operator_group)
        return false;
    char pwbuf[4096], grbuf[16384];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 || !pwp)
        return false;
    if (getgrnam_r(operator_group, &gr, grbuf, sizeof(grbuf), &grp) != 0 || !grp)
        return false;
    if (pw.pw_gid == gr.gr_gid)
        return true;
    for (char **m = gr.gr_mem; *m; m++)
        if (streq(*m, pw.pw_name))
            return true;
    return false;
}

bool auth_allowed(enum auth_action action, uid_t caller, bool privileged, uid_t owner)
{
    if (action >= AUTH_ACTION_MAX)
        return false;
    switch (auth_table[action].who) {
    case AUTH_ANYONE:
        return true;
    case AUTH_OWNER:
        return privileged || caller == owner;
    case AUTH_PRIV:
        return privileged;
    }
    return false;
}
