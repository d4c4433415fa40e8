/* Opening a file to read it (aekit/files.h). */
#define _POSIX_C_SOURCE 200809L
#include "aekit/files.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ae_file_kind(mode_t mode)
{
    return S_ISREG(mode) ? "a file" : S_ISDIR(mode) ? "a folder" : S_ISCHR(mode) ? "a character device"
         : S_ISBLK(mode) ? "a block device" : S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket"
         : "something other than a file";
}

FILE *ae_open_file(const char *path, ae_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        ae_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    int flags;
    if (fstat(fd, &st) != 0 || (S_ISREG(st.st_mode) && ((flags = fcntl(fd, F_GETFL)) < 0 ||
                                                         fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0))) {
        ae_fail(err, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        ae_fail(err, "%s: is %s, not a regular file (aekit reads regular files only)", path,
                ae_file_kind(st.st_mode));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        ae_fail(err, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}
