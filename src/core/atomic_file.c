#define _POSIX_C_SOURCE 200809L
#include "core/atomic_file.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_MARK   ".aekit-tmp-"   /* a file being written */
#define BACKUP_MARK ".aekit-old-"   /* a group's copy of a file it replaces (as long) */
#define UNIQUE_LEN  6
#define TRIES       100             /* names tried before giving up (EEXIST) */

static _Thread_local ae_atomic_group *current_group;

/* Six letters or digits no other process can predict. */
static void random_suffix(char *out)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static _Thread_local uint64_t counter;
    unsigned char bytes[UNIQUE_LEN];
    if (getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != (ssize_t)sizeof bytes) {
        /* no entropy source: unique per process and call (O_EXCL still
         * refuses any name that exists) */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ (++counter * 0x9e3779b97f4a7c15ULL);
        for (int i = 0; i < UNIQUE_LEN; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            bytes[i] = (unsigned char)x;
        }
    }
    for (int i = 0; i < UNIQUE_LEN; i++) out[i] = alphabet[bytes[i] % (sizeof alphabet - 1)];
    out[UNIQUE_LEN] = '\0';
}

/* "<folder>/.<name><mark>XXXXXX" for path "<folder>/<name>"; -1 if too long. */
static int sibling_name(char *buf, size_t size, const char *path, const char *mark)
{
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path + 1) : 0;
    char suffix[UNIQUE_LEN + 1];
    random_suffix(suffix);
    int n = snprintf(buf, size, "%.*s.%s%s%s", dir_len, path, path + dir_len, mark, suffix);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* 1 when s is a suffix random_suffix makes. */
static int is_suffix(const char *s)
{
    if (strlen(s) != UNIQUE_LEN) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) return 0;
    return 1;
}

int ae_atomic_is_temp_of(const char *name, const char *target)
{
    size_t t = strlen(target), m = strlen(TEMP_MARK);
    return name[0] == '.' && strncmp(name + 1, target, t) == 0 &&
           strncmp(name + 1 + t, TEMP_MARK, m) == 0 && is_suffix(name + 1 + t + m);
}

int ae_atomic_is_temp(const char *name)
{
    size_t len = strlen(name), m = strlen(TEMP_MARK);  /* both marks are as long */
    if (name[0] != '.' || len < 1 + m + UNIQUE_LEN) return 0;
    const char *mark = name + len - UNIQUE_LEN - m;
    return (strncmp(mark, TEMP_MARK, m) == 0 || strncmp(mark, BACKUP_MARK, m) == 0) &&
           is_suffix(mark + m);
}

int ae_atomic_open(ae_atomic_file *af, const char *path, ae_error *err)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path) {
        ae_fail(err, "%s: path too long", path);
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(af->path, path);
    int fd = -1, e = EEXIST;
    for (int i = 0; i < TRIES && fd < 0 && e == EEXIST; i++) {
        if (sibling_name(af->tmp, sizeof af->tmp, path, TEMP_MARK) != 0) {
            e = ENAMETOOLONG;
            break;
        }
        fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        e = fd < 0 ? errno : 0;
    }
    if (fd >= 0 && !(af->f = fdopen(fd, "wb"))) {
        e = errno;
        close(fd);
        remove(af->tmp);
    }
    if (!af->f) {
        af->tmp[0] = '\0';
        ae_fail(err, "%s: cannot create: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}

static void sync_parent_dir(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Flushes, syncs and closes the temporary; on an error removes it. */
static int finish(ae_atomic_file *af, ae_error *err)
{
    int bad = 0, e = 0;
    if (fflush(af->f) != 0 || ferror(af->f)) { bad = 1; e = errno; }
    if (!bad && fsync(fileno(af->f)) != 0) { bad = 1; e = errno; }
    if (fclose(af->f) != 0 && !bad) { bad = 1; e = errno; }
    af->f = NULL;
    if (bad) {
        remove(af->tmp);
        af->tmp[0] = '\0';
        return ae_fail(err, "%s: write failed: %s", af->path, strerror(e ? e : EIO));
    }
    return 0;
}

static int hold_in_group(ae_atomic_group *g, ae_atomic_file *af, ae_error *err)
{
    char *path = NULL, *tmp = NULL;
    if (g->n < AE_ATOMIC_GROUP_MAX) {
        path = strdup(af->path);
        tmp = strdup(af->tmp);
    }
    if (!path || !tmp) {
        free(path);
        free(tmp);
        remove(af->tmp);
        g->failed = 1;
        snprintf(g->failed_msg, sizeof g->failed_msg, "%s: %s", af->path,
                 g->n < AE_ATOMIC_GROUP_MAX ? "out of memory" : "too many files written together");
        return ae_fail(err, "%s", g->failed_msg);
    }
    g->path[g->n] = path;
    g->tmp[g->n] = tmp;
    g->n++;
    return 0;
}

int ae_atomic_commit(ae_atomic_file *af, ae_error *err)
{
    if (finish(af, err) != 0) return -1;
    if (current_group) return hold_in_group(current_group, af, err);
    if (rename(af->tmp, af->path) != 0) {
        int e = errno;
        remove(af->tmp);
        return ae_fail(err, "%s: write failed: %s", af->path, strerror(e));
    }
    sync_parent_dir(af->path);
    return 0;
}

void ae_atomic_abort(ae_atomic_file *af)
{
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) remove(af->tmp);
    af->tmp[0] = '\0';
}

void ae_atomic_group_begin(ae_atomic_group *g)
{
    memset(g, 0, sizeof *g);
    current_group = g;
}

static void group_end(ae_atomic_group *g)
{
    for (int i = 0; i < g->n; i++) {
        free(g->path[i]);
        free(g->tmp[i]);
    }
    g->n = 0;
    if (current_group == g) current_group = NULL;
}

void ae_atomic_group_abort(ae_atomic_group *g)
{
    for (int i = 0; i < g->n; i++) remove(g->tmp[i]);
    group_end(g);
}

/* How a group kept the file a rename replaces, to put it back. */
enum { KEPT_NOTHING, KEPT_LINK, KEPT_MOVED };

/* Keeps the file at path (if any) under a new backup name: a second hard
 * link, so that path stays in place until the rename; where the file system
 * has no hard links, the file is moved aside. A folder at path is left
 * where it is (the rename onto it fails). */
static int keep_previous(const char *path, char *backup, size_t size, int *how)
{
    struct stat st;
    *how = KEPT_NOTHING;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode)) return 0;
    for (int i = 0; i < TRIES; i++) {
        if (sibling_name(backup, size, path, BACKUP_MARK) != 0) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (link(path, backup) == 0) { *how = KEPT_LINK; return 0; }
        if (errno == EEXIST) continue;
        struct stat b;
        if (lstat(backup, &b) == 0) continue;          /* taken meanwhile */
        if (rename(path, backup) == 0) { *how = KEPT_MOVED; return 0; }
        return -1;
    }
    errno = EEXIST;
    return -1;
}

int ae_atomic_group_commit(ae_atomic_group *g, ae_error *err)
{
    if (current_group == g) current_group = NULL;
    if (g->failed) {
        ae_fail(err, "%s", g->failed_msg);
        ae_atomic_group_abort(g);
        return -1;
    }
    char backup[AE_ATOMIC_GROUP_MAX][4200];
    int how[AE_ATOMIC_GROUP_MAX];
    int done = 0, e = 0;
    for (; done < g->n; done++) {
        if (keep_previous(g->path[done], backup[done], sizeof backup[done], &how[done]) != 0) {
            e = errno;
            break;
        }
        if (rename(g->tmp[done], g->path[done]) != 0) {
            e = errno;
            if (how[done] == KEPT_LINK) unlink(backup[done]);
            if (how[done] == KEPT_MOVED) rename(backup[done], g->path[done]);
            break;
        }
    }
    if (done < g->n) {                     /* put back what was replaced */
        const char *failed = g->path[done];
        char name[4096];
        snprintf(name, sizeof name, "%s", failed);
        for (int i = done - 1; i >= 0; i--) {
            if (how[i] == KEPT_NOTHING) unlink(g->path[i]);
            else rename(backup[i], g->path[i]);
        }
        for (int i = done; i < g->n; i++) remove(g->tmp[i]);
        group_end(g);
        return ae_fail(err, "%s: write failed: %s", name, strerror(e ? e : EIO));
    }
    for (int i = 0; i < g->n; i++) {
        if (how[i] != KEPT_NOTHING) unlink(backup[i]);
        sync_parent_dir(g->path[i]);
    }
    group_end(g);
    return 0;
}
