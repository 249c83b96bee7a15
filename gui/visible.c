/* visible.c: the policy printer's quoting (common/policy-print.c) reused for display. */
#include "visible.h"

#include <glib.h>
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "policy.h"

char *visible_text(const char *s, size_t max)
{
    char *quoted = pol_quote(s ? s : "");
    size_t len = strlen(quoted);
    /* pol_quote wraps the text in double quotes: drop them. */
    GString *out = g_string_new_len(quoted + 1, (gssize)(len >= 2 ? len - 2 : 0));
    free(quoted);
    if (out->len > max) {
        size_t cut = max;
        /* Cut on a character boundary: escapes are ASCII, so only UTF-8 continuations matter. */
        while (cut > 0 && ((unsigned char)out->str[cut] & 0xc0) == 0x80)
            cut--;
        size_t full = strlen(s ? s : "");
        g_string_truncate(out, cut);
        g_string_append_printf(out, _("… (%zu bytes in all)"), full);
    }
    return g_string_free(out, FALSE);
}

char *visible_line(const char *s, size_t max)
{
    g_autofree char *escaped = visible_text(s, max);
    GString *out = g_string_new(NULL);
    for (const char *p = escaped; *p; p++) {
        if (p[0] == '\\' && (p[1] == '"' || p[1] == '\\'))
            p++; /* the escape pol_quote added */
        g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

char *visible_basename(const char *path, size_t max)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return visible_text(slash && slash[1] ? slash + 1 : path, max);
}
