/* The run folder of aekit train (cli/run_folder.h). */
#define _DEFAULT_SOURCE            /* flock */
#include "run_folder.h"
#include "cli.h"
#include "aekit/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_TRIES 100   /* the file replaced under us this often: give up */

/* The process id in a lock file, or 0 when it has none yet. */
static long lock_holder(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) return 0;
    text[n] = '\0';
    char *end;
    long pid = strtol(text, &end, 10);
    return end != text && *end == '\n' && pid > 0 ? pid : 0;
}

int run_lock_take(run_lock *l, const char *flag, const char *dir)
{
    l->fd = -1;
    cli_join_path(l->path, sizeof l->path, dir, RUN_LOCK_NAME);
    for (int attempt = 0; attempt < LOCK_TRIES; attempt++) {
        /* O_NOFOLLOW: a symlink planted at the name is not followed */
        int fd = open(l->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno == ELOOP)
            return cli_fail(EXIT_ERROR, "train", "%s %s: %s is a symbolic link, not aekit's lock file: "
                            "remove it", flag, dir, l->path);
        if (fd < 0)
            return cli_fail(EXIT_ERROR, "train", "%s %s: cannot write into it: %s", flag, dir, strerror(errno));
        struct stat held, now;
        if (fstat(fd, &held) != 0 || !S_ISREG(held.st_mode) || held.st_nlink != 1) {
            close(fd);
            return cli_fail(EXIT_ERROR, "train", "%s %s: %s is not aekit's lock file (not a plain file, "
                            "or a link to another file): remove it", flag, dir, l->path);
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            long pid = e == EWOULDBLOCK ? lock_holder(fd) : 0;
            close(fd);
            if (e != EWOULDBLOCK)
                return cli_fail(EXIT_ERROR, "train", "%s %s: cannot lock %s: %s", flag, dir, l->path, strerror(e));
            char who[64] = "";
            if (pid > 0) snprintf(who, sizeof who, " (pid %ld)", pid);
            return cli_fail(EXIT_ERROR, "train", "%s %s is in use by another aekit train%s: wait for it to "
                            "end, or stop it first", flag, dir, who);
        }
        /* the lock counts only on the file that is there now: the holder
         * before us removes it before letting go */
        if (lstat(l->path, &now) == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino) {
            char text[32];
            int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
            /* the id is only for the message of a second process: a full
             * disk that keeps it out is no reason to stop */
            if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {}
            l->fd = fd;
            return 0;
        }
        close(fd);
    }
    return cli_fail(EXIT_ERROR, "train", "%s %s: cannot take the lock %s (it keeps being replaced)",
                    flag, dir, l->path);
}

void run_lock_release(run_lock *l)
{
    if (l->fd < 0) return;
    struct stat held, now;
    if (fstat(l->fd, &held) == 0 && lstat(l->path, &now) == 0 && now.st_dev == held.st_dev &&
        now.st_ino == held.st_ino)
        unlink(l->path);
    close(l->fd);
    l->fd = -1;
}

int run_files_present(const char *dir, char *buf, size_t size)
{
    int count = 0;
    buf[0] = '\0';
    for (int f = 0; f < AE_RUN_FILES; f++) {
        char path[4200];
        struct stat st;
        if (f == AE_RUN_CHECKPOINT) continue;
        ae_run_path(path, sizeof path, dir, f);
        if (lstat(path, &st) != 0) continue;
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", count ? ", " : "", ae_run_files[f]);
        count++;
    }
    return count;
}

int run_files_remove(const char *dir)
{
    for (int f = 0; f < AE_RUN_FILES; f++) {
        char path[4200];
        ae_run_path(path, sizeof path, dir, f);
        if (unlink(path) != 0 && errno != ENOENT)
            return cli_fail(EXIT_ERROR, "train", "--force: cannot remove %s: %s", path, strerror(errno));
    }
    return 0;
}

void run_remove_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        for (int f = 0; f < AE_RUN_FILES; f++) {
            if (!ae_atomic_is_temp_of(e->d_name, ae_run_files[f])) continue;
            char path[4200];
            cli_join_path(path, sizeof path, dir, e->d_name);
            unlink(path);
            break;
        }
    }
    closedir(d);
}
