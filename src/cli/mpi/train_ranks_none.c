/* aekit train's processes without MPI (built with -DAEKIT_MPI=OFF): one
 * process, and a refusal when started by mpirun, where every copy would
 * train the whole run on its own and write the same folder. */
#include "train.h"

#include <stdlib.h>
#include <string.h>

int train_ranks_start(ae_ranks *r)
{
    memset(r, 0, sizeof *r);
    r->size = 1;
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    if (!size) size = getenv("PMI_SIZE");
    if (size && atoi(size) > 1)
        return cli_fail(EXIT_USAGE, "train", "started by mpirun (%s processes), but this aekit is built "
                        "without MPI (-DAEKIT_MPI=OFF): build it with libopenmpi-dev installed", size);
    return 0;
}

int train_ranks_ready(const ae_ranks *r, int rc)
{
    (void)r;
    return rc;
}

void train_ranks_step_done(void)
{
}

void train_ranks_end(const ae_ranks *r)
{
    (void)r;
}
