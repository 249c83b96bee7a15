/* app-info.h: what the desktop knows of a program: the application whose desktop file runs it
 * (its name and icon), looked up by the program's resolved path. */
#pragma once

#include <gio/gio.h>

/* The application that runs PROGRAM (an absolute, resolved path), or NULL. Owned by the cache:
 * valid until the desktop's applications change (the next call after that rebuilds it). */
GAppInfo *app_info_for_program(const char *program);
