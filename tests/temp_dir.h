/* A temp folder for tests that write nested files and folders: temp_dir_open
 * makes /tmp/aekit-test-NAME-XXXXXX into `root`, at() names a path in it,
 * remove_tree() removes a file or a folder with everything below it; plus
 * write_raw / read_all for whole files. (tests/scratch.h is the flat
 * variant that also checks for temporary files left behind.)
 * Include with _POSIX_C_SOURCE 200809L (mkdtemp, lstat). */
#ifndef AEKIT_TEST_TEMP_DIR_H
#define AEKIT_TEST_TEMP_DIR_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256]; /* the temp folder everything is written into */

/* 0, or -1 after printing why the folder could not be made. */
static inline int temp_dir_open(const char *name)
{
    snprintf(root, sizeof root, "/tmp/aekit-test-%s-XXXXXX", name);
    if (mkdtemp(root)) return 0;
    perror("mkdtemp");
    return -1;
}

/* root/name; rotating buffers so that a few results can be held at once. */
static inline const char *at(const char *name)
{
    static char paths[16][1024];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, sizeof paths[0], "%s/%s", root, name);
    return p;
}

static inline void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char sub[2048];
        while (d && (e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
                remove_tree(sub);
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Writes n bytes to path; exits with status 2 when it cannot. */
static inline void write_raw(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

/* Up to cap bytes of path into buf; the count read (0 if it cannot be read). */
static inline size_t read_all(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f)
        fclose(f);
    return n;
}

#endif
