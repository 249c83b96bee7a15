/* binary.h: naming a program the way policies do: the absolute, resolved path. */
#pragma once

/* NAME as an absolute path with symlinks resolved; a name without '/' is searched in $PATH.
 * -errno (ENOENT when not found). Caller frees. */
int binary_resolve(const char *name, char **ret);
