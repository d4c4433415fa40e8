/* aekit train's processes under mpirun, through MPI (built with
 * AEKIT_MPI): joining the job, the byte-moving calls the library's
 * ae_train_ranks sums gradients with (it does every sum itself, in a fixed
 * order; MPI only moves bytes), and the agreement of every rank before
 * training starts. Started without mpirun, aekit never calls MPI_Init. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_CHAIN = 1 };
#define PIECE ((size_t)1 << 30)   /* MPI counts are int: bytes go in pieces of 1 GiB */

static int joined;                /* MPI_Init was called */
static int agreed;                /* train_ranks_ready ran */
static char error_line[1024];     /* ranks above 0: the error they would have printed */

/* The reduction's cost on this rank: seconds inside the three calls
 * (waiting for the other ranks included: that is what a step pays),
 * read at each step's end, so the start check and the first step are left out. */
static int my_rank, world_size;
static double moving_seconds;     /* inside MPI_Send/Recv/Bcast so far */
static double seconds_at_first_step, seconds_at_last_step;
static long steps_done;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int mpi_send(void *user, int to, const void *buf, size_t bytes)
{
    (void)user;
    double t0 = now_seconds();
    const char *p = buf;
    do {
        size_t n = bytes > PIECE ? PIECE : bytes;
        if (MPI_Send(p, (int)n, MPI_BYTE, to, TAG_CHAIN, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
        p += n;
        bytes -= n;
    } while (bytes > 0);
    moving_seconds += now_seconds() - t0;
    return 0;
}

static int mpi_recv(void *user, int from, void *buf, size_t bytes)
{
    (void)user;
    double t0 = now_seconds();
    char *p = buf;
    do {
        size_t n = bytes > PIECE ? PIECE : bytes;
        if (MPI_Recv(p, (int)n, MPI_BYTE, from, TAG_CHAIN, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        p += n;
        bytes -= n;
    } while (bytes > 0);
    moving_seconds += now_seconds() - t0;
    return 0;
}

static int mpi_broadcast(void *user, int root, void *buf, size_t bytes)
{
    (void)user;
    double t0 = now_seconds();
    char *p = buf;
    do {
        size_t n = bytes > PIECE ? PIECE : bytes;
        if (MPI_Bcast(p, (int)n, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
        p += n;
        bytes -= n;
    } while (bytes > 0);
    moving_seconds += now_seconds() - t0;
    return 0;
}

/* Started by mpirun (or another launcher of Open MPI, MPICH or a PMI). */
static int launched_by_mpi(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int train_ranks_start(ae_ranks *r)
{
    memset(r, 0, sizeof *r);
    r->size = 1;
    r->send = mpi_send;
    r->recv = mpi_recv;
    r->broadcast = mpi_broadcast;
    if (!launched_by_mpi()) return 0;
    int provided;
    /* OpenMP threads compute; only this thread calls MPI */
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return cli_fail(EXIT_ERROR, "train", "mpirun: MPI_Init failed");
    joined = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &r->size);
    my_rank = r->rank;
    world_size = r->size;
    if (r->rank > 0) cli_errors_to(error_line, sizeof error_line);   /* rank 0 alone prints */
    return 0;
}

int train_ranks_ready(const ae_ranks *r, int rc)
{
    if (agreed || r->size == 1) return rc;
    agreed = 1;
    /* every rank's exit code and error line; the first failing rank's wins */
    struct { int32_t rc; char line[sizeof error_line]; } mine, *all = NULL;
    mine.rc = rc;
    snprintf(mine.line, sizeof mine.line, "%s", rc && r->rank > 0 ? error_line : "");
    all = malloc((size_t)r->size * sizeof *all);
    if (!all) return cli_fail(EXIT_ERROR, "train", "rank %d: out of memory", r->rank);
    MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, MPI_COMM_WORLD);
    int first = -1;
    for (int i = 0; i < r->size && first < 0; i++)
        if (all[i].rc) first = i;
    int out = first < 0 ? 0 : all[first].rc;
    /* rank 0 printed its own error; another rank's is printed by rank 0 */
    if (r->rank == 0 && first > 0) {
        fprintf(stderr, "aekit train: rank %d: %s\n", first, all[first].line);
    }
    free(all);
    return out;
}

void train_ranks_step_done(void)
{
    if (!joined) return;
    if (steps_done++ == 0) seconds_at_first_step = moving_seconds;
    seconds_at_last_step = moving_seconds;
}

void train_ranks_end(const ae_ranks *r)
{
    (void)r;
    if (joined && my_rank == 0 && world_size > 1 && steps_done > 1)
        fprintf(stderr, "aekit train: reduction %.3f ms a step over %ld steps (rank 0; time inside MPI "
                "send/recv/broadcast, waiting included)\n",
                1e3 * (seconds_at_last_step - seconds_at_first_step) / (double)(steps_done - 1), steps_done - 1);
    if (joined) MPI_Finalize();
    joined = 0;
}
