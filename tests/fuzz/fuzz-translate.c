/* fuzz-translate.c: libFuzzer target for the argument translators that read structures a target
 * controls: socket addresses of any length and family, integer arguments of every kind, and the
 * quoting of any bytes into policy strings (which must parse back to the same bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "policy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An address as long as the input (the translator is given the length the target passed). */
    char *cwd = size > 0 && data[0] & 1 ? "/srv" : "/";
    char *addr = format_sockaddr(data, size, cwd);
    free(addr);

    /* Every integer kind with the input's first eight bytes. */
    uint64_t v = 0;
    memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
    for (int k = 0; k < SYS_ARG_KIND_MAX; k++) {
        if (sys_arg_kind_reads_memory(k) || k == SYS_ARG_PIDNAME)
            continue;
        free(format_int(k, v));
    }

    /* Any bytes (up to the first NUL) quote into a string that parses back to them. */
    char *value = xstrndup((const char *)data, size);
    char *quoted = pol_quote(value);
    char *line = xasprintf("native-open: filename eq %s then permit", quoted);
    struct pol_rule *rule = NULL;
    char *err = NULL;
    if (pol_parse_rule(line, &rule, &err) < 0) {
        fprintf(stderr, "quoted value does not parse: %s\n%s\n", line, err);
        abort();
    }
    if (strcmp(rule->expr->value, value) != 0) {
        fprintf(stderr, "quoting changed the value\n");
        abort();
    }
    pol_rule_free(rule);
    free(line);
    free(quoted);
    free(value);
    return 0;
}
