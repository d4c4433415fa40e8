/* Loopback ping-pong between two MPI ranks, for bench/mpi.sh: the one-way
 * time (half a round trip) and bandwidth of messages of the sizes given
 * in bytes (aekit's 256 KB chain pieces, each model's gradient). The
 * numbers the scaling model in BENCHMARKS.md starts from.
 *
 *   mpicc -O2 bench/mpi_pingpong.c -o mpi_pingpong
 *   mpirun -np 2 ./mpi_pingpong 8 262144 3230800 */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2) {
        if (rank == 0) fprintf(stderr, "mpi_pingpong: run with mpirun -np 2\n");
        MPI_Finalize();
        return 2;
    }
    if (rank == 0) printf("bytes,one_way_us,MB_per_s\n");
    for (int a = 1; a < argc; a++) {
        long bytes = atol(argv[a]);
        if (bytes <= 0 || bytes > (1L << 30)) {
            if (rank == 0) fprintf(stderr, "mpi_pingpong: %s: not a size in bytes (1 B .. 1 GiB)\n", argv[a]);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        char *buf = calloc((size_t)bytes, 1);
        if (!buf) MPI_Abort(MPI_COMM_WORLD, 1);
        /* about 0.3 s a size, at least 20 round trips, after 5 unmeasured */
        int reps = (int)(3e8 / (double)(bytes + 10000));
        if (reps < 20) reps = 20;
        if (reps > 20000) reps = 20000;
        double t0 = 0;
        for (int i = -5; i < reps; i++) {
            if (i == 0) {
                MPI_Barrier(MPI_COMM_WORLD);
                t0 = MPI_Wtime();
            }
            if (rank == 0) {
                MPI_Send(buf, (int)bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
                MPI_Recv(buf, (int)bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else {
                MPI_Recv(buf, (int)bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(buf, (int)bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
            }
        }
        double one_way = (MPI_Wtime() - t0) / (2.0 * reps);
        if (rank == 0) printf("%ld,%.2f,%.0f\n", bytes, one_way * 1e6, (double)bytes / one_way / 1e6);
        free(buf);
    }
    MPI_Finalize();
    return 0;
}
