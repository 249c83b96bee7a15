/* st-32bit: an i386 program with no C library (none is needed to build it): it waits in pause()
 * forever, for the test that a 32-bit process is refused an attach. */
void _start(void);
void _start(void)
{
    for (;;)
        __asm__ volatile("movl $29, %%eax; int $0x80" ::: "eax");
}
