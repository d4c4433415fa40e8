/* Atomic writes (aekit/files.h): temporaries are new files with
 * unique names next to the target, with the mode of any new file; a
 * symlink at the target is replaced, not written through; a group of
 * files is replaced all together or not at all. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aekit/files.h"
#include "test.h"
#include "temp_dir.h"

static int temps_left(void)
{
    int n = 0;
    DIR *d = opendir(root);
    struct dirent *e;
    while (d && (e = readdir(d))) n += ae_atomic_is_temp(e->d_name);
    if (d) closedir(d);
    return n;
}

static int has_content(const char *path, const char *text)
{
    uint8_t buf[256];
    size_t n = read_all(path, buf, sizeof buf - 1);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

static int write_text(const char *path, const char *text, ae_error *err)
{
    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0) return -1;
    fputs(text, af.f);
    return ae_atomic_commit(&af, err);
}

static void test_names(void)
{
    CHECK(ae_atomic_is_temp_of(".metrics.csv.aekit-tmp-Ab12Cd", "metrics.csv"), "a temporary of metrics.csv");
    CHECK(!ae_atomic_is_temp_of(".metrics.csv.aekit-tmp-Ab12Cd", "loss.png"), "not one of loss.png");
    CHECK(!ae_atomic_is_temp_of(".metrics.csv.aekit-tmp-Ab12C", "metrics.csv"), "five letters");
    CHECK(!ae_atomic_is_temp_of(".metrics.csv.aekit-tmp-Ab12C!", "metrics.csv"), "not a letter");
    CHECK(!ae_atomic_is_temp_of("metrics.csv.tmp.999", "metrics.csv"), "the old pattern");
    CHECK(ae_atomic_is_temp(".x.aekit-tmp-aaaaaa") && ae_atomic_is_temp(".x.aekit-old-Zz0099"), "any temporary");
    CHECK(!ae_atomic_is_temp("notes.tmp.999999") && !ae_atomic_is_temp(".aekit-tmp-aaaaaa") &&
          !ae_atomic_is_temp("x.aekit-tmp-aaaaaa"), "not temporaries");
}

static void test_temporary(void)
{
    ae_error err = {{0}};
    ae_atomic_file a, b;
    const char *path = at("out.bin");
    mode_t old = umask(022);
    CHECK(ae_atomic_open(&a, path, &err) == 0, "%s", err.msg);
    CHECK(ae_atomic_open(&b, path, &err) == 0, "%s", err.msg);
    CHECK(strcmp(a.tmp, b.tmp) != 0, "two temporaries of one file have one name: %s", a.tmp);
    const char *slash = strrchr(a.tmp, '/');
    CHECK(slash && strncmp(a.tmp, root, strlen(root)) == 0 && slash == a.tmp + strlen(root) &&
          ae_atomic_is_temp_of(slash + 1, "out.bin"), "temporary %s: not .out.bin.aekit-tmp-XXXXXX next to it", a.tmp);
    struct stat st;
    CHECK(lstat(a.tmp, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644,
          "temporary mode %o, expected 0644 (0666 less the umask)", (unsigned)(st.st_mode & 0777));
    ae_atomic_abort(&b);
    fputs("new", a.f);
    CHECK(ae_atomic_commit(&a, &err) == 0, "%s", err.msg);
    CHECK(has_content(path, "new"), "committed content");
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "file mode %o", (unsigned)(st.st_mode & 0777));
    umask(077);
    CHECK(write_text(at("private.bin"), "x", &err) == 0, "%s", err.msg);
    CHECK(stat(at("private.bin"), &st) == 0 && (st.st_mode & 0777) == 0600, "umask 077: mode %o",
          (unsigned)(st.st_mode & 0777));
    umask(old);

    /* a symlink at the final name is replaced; its target stays */
    write_raw(at("victim"), "victim", 6);
    CHECK(symlink(at("victim"), at("link.bin")) == 0, "symlink");
    CHECK(write_text(at("link.bin"), "new", &err) == 0, "%s", err.msg);
    CHECK(lstat(at("link.bin"), &st) == 0 && S_ISREG(st.st_mode), "the link is now a plain file");
    CHECK(has_content(at("victim"), "victim"), "the link's target was written through");

    errno = 0;
    CHECK(ae_atomic_open(&a, at("no/such/out.bin"), &err) != 0 && errno == ENOENT &&
          strstr(err.msg, "no/such/out.bin: cannot create"), "missing folder: %s", err.msg);
    CHECK(temps_left() == 0, "%d temporaries left", temps_left());
}

static void test_group(void)
{
    ae_error err = {{0}};
    ae_atomic_group g;

    /* all replaced */
    write_raw(at("a"), "old a", 5);
    ae_atomic_group_begin(&g);
    CHECK(write_text(at("a"), "new a", &err) == 0 && write_text(at("c"), "new c", &err) == 0, "%s", err.msg);
    CHECK(has_content(at("a"), "old a") && access(at("c"), F_OK) != 0, "a group's file replaced before its commit");
    CHECK(ae_atomic_group_commit(&g, &err) == 0, "%s", err.msg);
    CHECK(has_content(at("a"), "new a") && has_content(at("c"), "new c"), "group commit");
    CHECK(temps_left() == 0, "%d temporaries left after a group commit", temps_left());

    /* the third cannot be renamed (a folder has its name): the first two
     * are put back, the one that did not exist is removed */
    unlink(at("c"));
    write_raw(at("a"), "old a", 5);
    CHECK(mkdir(at("b"), 0777) == 0 && mkdir(at("b/x"), 0777) == 0, "mkdir");
    ae_atomic_group_begin(&g);
    CHECK(write_text(at("a"), "new a", &err) == 0 && write_text(at("c"), "new c", &err) == 0 &&
          write_text(at("b"), "new b", &err) == 0, "%s", err.msg);
    CHECK(ae_atomic_group_commit(&g, &err) != 0 && strstr(err.msg, "/b: write failed"), "failed commit: %s", err.msg);
    CHECK(has_content(at("a"), "old a"), "a is not as it was");
    CHECK(access(at("c"), F_OK) != 0, "c, new, was left");
    struct stat st;
    CHECK(stat(at("b"), &st) == 0 && S_ISDIR(st.st_mode) && access(at("b/x"), F_OK) == 0, "the folder b changed");
    CHECK(temps_left() == 0, "%d temporaries left after a failed group commit", temps_left());

    /* abort */
    ae_atomic_group_begin(&g);
    CHECK(write_text(at("a"), "new a", &err) == 0, "%s", err.msg);
    ae_atomic_group_abort(&g);
    CHECK(has_content(at("a"), "old a") && temps_left() == 0, "abort changed a or left its temporary");

    /* one file more than a group holds: the group's commit names it (it
     * said "a file of the group could not be written") and writes none */
    ae_atomic_group_begin(&g);
    char name[32], nth[32];
    for (int i = 0; i <= AE_ATOMIC_GROUP_MAX; i++) {
        snprintf(name, sizeof name, "g%d", i);
        write_text(at(name), "new", &err);
    }
    snprintf(nth, sizeof nth, "/g%d: too many files", AE_ATOMIC_GROUP_MAX);
    CHECK(ae_atomic_group_commit(&g, &err) != 0 && strstr(err.msg, nth), "full group's commit: %s", err.msg);
    CHECK(access(at("g0"), F_OK) != 0 && temps_left() == 0, "a full group wrote a file or left a temporary");

    /* after the group, commits rename at once again */
    CHECK(write_text(at("a"), "after", &err) == 0 && has_content(at("a"), "after"), "commit after a group");
}

/* Legal names up to 255 bytes are written, alone and in a group that
 * replaces them (their temporaries and backups once took 18 bytes more and
 * failed "File name too long" above 237); the temporary of a long name is
 * still recognised as its own, and not as one of a name that shares its
 * first bytes. */
static void test_long_names(void)
{
    ae_error err = {{0}};
    char name[256], other[256], path[4096];
    for (int len = 237; len <= 255; len += 18) {
        name[0] = 'x';                  /* then "é" (2 bytes): the cut falls inside one */
        for (int i = 1; i < len; i++) name[i] = i % 2 ? '\xc3' : '\xa9';
        name[len] = '\0';
        snprintf(path, sizeof path, "%s", at(name));
        CHECK(write_text(path, "first", &err) == 0 && has_content(path, "first"), "%d-byte name: %s", len,
              err.msg);
        ae_atomic_group g;
        ae_atomic_group_begin(&g);
        CHECK(write_text(path, "second", &err) == 0 && ae_atomic_group_commit(&g, &err) == 0 &&
                  has_content(path, "second"), "%d-byte name replaced in a group: %s", len, err.msg);
        ae_atomic_file af;
        CHECK(ae_atomic_open(&af, path, &err) == 0, "%d-byte name: %s", len, err.msg);
        const char *slash = strrchr(af.tmp, '/'), *tmp = slash ? slash + 1 : "";
        CHECK(strlen(tmp) <= 255 && ae_atomic_is_temp_of(tmp, name) && ae_atomic_is_temp(tmp),
              "%d-byte name: temporary %s (%zu bytes) is not its own", len, tmp, strlen(tmp));
        int whole = 1;                  /* every "é" kept whole */
        for (const char *c = tmp; *c; c++)
            if (*c == '\xc3' && c[1] != '\xa9') whole = 0;
        CHECK(whole, "%d-byte name: temporary %s cuts a UTF-8 character", len, tmp);
        memcpy(other, name, (size_t)len + 1);
        other[len - 1] = 'm';            /* the same but for the last byte */
        CHECK(len <= 237 || !ae_atomic_is_temp_of(tmp, other), "%d-byte name: its temporary is taken for "
              "one of a name that differs in the last byte", len);
        ae_atomic_abort(&af);
        unlink(path);
    }
    CHECK(temps_left() == 0, "%d temporaries left", temps_left());
}

/* Leftovers: what a killed writer leaves (a temporary; inside a group's
 * commit, a kept copy ".<name>.aekit-old-XXXXXX") is removed when the next
 * write of that name in the folder commits, alone or in a group; a live
 * writer's temporary (locked) stays, and so do other names' leftovers and
 * files that only look alike. */
static void test_leftovers(void)
{
    ae_error err = {{0}};
    write_raw(at("a"), "old a", 5);
    /* a writer killed after writing its temporary: its lock dies with it */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        ae_atomic_file af;
        if (ae_atomic_open(&af, at("a"), &err) != 0) _exit(1);
        fputs("killed", af.f);
        fflush(af.f);
        _exit(0);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && temps_left() == 1, "a killed writer's temporary");
    write_raw(at(".a.aekit-old-AbC123"), "old a", 5);   /* a commit killed midway */
    write_raw(at(".a.aekit-tmp-XyZ789"), "x", 1);
    write_raw(at(".d.aekit-tmp-XyZ789"), "b", 1);       /* another name's */
    write_raw(at(".a.aekit-tmp-notes"), "n", 1);        /* not a temporary */
    /* a live writer of a: its temporary is locked */
    ae_atomic_file live;
    CHECK(ae_atomic_open(&live, at("a"), &err) == 0, "%s", err.msg);

    ae_atomic_group g;
    ae_atomic_group_begin(&g);
    CHECK(write_text(at("a"), "new a", &err) == 0 && ae_atomic_group_commit(&g, &err) == 0, "%s", err.msg);
    CHECK(has_content(at("a"), "new a"), "group commit");
    CHECK(temps_left() == 2 && access(live.tmp, F_OK) == 0 && access(at(".d.aekit-tmp-XyZ789"), F_OK) == 0 &&
              access(at(".a.aekit-tmp-notes"), F_OK) == 0,
          "after a's group commit: %d temporaries left (expected the live writer's and d's), or a "
          "file that only looks like one removed", temps_left());
    fputs("live", live.f);
    CHECK(ae_atomic_commit(&live, &err) == 0 && has_content(at("a"), "live"), "the live writer: %s", err.msg);

    /* a single commit cleans as well */
    write_raw(at(".d.aekit-old-Qq0000"), "b", 1);
    CHECK(write_text(at("d"), "new d", &err) == 0 && temps_left() == 0, "after d's commit: %d temporaries left",
          temps_left());
    unlink(at(".a.aekit-tmp-notes"));
    unlink(at("a"));
    unlink(at("d"));
}

int main(void)
{
    if (temp_dir_open("atomic") != 0) return 2;
    test_names();
    test_temporary();
    test_group();
    test_long_names();
    test_leftovers();
    remove_tree(root);
    TEST_DONE();
}
