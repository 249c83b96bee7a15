/* errnames.h: errno names <-> numbers, for deny[ERRNO] and logs (the C library's own table). */
#pragma once

/* Case-insensitive "enoent" -> ENOENT; -1 when the name is not a Linux errno. */
int errname_to_errno(const char *name);
/* ENOENT -> "ENOENT"; NULL when unknown. */
const char *errname_from_errno(int e);
/* One past the largest errno that errname_from_errno knows, for tests that walk the table. */
int errname_max(void);
