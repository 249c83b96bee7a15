/* errnames.c: errno names from glibc's strerrorname_np, so the full Linux set is known without a
 * hand-written list. */
#include "errnames.h"

#include <string.h>
#include <strings.h>

#define ERRNO_SCAN_LIMIT 4096

const char *errname_from_errno(int e)
{
    if (e <= 0 || e >= ERRNO_SCAN_LIMIT)
        return NULL;
    return strerrorname_np(e);
}

int errname_max(void)
{
    int max = 0;
    for (int e = 1; e < ERRNO_SCAN_LIMIT; e++)
        if (strerrorname_np(e))
            max = e + 1;
    return max;
}

int errname_to_errno(const char *name)
{
    for (int e = 1; e < ERRNO_SCAN_LIMIT; e++) {
        const char *n = strerrorname_np(e);
        if (n && strcasecmp(n, name) == 0)
            return e;
    }
    return -1;
}
