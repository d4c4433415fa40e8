#define _POSIX_C_SOURCE 200809L
#include "aekit/files.h"
#include "core/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_MARK   ".aekit-tmp-"   /* a file being written */
#define BACKUP_MARK ".aekit-old-"   /* a group's copy of a file it replaces (as long) */
#define MARK_LEN    11              /* both marks */
_Static_assert(sizeof TEMP_MARK - 1 == MARK_LEN && sizeof BACKUP_MARK - 1 == MARK_LEN, "mark length");
#define UNIQUE_LEN  6
#define TRIES       100             /* names tried before giving up (EEXIST) */
#define NAME_LIMIT  255             /* bytes in a file name (NAME_MAX of ext4, xfs, btrfs, tmpfs) */
/* the longest name a temporary keeps whole: "." + name + mark + suffix fit */
#define STEM_MAX    (NAME_LIMIT - 1 - MARK_LEN - UNIQUE_LEN)
#define HASH_LEN    9               /* "~" and 8 hex digits */

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

/* The part of a temporary's name that stands for the file name `name`: the
 * name itself when the temporary's name stays within NAME_LIMIT, else its
 * first bytes (whole UTF-8 characters), "~" and 8 hex digits of a hash of
 * the whole name: still recognisable, and distinct from the temporaries of
 * names that only share those first bytes. out holds STEM_MAX + 1 bytes. */
static void temp_stem(const char *name, char *out)
{
    size_t len = strlen(name);
    if (len <= STEM_MAX) {
        memcpy(out, name, len + 1);
        return;
    }
    uint32_t h = 0x811c9dc5u;                       /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) h = (h ^ *c) * 0x01000193u;
    size_t keep = STEM_MAX - HASH_LEN;
    while (keep > 0 && ((unsigned char)name[keep] & 0xc0) == 0x80) keep--; /* not inside a character */
    memcpy(out, name, keep);
    snprintf(out + keep, HASH_LEN + 1, "~%08x", (unsigned)h);
}

/* "<folder>/.<stem><mark>XXXXXX" for path "<folder>/<name>"; -1 if too long. */
static int sibling_name(char *buf, size_t size, const char *path, const char *mark)
{
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path + 1) : 0;
    char suffix[UNIQUE_LEN + 1], stem[STEM_MAX + 1];
    random_suffix(suffix);
    temp_stem(path + dir_len, stem);
    int n = snprintf(buf, size, "%.*s.%s%s%s", dir_len, path, stem, mark, suffix);
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

/* 1 when name is ".<stem of target><mark>XXXXXX". */
static int is_sibling_of(const char *name, const char *target, const char *mark)
{
    char stem[STEM_MAX + 1];
    temp_stem(target, stem);
    size_t t = strlen(stem);
    return name[0] == '.' && strncmp(name + 1, stem, t) == 0 &&
           strncmp(name + 1 + t, mark, MARK_LEN) == 0 && is_suffix(name + 1 + t + MARK_LEN);
}

int ae_atomic_is_temp_of(const char *name, const char *target)
{
    return is_sibling_of(name, target, TEMP_MARK);
}

int ae_atomic_is_temp(const char *name)
{
    size_t len = strlen(name);
    if (name[0] != '.' || len < 1 + MARK_LEN + UNIQUE_LEN) return 0;
    const char *mark = name + len - UNIQUE_LEN - MARK_LEN;
    return (strncmp(mark, TEMP_MARK, MARK_LEN) == 0 || strncmp(mark, BACKUP_MARK, MARK_LEN) == 0) &&
           is_suffix(mark + MARK_LEN);
}

/* 1 when fd is the file named path (not a file put there since). */
static int same_file(int fd, int dir_fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && fstatat(dir_fd, path, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Locks the file fd (opened as path) for this writer: 0, or -1 when it is
 * no longer at path (a cleaner took it between its creation and the lock)
 * or a cleaner holds it now. Where the file system has no flock, 0 without
 * a lock (cleaners cannot lock there either, so they leave it). */
static int claim(int fd, const char *path)
{
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) return errno == EWOULDBLOCK ? -1 : 0;
    return same_file(fd, AT_FDCWD, path) ? 0 : -1;
}

int ae_atomic_open(ae_atomic_file *af, const char *path, ae_error *err)
{
    memset(af, 0, sizeof *af);
    af->lock = -1;
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
        if (fd >= 0 && claim(fd, af->tmp) != 0) { /* a cleaner has it: another name */
            close(fd);
            fd = -1;
            e = EEXIST;
        }
    }
    /* the stream writes through a copy of fd: fd keeps the lock after fclose */
    int wfd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (fd >= 0 && (wfd < 0 || !(af->f = fdopen(wfd, "wb")))) {
        e = errno;
        if (wfd >= 0) close(wfd);
        remove(af->tmp);
        close(fd);
        fd = -1;
    }
    af->lock = fd;
    if (!af->f) {
        af->tmp[0] = '\0';
        ae_fail(err, "%s: cannot create: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}

static void release(int *lock)
{
    if (*lock >= 0) close(*lock);
    *lock = -1;
}

/* Removes the leftovers of path's name in its folder: temporaries and kept
 * files (".<name>.aekit-tmp-" / "-old-" + XXXXXX) that no process holds
 * locked. Only regular files, and only the one that was locked: a name
 * taken over meanwhile is left. */
static void remove_leftovers(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    const char *dir = slash ? dirname(buf) : ".";
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dir_fd >= 0 ? fdopendir(dir_fd) : NULL;
    if (!d) {
        if (dir_fd >= 0) close(dir_fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if ((!is_sibling_of(e->d_name, name, TEMP_MARK) && !is_sibling_of(e->d_name, name, BACKUP_MARK)) ||
            fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        int fd = openat(dir_fd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            same_file(fd, dir_fd, e->d_name))
            unlinkat(dir_fd, e->d_name, 0);
        close(fd);
    }
    closedir(d);
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
        release(&af->lock);
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
        release(&af->lock);
        g->failed = 1;
        snprintf(g->failed_msg, sizeof g->failed_msg, "%s: %s", af->path,
                 g->n < AE_ATOMIC_GROUP_MAX ? "out of memory" : "too many files written together");
        return ae_fail(err, "%s", g->failed_msg);
    }
    g->path[g->n] = path;
    g->tmp[g->n] = tmp;
    g->lock[g->n] = af->lock;
    af->lock = -1;
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
        release(&af->lock);
        return ae_fail(err, "%s: write failed: %s", af->path, strerror(e));
    }
    release(&af->lock);
    sync_parent_dir(af->path);
    remove_leftovers(af->path);
    return 0;
}

void ae_atomic_abort(ae_atomic_file *af)
{
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) remove(af->tmp);
    af->tmp[0] = '\0';
    release(&af->lock);
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
        release(&g->lock[i]);
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
 * where it is (the rename onto it fails). The file is locked (*lock, or -1
 * when it cannot be: not a regular file, no read permission, another
 * holder) before it gets the backup name, so that no other writer's
 * cleaning (remove_leftovers) takes the backup while this group needs it. */
static int keep_previous(const char *path, char *backup, size_t size, int *how, int *lock)
{
    struct stat st;
    *how = KEPT_NOTHING;
    *lock = -1;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode)) return 0;
    int fd = S_ISREG(st.st_mode) ? open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
    if (fd >= 0 && (flock(fd, LOCK_EX | LOCK_NB) != 0 || !same_file(fd, AT_FDCWD, path))) {
        close(fd);
        fd = -1;
    }
    *lock = fd;
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
    int how[AE_ATOMIC_GROUP_MAX], kept_lock[AE_ATOMIC_GROUP_MAX];
    int done = 0, e = 0;
    for (; done < g->n; done++) {
        if (keep_previous(g->path[done], backup[done], sizeof backup[done], &how[done],
                          &kept_lock[done]) != 0) {
            e = errno;
            release(&kept_lock[done]);
            break;
        }
        if (rename(g->tmp[done], g->path[done]) != 0) {
            e = errno;
            if (how[done] == KEPT_LINK) unlink(backup[done]);
            if (how[done] == KEPT_MOVED) rename(backup[done], g->path[done]);
            release(&kept_lock[done]);
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
            release(&kept_lock[i]);
        }
        for (int i = done; i < g->n; i++) remove(g->tmp[i]);
        group_end(g);
        return ae_fail(err, "%s: write failed: %s", name, strerror(e ? e : EIO));
    }
    for (int i = 0; i < g->n; i++) {
        if (how[i] != KEPT_NOTHING) unlink(backup[i]);
        release(&kept_lock[i]);
        sync_parent_dir(g->path[i]);
    }
    for (int i = 0; i < g->n; i++) release(&g->lock[i]);
    for (int i = 0; i < g->n; i++) remove_leftovers(g->path[i]);
    group_end(g);
    return 0;
}
