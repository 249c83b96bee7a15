/* ctl-daemon.h: systracectl's commands that talk to systraced (list, attach, detach, kill,
 * mode, monitor, status, reload). */
#pragma once

#include <stdbool.h>

/* Runs ARGV[0] (a session command) with its arguments; the exit status. JSON: --json output.
 * -1 when ARGV[0] is not one of these commands. */
int ctl_daemon_command(int argc, char **argv, bool json);
