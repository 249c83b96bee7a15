/* guardian.h: the process between the launcher and the program's tree. It is the tree's
 * subreaper, so every process of the tree stays its descendant (a daemon that double-forked and
 * left the session too), and it outlives the launcher: if the supervisor dies, SIGKILL or crash,
 * the guardian kills the whole tree at once, rather than let it run on with every supervised
 * call failing with ENOSYS and none checked. The guardian runs no program and makes no call the
 * tree could influence; the supervisor counts it among its own processes, out of the tree's reach.
 *
 * Its socket to the launcher carries, in order: the program's pid (an int, -errno if the fork
 * failed); from the launcher, one byte once it holds a pidfd of the program (the guardian reaps
 * nothing before, so the pid cannot be reused); and the program's exit status (an int: the exit
 * code, 128+N after signal N) once the whole tree has ended. The guardian then exits with it. */
#pragma once

#include <sys/types.h>

/* In the forked guardian: forks, runs START(DATA) in the child (it must not return), and guards
 * the tree until it ends or LAUNCHER_FD reaches end of file. Only async-signal-safe calls. */
_Noreturn void guardian_main(int launcher_fd, void (*start)(void *data), void *data);
