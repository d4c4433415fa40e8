/* Peak memory of a piece of work: run_measured runs fn(arg) in a forked
 * child and returns its exit status (fn's return value, 0..255) and the
 * memory it took in KiB: the child's peak resident set size (wait4) less
 * that of a child doing nothing, since a forked child starts with its
 * parent's resident pages (more of them under AddressSanitizer, whose
 * quarantine keeps freed memory). A refusal that must cost "no more than
 * the bytes needed to decide it" is checked this way: with a bound on
 * memory, never on time. The child's error message is passed back through
 * a pipe when `msg` is not NULL.
 * Include with _POSIX_C_SOURCE 200809L (or _DEFAULT_SOURCE for wait4). */
#ifndef AEKIT_TEST_PEAK_RSS_H
#define AEKIT_TEST_PEAK_RSS_H

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* glibc declares wait4 under _DEFAULT_SOURCE only */
pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage);

/* fn writes its message (if any) into msg[0..size); returns 0..255. */
typedef int (*measured_fn)(void *arg, char *msg, size_t size);

static int measured_nothing(void *arg, char *msg, size_t size)
{
    (void)arg;
    (void)msg;
    (void)size;
    return 0;
}

/* The child's exit status and peak RSS (KiB), or -1. */
static int run_child(measured_fn fn, void *arg, long *peak_kib, char *msg, size_t size)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char buf[1024] = "";
        int rc = fn(arg, buf, sizeof buf);
        ssize_t unused = write(fds[1], buf, strlen(buf));
        (void)unused;
        _exit(rc & 255);
    }
    close(fds[1]);
    char buf[1024];
    size_t got = 0;
    ssize_t r;
    while (got + 1 < sizeof buf && (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = '\0';
    close(fds[0]);
    if (msg && size) snprintf(msg, size, "%s", buf);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) return -1;
    *peak_kib = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Returns the child's exit status, or -1 when it could not run or died of a
 * signal; *grown_kib gets the memory it took beyond its parent's. */
static int run_measured(measured_fn fn, void *arg, long *grown_kib, char *msg, size_t size)
{
    long base = 0, peak = 0;
    if (run_child(measured_nothing, NULL, &base, NULL, 0) != 0) return -1;
    int rc = run_child(fn, arg, &peak, msg, size);
    *grown_kib = peak - base;
    return rc;
}

#endif
