#define _POSIX_C_SOURCE 200809L
#include "core/atomic_file.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

int ae_atomic_open(ae_atomic_file *af, const char *path, ae_error *err)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return ae_fail(err, "%s: path too long", path);
    strcpy(af->path, path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    af->f = fopen(af->tmp, "wb");
    if (!af->f)
        return ae_fail(err, "%s: cannot create: %s", path, strerror(errno));
    return 0;
}

static void sync_parent_dir(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int ae_atomic_commit(ae_atomic_file *af, ae_error *err)
{
    int bad = 0, e = 0;
    if (fflush(af->f) != 0 || ferror(af->f)) { bad = 1; e = errno; }
    if (!bad && fsync(fileno(af->f)) != 0) { bad = 1; e = errno; }
    if (fclose(af->f) != 0 && !bad) { bad = 1; e = errno; }
    af->f = NULL;
    if (!bad && rename(af->tmp, af->path) != 0) { bad = 1; e = errno; }
    if (bad) {
        remove(af->tmp);
        return ae_fail(err, "%s: write failed: %s", af->path, strerror(e ? e : EIO));
    }
    sync_parent_dir(af->path);
    return 0;
}

void ae_atomic_abort(ae_atomic_file *af)
{
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) remove(af->tmp);
}
