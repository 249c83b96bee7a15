/* format.h: the text a rule compares for integer and structure arguments: open flags, modes,
 * protections, signals, socket families, addresses. Pure functions. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "syscalls.h"

/* VALUE (a raw register, truncated as the kernel truncates an int) as KIND's text. Kinds read from
 * memory are not handled here. Caller frees. */
char *format_int(enum sys_arg_kind kind, uint64_t value);
/* A socket address of LEN bytes: "inet-[1.2.3.4]:80", "inet6-[::1]:53", "/path",
 * "abstract:name", "unix:unnamed", "family(16)". CWD makes a relative unix path absolute. */
char *format_sockaddr(const void *addr, size_t len, const char *cwd);
/* "SIGTERM", "SIGRTMIN+3", "0". */
char *format_signal(int sig);
