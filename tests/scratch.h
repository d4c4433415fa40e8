/* A scratch folder for tests that write files: scratch_open makes
 * /tmp/aekit_NAME_XXXXXX, tmp_path names files in it, scratch_close empties
 * and removes it (AEKIT_KEEP_TEST_FILES=1 keeps it, to look at the files)
 * and checks that no atomic write left a temporary file behind.
 * Include after test.h (CHECK), with _POSIX_C_SOURCE 200809L (mkdtemp). */
#ifndef AEKIT_TEST_SCRATCH_H
#define AEKIT_TEST_SCRATCH_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aekit/files.h"

static char scratch_dir[64];

/* 0, or -1 after printing why the folder could not be made. */
static int scratch_open(const char *name)
{
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/aekit_%s_XXXXXX", name);
    if (mkdtemp(scratch_dir)) return 0;
    perror("mkdtemp");
    return -1;
}

/* A path in the scratch folder; rotating buffers so that a few results
 * can be held at once. */
static const char *tmp_path(const char *name)
{
    static char buf[8][sizeof scratch_dir + 1 + 256]; /* room for any d_name */
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", scratch_dir, name);
    return b;
}

static void scratch_close(void)
{
    int tmps = 0;
    DIR *d = opendir(scratch_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (ae_atomic_is_temp(e->d_name)) tmps++;
        if (!getenv("AEKIT_KEEP_TEST_FILES")) remove(tmp_path(e->d_name));
    }
    if (d) closedir(d);
    CHECK(tmps == 0, "%d temporary files left", tmps);
    if (!getenv("AEKIT_KEEP_TEST_FILES")) rmdir(scratch_dir);
    else printf("files kept in %s\n", scratch_dir);
}

#endif
