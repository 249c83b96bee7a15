/* systrace-applet: asks the person at the desktop about the calls of their supervised programs
 * that no policy covers (systraced routes a user's questions to their applet). */
#include "i18n.h"
#include "st-applet.h"

int main(int argc, char **argv)
{
    i18n_init();
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    g_autoptr(StApplet) app = st_applet_new();
    g_set_application_name(_("systrace"));
    int status = g_application_run(G_APPLICATION(app), argc, argv);
    return st_applet_failed(app) ? 1 : status;
}
