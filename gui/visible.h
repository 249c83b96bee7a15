/* visible.h: strings from a traced program made fit to show as plain text: control, invisible and
 * bidirectional characters written as escapes (as a policy string writes them), long ones cut. */
#pragma once

#include <stddef.h>

/* S (any bytes) with every character that would not show as itself escaped ("\n", "\x1b",
 * "\xe2\x80\xae" for U+202E) and cut after MAX bytes of escaped text with a note of the full
 * length. Never markup, never a format. Caller frees (g_free). */
char *visible_text(const char *s, size_t max);

/* As visible_text, but quotes and backslashes stay as they are: for text that is quoted and
 * escaped already (the daemon's log lines), which visible_text would escape twice. */
char *visible_line(const char *s, size_t max);

/* The last component of PATH, made visible. Caller frees (g_free). */
char *visible_basename(const char *path, size_t max);
