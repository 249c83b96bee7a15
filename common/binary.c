/* binary.c: resolving a program name to the path its policy is named after. */
#include "binary.h"

#include <stdlib.h>

#include "util.h"

int binary_resolve(const char *name, char **ret)
{
    if (!*name)
        return -ENOENT;
    if (strchr(name, '/')) {
        char *abs = realpath(name, NULL);
        if (!abs)
            return -errno;
        *ret = abs;
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int r = -ENOENT;
    for (const char *p = path;; p++) {
        const char *colon = strchrnul(p, ':');
        _cleanup_free_ char *cand =
            colon == p ? xasprintf("./%s", name) : xasprintf("%.*s/%s", (int)(colon - p), p, name);
        if (access(cand, X_OK) == 0) {
            char *abs = realpath(cand, NULL);
            if (abs) {
                *ret = abs;
                return 0;
            }
        } else if (errno == EACCES)
            r = -EACCES;
        if (!*colon)
            break;
        p = colon;
    }
    return r;
}
