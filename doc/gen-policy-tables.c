/* gen-policy-tables: writes systrace.policy(5)'s scdoc source from its template, filling in the
 * tables that live in common/syscalls.c (the aliases' calls, which calls take which argument,
 * OpenBSD's names), so that the manual cannot drift from the engine.
 *
 *   gen-policy-tables TEMPLATE OUTPUT   copy TEMPLATE to OUTPUT, each @TABLE@ line replaced
 *   gen-policy-tables --aliases         print "ALIAS CALL CONDITION" per alias member (tests) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "syscalls.h"
#include "util.h"

/* TEXT with scdoc's formatting characters escaped (OpenBSD's __tfork would start an underline). */
static void put_escaped(FILE *out, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (strchr("_*\\", *c))
            fputc('\\', out);
        fputc(*c, out);
    }
}

static const char *const cond_words[] = {
    [SYS_COND_ALWAYS] = "always",
    [SYS_COND_OPEN_READ_ONLY] = "read-only",
    [SYS_COND_OPEN_WRITES] = "writes",
};

/* What each condition means, as the page says it. */
static const char *const cond_text[] = {
    [SYS_COND_ALWAYS] = "",
    [SYS_COND_OPEN_READ_ONLY] = (" (opened without write access, without O_CREAT, O_TRUNC or "
                                 "O_TMPFILE)"),
    [SYS_COND_OPEN_WRITES] = " (opened for writing, or with O_CREAT, O_TRUNC or O_TMPFILE)",
};

/* One list item per alias: its calls in table order, conditional ones with their condition. */
static void write_aliases(FILE *out)
{
    unsigned n;
    const struct sys_alias_member *m = sys_alias_table(&n);
    for (int a = SYS_ALIAS_NONE + 1; a < SYS_ALIAS_MAX; a++) {
        fprintf(out, "*%s*\n", sys_alias_name((enum sys_alias)a));
        for (int cond = SYS_COND_ALWAYS; cond <= SYS_COND_OPEN_WRITES; cond++) {
            bool any = false;
            for (unsigned i = 0; i < n; i++) {
                if ((int)m[i].alias != a || (int)m[i].cond != cond)
                    continue;
                fputs(any ? ", " : "\t", out);
                put_escaped(out, m[i].syscall);
                any = true;
            }
            if (any)
                fprintf(out, "%s.\n\n", cond_text[cond]);
        }
    }
}

/* Per argument name, the calls whose rules can test it (a call may have two: rename's filename
 * and filename[1]). */
static void write_arguments(FILE *out)
{
    unsigned n;
    const struct sys_schema *s = sys_schema_table(&n);
    for (int k = 0; k < SYS_ARG_KIND_MAX; k++) {
        const char *name = sys_arg_kind_name((enum sys_arg_kind)k);
        /* Two kinds may share a name (sockaddr, oflags): list the name once, at its first. */
        bool first = true;
        for (int j = 0; j < k; j++)
            if (streq(sys_arg_kind_name((enum sys_arg_kind)j), name))
                first = false;
        if (!first)
            continue;
        fputc('*', out);
        put_escaped(out, name);
        fputs("*:", out);
        for (unsigned i = 0; i < n; i++) {
            bool has = false;
            for (unsigned a = 0; a < SYS_MAX_ARGS && s[i].args[a].name; a++)
                if (streq(s[i].args[a].name, name))
                    has = true;
            if (has) {
                fputc(' ', out);
                put_escaped(out, s[i].syscall);
            }
        }
        fprintf(out, "\n\n");
    }
}

static void write_openbsd(FILE *out)
{
    unsigned n, na;
    const struct sys_compat *t = sys_compat_table(&n);
    for (unsigned i = 0; i < n; i++) {
        if (!t[i].calls[0])
            continue;
        fputs("- *", out);
        put_escaped(out, t[i].openbsd);
        fputs("*:", out);
        for (unsigned k = 0; k < SYS_COMPAT_MAX_CALLS && t[i].calls[k]; k++) {
            fputs(k ? ", " : " ", out);
            put_escaped(out, t[i].calls[k]);
        }
        if (t[i].how) {
            fputs(" (", out);
            put_escaped(out, t[i].how);
            fputc(')', out);
        }
        fputc('\n', out);
    }
    fprintf(out, "\nNames without a Linux counterpart, and how Linux does the job:\n\n");
    for (unsigned i = 0; i < n; i++)
        if (!t[i].calls[0]) {
            fputs("- *", out);
            put_escaped(out, t[i].openbsd);
            fputs("*: ", out);
            put_escaped(out, t[i].how);
            fputc('\n', out);
        }
    const struct sys_compat_arg *args = sys_arg_alias_table(&na);
    fprintf(out, "\nArgument names:\n\n");
    for (unsigned i = 0; i < na; i++) {
        fputs("- *", out);
        put_escaped(out, args[i].name);
        fputs("* is *", out);
        put_escaped(out, args[i].as);
        fputs("*\n", out);
    }
}

static const struct {
    const char *marker;
    void (*write)(FILE *out);
} tables[] = {
    {"@ALIASES@\n", write_aliases},
    {"@ARGUMENTS@\n", write_arguments},
    {"@OPENBSD@\n", write_openbsd},
};

static int generate(const char *template_path, const char *output_path)
{
    _cleanup_fclose_ FILE *in = fopen(template_path, "re");
    if (!in) {
        fprintf(stderr, "gen-policy-tables: %s: %s\n", template_path, strerror(errno));
        return 1;
    }
    _cleanup_fclose_ FILE *out = fopen(output_path, "we");
    if (!out) {
        fprintf(stderr, "gen-policy-tables: %s: %s\n", output_path, strerror(errno));
        return 1;
    }
    char line[4096];
    while (fgets(line, sizeof(line), in)) {
        bool replaced = false;
        for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
            if (streq(line, tables[i].marker)) {
                tables[i].write(out);
                replaced = true;
            }
        if (!replaced)
            fputs(line, out);
    }
    return ferror(in) || fflush(out) != 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && streq(argv[1], "--aliases")) {
        unsigned n;
        const struct sys_alias_member *m = sys_alias_table(&n);
        for (unsigned i = 0; i < n; i++)
            printf("%s %s %s\n", sys_alias_name(m[i].alias), m[i].syscall, cond_words[m[i].cond]);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: gen-policy-tables TEMPLATE OUTPUT | --aliases\n");
        return 2;
    }
    return generate(argv[1], argv[2]);
}
