/* Shared by the libFuzzer harnesses: a private temporary folder per process
 * (the parsers read files by path), removed at exit. */
#ifndef AEKIT_FUZZ_COMMON_H
#define AEKIT_FUZZ_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fz_dir_path[256];

/* Removes the files (and one level of subfolders) under dir, then dir. */
static void fz_rmtree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            struct stat st;
            if (depth < 2 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                fz_rmtree(p, depth + 1);
            else
                unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void fz_cleanup(void)
{
    if (fz_dir_path[0])
        fz_rmtree(fz_dir_path, 0);
}

/* The per-process folder, created on first use. */
static const char *fz_dir(void)
{
    if (!fz_dir_path[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(fz_dir_path, sizeof fz_dir_path, "%s/aekit-fuzz-XXXXXX",
                 base && base[0] ? base : "/tmp");
        if (!mkdtemp(fz_dir_path)) {
            perror("aekit fuzz: mkdtemp");
            abort();
        }
        atexit(fz_cleanup);
    }
    return fz_dir_path;
}

/* path = <folder>/<name>; returns path. */
static inline const char *fz_path(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", fz_dir(), name);
    return path;
}

/* Writes the bytes to path (replacing it); aborts on I/O errors, which
 * would otherwise look like parser findings. */
static inline void fz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Reads every byte of a buffer so that ASan sees any bad pointer or size. */
static inline void fz_touch(const void *p, size_t n)
{
    const volatile uint8_t *b = p;
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= b[i];
    (void)x;
}

#endif
