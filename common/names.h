/* names.h: user and group names of ids, as NSS gives them, cached while /etc/passwd and
 * /etc/group stay unchanged (a lookup costs a dozen system calls; every new process and every
 * exec needs one). */
#pragma once

#include <sys/types.h>

/* The name of UID (and its home directory, or NULL, in *RET_HOME if not NULL); NULL when the
 * user database has none. Caller frees. Thread-safe. */
char *names_user(uid_t uid, char **ret_home);
/* The name of GID, or NULL. Caller frees. Thread-safe. */
char *names_group(gid_t gid);
