/* i18n.h: gettext for the programs' messages. */
#pragma once

#include <libintl.h>
#include <locale.h>

#include "config.h"

#define _(s)  gettext(s)
#define N_(s) (s)

static inline void i18n_init(void)
{
    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    textdomain(GETTEXT_PACKAGE);
}
