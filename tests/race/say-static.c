/* say-static: a program that does its harm before any call the supervisor sees: static, no C
 * library, it writes "ESCAPED\n" to standard output with the one system call a policy lets the
 * kernel decide, then exits. Whatever runs one instruction of it has escaped an exec check. */
#include <sys/syscall.h>

static long raw(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

void _start(void);
void _start(void)
{
    static const char text[] = "ESCAPED\n";
    raw(SYS_write, 1, (long)text, sizeof(text) - 1);
    raw(SYS_exit_group, 0, 0, 0);
    for (;;) {
    }
}
