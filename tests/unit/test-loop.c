/* test-loop.c: the host event loop: descriptors, deadlines in order, jobs posted from other
 * threads, and removal from another thread while a callback runs. */
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"
#include "testutil.h"

struct pipe_case {
    struct loop *loop;
    int fds[2];
    int reads;
};

static void on_readable(void *data, uint32_t events)
{
    struct pipe_case *c = data;
    g_assert_true(events & EPOLLIN);
    char b;
    g_assert_cmpint(read(c->fds[0], &b, 1), ==, 1);
    if (++c->reads == 3)
        loop_quit(c->loop);
}

static void test_fd(void)
{
    struct pipe_case c = {0};
    g_assert_cmpint(loop_new(&c.loop), ==, 0);
    g_assert_cmpint(pipe(c.fds), ==, 0);
    struct loop_watch *w;
    g_assert_cmpint(loop_watch_fd(c.loop, c.fds[0], EPOLLIN, on_readable, &c, &w), ==, 0);
    g_assert_cmpint(write(c.fds[1], "abc", 3), ==, 3);
    g_assert_cmpint(loop_run(c.loop), ==, 0);
    g_assert_cmpint(c.reads, ==, 3);
    loop_unwatch(c.loop, w);
    close(c.fds[0]);
    close(c.fds[1]);
    loop_free(c.loop);
}

struct order {
    struct loop *loop;
    int seen[8];
    int n;
};

struct mark {
    struct order *o;
    int id;
};

static void on_timer(void *data)
{
    struct mark *m = data;
    m->o->seen[m->o->n++] = m->id;
    if (m->id == 3)
        loop_quit(m->o->loop);
}

static void test_timers_in_order(void)
{
    struct order o = {0};
    g_assert_cmpint(loop_new(&o.loop), ==, 0);
    uint64_t now = loop_now_ns();
    struct mark m[4] = {{&o, 0}, {&o, 1}, {&o, 2}, {&o, 3}};
    struct loop_timer *t3 = loop_timer_add(o.loop, now + 30000000, on_timer, &m[3]);
    struct loop_timer *t1 = loop_timer_add(o.loop, now + 10000000, on_timer, &m[1]);
    struct loop_timer *cancelled = loop_timer_add(o.loop, now + 20000000, on_timer, &m[2]);
    struct loop_timer *t0 = loop_timer_add(o.loop, now, on_timer, &m[0]);
    loop_timer_cancel(o.loop, cancelled);
    g_assert_cmpint(loop_run(o.loop), ==, 0);
    g_assert_cmpint(o.n, ==, 3);
    g_assert_cmpint(o.seen[0], ==, 0);
    g_assert_cmpint(o.seen[1], ==, 1);
    g_assert_cmpint(o.seen[2], ==, 3);
    g_assert_cmpuint(loop_now_ns() - now, >=, 30000000);
    loop_timer_cancel(o.loop, t0); /* fired ones are released by their owner too */
    loop_timer_cancel(o.loop, t1);
    loop_timer_cancel(o.loop, t3);
    loop_free(o.loop);
}

struct posted {
    struct loop *loop;
    int count;
    pthread_t on;
};

static void on_job(void *data)
{
    struct posted *p = data;
    p->on = pthread_self();
    g_assert_true(loop_is_current(p->loop));
    if (++p->count == 100)
        loop_quit(p->loop);
}

static void *poster(void *arg)
{
    struct posted *p = arg;
    for (int i = 0; i < 100; i++)
        loop_post(p->loop, on_job, p);
    return NULL;
}

static void test_post_from_another_thread(void)
{
    struct posted p = {0};
    g_assert_cmpint(loop_new(&p.loop), ==, 0);
    pthread_t t;
    pthread_create(&t, NULL, poster, &p);
    g_assert_cmpint(loop_run(p.loop), ==, 0);
    pthread_join(t, NULL);
    g_assert_cmpint(p.count, ==, 100);
    g_assert_true(pthread_equal(p.on, pthread_self()));
    loop_free(p.loop);
}

/* A watch removed by another thread while its callback runs: unwatch waits for the callback,
 * and the callback is never called again. */
struct slow {
    struct loop *loop;
    int fds[2];
    struct loop_watch *watch;
    volatile int inside, calls, finished;
};

static void on_slow(void *data, uint32_t events)
{
    (void)events;
    struct slow *s = data;
    s->calls++;
    s->inside = 1;
    usleep(50000);
    s->finished = 1;
    s->inside = 0;
}

static void *remover(void *arg)
{
    struct slow *s = arg;
    while (!s->inside)
        usleep(1000);
    loop_unwatch(s->loop, s->watch);
    g_assert_true(s->finished); /* unwatch returned only after the callback */
    loop_quit(s->loop);
    return NULL;
}

static void test_unwatch_waits_for_the_callback(void)
{
    struct slow s = {0};
    g_assert_cmpint(loop_new(&s.loop), ==, 0);
    g_assert_cmpint(pipe(s.fds), ==, 0);
    g_assert_cmpint(loop_watch_fd(s.loop, s.fds[0], EPOLLIN, on_slow, &s, &s.watch), ==, 0);
    g_assert_cmpint(write(s.fds[1], "x", 1), ==, 1); /* never read: level-triggered */
    pthread_t t;
    pthread_create(&t, NULL, remover, &s);
    g_assert_cmpint(loop_run(s.loop), ==, 0);
    pthread_join(t, NULL);
    g_assert_cmpint(s.calls, ==, 1);
    close(s.fds[0]);
    close(s.fds[1]);
    loop_free(s.loop);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/loop/fd", test_fd);
    g_test_add_func("/loop/timers", test_timers_in_order);
    g_test_add_func("/loop/post", test_post_from_another_thread);
    g_test_add_func("/loop/unwatch", test_unwatch_waits_for_the_callback);
    return g_test_run();
}
