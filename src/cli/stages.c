/* The stages of a long command on stderr (cli.h, cli_stage): a thread
 * watches the stage running; once it has run a moment, a terminal gets one
 * line "aekit CMD: STAGE... N s" rewritten every second (and erased when
 * the stage ends), anything else one line per stage that lasts. Short runs
 * print nothing, so their output (and a one-line error) stays as it was. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TTY_AFTER 0.5   /* seconds a stage runs before a terminal shows it */
#define LINE_AFTER 2.0  /* ... before other stderr gets its line */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct {
    pthread_t       thread;
    int             running, stop, tty, shown, printed;
    long            shown_s;   /* the seconds the terminal's line shows */
    double          after, started;
    char            cmd[32], text[256];
} st;

/* Erases a terminal's stage line (mu held). */
static void erase(void)
{
    if (st.tty && st.shown) fputs("\r\033[K", stderr);
    st.shown = 0;
}

static void *watch(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&mu);
    while (!st.stop) {
        double ran = cli_now() - st.started;
        if (st.text[0] && ran >= st.after) {
            if (st.tty && (!st.shown || (long)ran != st.shown_s)) {   /* once a second */
                st.shown_s = (long)ran;
                fprintf(stderr, "\r\033[Kaekit %s: %s... %ld s", st.cmd, st.text, st.shown_s);
                st.shown = 1;
                fflush(stderr);
            } else if (!st.tty && !st.printed) {
                fprintf(stderr, "aekit %s: %s...\n", st.cmd, st.text);
                st.printed = 1;
                fflush(stderr);
            }
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&wake, &mu, &until);
    }
    erase();
    pthread_mutex_unlock(&mu);
    return NULL;
}

void cli_stage(const char *cmd, const char *fmt, ...)
{
    pthread_mutex_lock(&mu);
    erase();
    snprintf(st.cmd, sizeof st.cmd, "%s", cmd);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st.text, sizeof st.text, fmt, ap);
    va_end(ap);
    st.started = cli_now();
    st.printed = 0;
    if (!st.running) {
        st.tty = isatty(STDERR_FILENO);
        st.after = st.tty ? TTY_AFTER : LINE_AFTER;
        /* AEKIT_STAGE_SECONDS: after how long a stage is shown (tests: 0) */
        const char *env = getenv("AEKIT_STAGE_SECONDS");
        char *end;
        double v = env ? strtod(env, &end) : -1;
        if (env && end != env && *end == '\0' && v >= 0 && v <= 1e6) st.after = v;
        st.stop = 0;
        st.running = pthread_create(&st.thread, NULL, watch, NULL) == 0;
    }
    if (!st.tty && st.after <= 0) {          /* every stage, in order, at once */
        fprintf(stderr, "aekit %s: %s...\n", st.cmd, st.text);
        fflush(stderr);
        st.printed = 1;
    }
    pthread_mutex_unlock(&mu);
}

void cli_stages_done(void)
{
    pthread_mutex_lock(&mu);
    int running = st.running;
    st.stop = 1;
    st.text[0] = '\0';
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&mu);
    if (running) pthread_join(st.thread, NULL);
    st.running = 0;
}
