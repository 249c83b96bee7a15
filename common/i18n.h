/* i18n.h: gettext for the programs' messages. */
#pragma once

#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/auxv.h>

#include "config.h"

#define _(s)  gettext(s)
#define N_(s) (s)

/* Messages come from LOCALEDIR, or from $SYSTRACE_LOCALEDIR (for tests of an uninstalled build;
 * ignored in a privileged, AT_SECURE process). */
static inline void i18n_init(void)
{
    setlocale(LC_ALL, "");
    const char *dir = getenv("SYSTRACE_LOCALEDIR");
    bindtextdomain(GETTEXT_PACKAGE,
                   dir && dir[0] == '/' && !getauxval(AT_SECURE) ? dir : LOCALEDIR);
    textdomain(GETTEXT_PACKAGE);
}
