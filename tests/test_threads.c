/* Thread counts: ae_threads_resolve (0 = all cores; 1 to 256 exactly as
 * asked, on any machine; anything else refused) and the command line's cap
 * ae_threads_max (4 per core, 256 in all). The same seed and thread count
 * give the same bits on a machine with fewer cores: a child process
 * restricted to one core (sched_setaffinity before exec, so that OpenMP
 * sees one processor) trains with 16 threads (the library once ran 4 there,
 * 8 on 2 cores) and resumes a checkpoint of an 8-thread run, and both end
 * bit-identical to the runs made here. */
#define _GNU_SOURCE
#include "aekit.h"
#include "model/model.h" /* nparams, params */
#include "test.h"
#include "temp_dir.h"

#include <omp.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

enum { RUN_THREADS = 8, MANY_THREADS = 16 };

static int stop_at_step_3(const ae_progress *p, void *user)
{
    (void)user;
    return !p->end_of_epoch && p->epoch == 1 && p->step == 3;
}

static ae_dataset *make_data(int n)
{
    ae_dataset *ds = calloc(1, sizeof *ds);
    ds->n = n;
    ds->c = 1;
    ds->h = ds->w = 28;
    ds->pixels = malloc((size_t)n * 784);
    ds->labels = calloc((size_t)n, 1);
    for (size_t i = 0; i < (size_t)n * 784; i++) ds->pixels[i] = (uint8_t)((i * 2654435761u) >> 24);
    return ds;
}

static void options(ae_train_options *o)
{
    ae_train_options_default(o);
    o->epochs = 2;
    o->batch = 16;
    o->seed = 5;
    o->threads = RUN_THREADS;
}

static void test_resolve(void)
{
    int cores = omp_get_num_procs(), cap = ae_threads_max();
    int want = AE_THREADS_PER_CORE * cores < AE_MAX_THREADS ? AE_THREADS_PER_CORE * cores : AE_MAX_THREADS;
    CHECK(cap == want, "the command line's cap %d, expected %d for %d cores", cap, want, cores);
    CHECK(ae_threads_resolve(0) == (cores < AE_MAX_THREADS ? cores : AE_MAX_THREADS), "0 = all cores: %d",
          ae_threads_resolve(0));
    CHECK(ae_threads_resolve(1) == 1 && ae_threads_resolve(cap + 1) == cap + 1 &&
              ae_threads_resolve(AE_MAX_THREADS) == AE_MAX_THREADS, "1 to %d exactly as asked, "
          "above the command line's cap too: %d for %d", AE_MAX_THREADS, ae_threads_resolve(cap + 1), cap + 1);
    CHECK(ae_threads_resolve(AE_MAX_THREADS + 1) == -1 && ae_threads_resolve(2147483647) == -1 &&
              ae_threads_resolve(-3) == -1, "out of range: -1");
    /* refused by the functions that take a count, with the range */
    ae_error err = {{0}};
    ae_model *m = NULL;
    float x[784] = {0}, y[784];
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_model_reconstruct(m, NULL, x, 1, y, AE_MAX_THREADS + 1, &err) == -1 &&
              strstr(err.msg, "threads must be 0 (all cores) to 256, got 257"), "reconstruct: %s", err.msg);
    CHECK(ae_model_reconstruct(m, NULL, x, 1, y, -1, &err) == -1, "reconstruct with -1 threads refused");
    ae_model_free(m);
}

/* In the child, on one core: train with MANY_THREADS threads, compare with
 * the model of the same training here. Exit status: 0 same, 1 different,
 * 2 failed. */
static int train_child(const char *reference)
{
    ae_error err = {{0}};
    ae_model *m = NULL, *ref = NULL;
    ae_train_options o;
    options(&o);
    o.threads = MANY_THREADS;
    if (omp_get_num_procs() != 1) {
        fprintf(stderr, "child: %d processors\n", omp_get_num_procs());
        return 2;
    }
    ae_dataset *train = make_data(80);
    int rc = 2;
    if (ae_model_from_preset(&m, "conv", 0, &err) != 0 || ae_model_load(&ref, reference, &err) != 0 ||
        ae_train(m, train, NULL, &o, NULL, NULL, &err) != 0)
        fprintf(stderr, "child: %s\n", err.msg);
    else /* 4 threads would sum the gradients in another order */
        rc = m->nparams == ref->nparams &&
             memcmp(m->params, ref->params, m->nparams * sizeof(float)) == 0 ? 0 : 1;
    ae_dataset_free(train);
    ae_model_free(m);
    ae_model_free(ref);
    return rc;
}

/* In the child, on one core: resume the checkpoint, compare with the model
 * of the uninterrupted run. Exit status: 0 same, 1 different, 2 failed. */
static int resume_child(const char *ckpt, const char *reference)
{
    ae_error err = {{0}};
    ae_model *m = NULL, *ref = NULL;
    ae_train_options o;
    ae_train_state *st = NULL;
    if (omp_get_num_procs() != 1) {
        fprintf(stderr, "child: %d processors\n", omp_get_num_procs());
        return 2;
    }
    if (ae_checkpoint_load(ckpt, &m, &o, &st, &err) != 0 || ae_model_load(&ref, reference, &err) != 0) {
        fprintf(stderr, "child: %s\n", err.msg);
        return 2;
    }
    ae_dataset *train = make_data(80);
    int rc = 2;
    if (o.threads != RUN_THREADS)
        fprintf(stderr, "child: the checkpoint says %d threads\n", o.threads);
    else if (ae_train_resume(m, train, NULL, &o, st, NULL, NULL, &err) != 0)
        fprintf(stderr, "child: %s\n", err.msg);
    else /* 4 threads would sum the gradients in another order */
        rc = m->nparams == ref->nparams &&
             memcmp(m->params, ref->params, m->nparams * sizeof(float)) == 0 ? 0 : 1;
    ae_train_state_free(st);
    ae_dataset_free(train);
    ae_model_free(m);
    ae_model_free(ref);
    return rc;
}

/* Runs this test program with args in a child restricted to one core;
 * returns its exit status (-1: killed). */
static int on_one_core(const char *self, const char *what, const char *a, const char *b)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(3);
        execl("/proc/self/exe", self, what, a, b, (char *)NULL);
        _exit(4);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_fewer_cores(const char *self)
{
    ae_error err = {{0}};
    ae_dataset *train = make_data(80);
    ae_train_options o;
    options(&o);
    ae_model *ref = NULL, *many = NULL, *m = NULL;
    CHECK(ae_model_from_preset(&ref, "conv", 0, &err) == 0 && ae_train(ref, train, NULL, &o, NULL, NULL, &err) == 0 &&
              ae_model_save(ref, at("reference.safetensors"), &err) == 0, "%s", err.msg);
    o.threads = MANY_THREADS;
    CHECK(ae_model_from_preset(&many, "conv", 0, &err) == 0 && ae_train(many, train, NULL, &o, NULL, NULL, &err) == 0 &&
              ae_model_save(many, at("many.safetensors"), &err) == 0, "%s", err.msg);
    o.threads = RUN_THREADS;
    o.checkpoint = at("checkpoint.safetensors");
    o.checkpoint_steps = 0;
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0 &&
              ae_train(m, train, NULL, &o, stop_at_step_3, NULL, &err) == 0, "%s", err.msg);
    ae_model_free(ref);
    ae_model_free(many);
    ae_model_free(m);
    ae_dataset_free(train);

    int code = on_one_core(self, "--train-child", at("many.safetensors"), "-");
    CHECK(code == 0, "trained on one core with %d threads, as here: child status %d "
          "(1: another result, 2: failed)", MANY_THREADS, code);
    code = on_one_core(self, "--resume-child", at("checkpoint.safetensors"), at("reference.safetensors"));
    CHECK(code == 0, "resumed on one core with the run's %d threads: child status %d "
          "(1: another result, 2: failed)", RUN_THREADS, code);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--train-child") == 0)
        return train_child(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--resume-child") == 0)
        return resume_child(argv[2], argv[3]);
    if (temp_dir_open("threads") != 0) return 2;
    test_resolve();
    test_fewer_cores(argv[0]);
    remove_tree(root);
    TEST_DONE();
}
