/* fuzz-policy.c: libFuzzer target for the policy parser. Any input must parse or fail cleanly;
 * whatever parses must print to text that parses back to the same text (a fixed point). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pol_file *file = NULL;
    struct pol_diags diags = {0};
    pol_parse((const char *)data, size, &file, &diags);
    pol_lint(file, &diags);
    char *msgs = pol_diags_format(&diags, "fuzz");
    free(msgs);
    pol_diags_clear(&diags);
    for (size_t i = 0; i < file->n_policies; i++) {
        char *text = pol_print(&file->policies[i]);
        struct pol_file *again = NULL;
        if (pol_parse(text, strlen(text), &again, NULL) < 0 || again->n_policies != 1) {
            fprintf(stderr, "printed policy does not parse:\n%s", text);
            abort();
        }
        char *text2 = pol_print(&again->policies[0]);
        if (strcmp(text, text2) != 0) {
            fprintf(stderr, "not a fixed point:\n%s---\n%s", text, text2);
            abort();
        }
        free(text);
        free(text2);
        pol_file_free(again);
    }
    pol_file_free(file);

    /* The single-rule entry point used by the prompt. */
    char *line = xstrndup((const char *)data, size);
    struct pol_rule *rule = NULL;
    char *err = NULL;
    if (pol_parse_rule(line, &rule, &err) == 0) {
        char *text = pol_rule_print(rule);
        pol_rule_free(rule);
        free(text);
    }
    free(err);
    free(line);
    return 0;
}
