/* ae_train_ranks through the public API, without MPI: the ranks are
 * pthreads of this process, each with its own model, joined by an
 * in-memory ae_ranks (one FIFO of messages per ordered pair of ranks, as
 * MPI's point-to-point messages do not overtake). R ranks of T threads
 * give the model, validation losses and latent Gaussian of ae_train with
 * R x T threads, bit for bit (conv AE, dense VAE whose 807,700 gradients
 * take several pipelined segments, AAE); a rank with another learning
 * rate or other pixels makes every rank fail with one message naming it;
 * rank 0's callback stops every rank and rank 0 alone writes the
 * checkpoint, which records R x T threads: resumed in one process, or
 * across ranks that each get its bytes from rank 0
 * (ae_checkpoint_load_ranks), it ends on the unbroken run's model. */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include "synthetic_data.h"
#include "aekit.h"
#include "model/model.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { MAX_RANKS = 4 };

/* ---- an in-memory transport ------------------------------------------------------ */

typedef struct message {
    struct message *next;
    size_t bytes;
    unsigned char data[];
} message;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    message *head[MAX_RANKS][MAX_RANKS], *tail[MAX_RANKS][MAX_RANKS];   /* [from][to] */
} hub;

typedef struct { hub *h; int rank, size; } endpoint;

static int hub_send(void *user, int to, const void *buf, size_t bytes)
{
    endpoint *e = user;
    message *m = malloc(sizeof *m + bytes);
    if (!m) return -1;
    m->next = NULL;
    m->bytes = bytes;
    if (bytes) memcpy(m->data, buf, bytes);
    pthread_mutex_lock(&e->h->mu);
    message **tail = &e->h->tail[e->rank][to];
    if (*tail) (*tail)->next = m;
    else e->h->head[e->rank][to] = m;
    *tail = m;
    pthread_cond_broadcast(&e->h->cv);
    pthread_mutex_unlock(&e->h->mu);
    return 0;
}

static int hub_recv(void *user, int from, void *buf, size_t bytes)
{
    endpoint *e = user;
    pthread_mutex_lock(&e->h->mu);
    while (!e->h->head[from][e->rank]) pthread_cond_wait(&e->h->cv, &e->h->mu);
    message *m = e->h->head[from][e->rank];
    e->h->head[from][e->rank] = m->next;
    if (!m->next) e->h->tail[from][e->rank] = NULL;
    pthread_mutex_unlock(&e->h->mu);
    int ok = m->bytes == bytes;   /* both sides agree on every size */
    if (ok && bytes) memcpy(buf, m->data, bytes);
    free(m);
    return ok ? 0 : -1;
}

static int hub_broadcast(void *user, int root, void *buf, size_t bytes)
{
    endpoint *e = user;
    if (e->rank != root) return hub_recv(user, root, buf, bytes);
    for (int r = 0; r < e->size; r++)
        if (r != root && hub_send(user, r, buf, bytes)) return -1;
    return 0;
}

/* ---- data and runs --------------------------------------------------------------- */


typedef struct {
    const char *preset;
    int latent;
    const ae_dataset *train, *val;
    ae_train_options opt;
    ae_ranks ranks;
    endpoint ep;
    int stop_step;          /* > 0: rank 0's callback stops after this step of epoch 1 */
    const char *resume;     /* a checkpoint to go on from (ae_checkpoint_load_ranks) */
    ae_model *m;
    ae_progress last;       /* the last end-of-epoch report */
    int rc;
    ae_error err;
} rank_run;

static int on_progress(const ae_progress *p, void *user)
{
    rank_run *r = user;
    if (p->end_of_epoch) r->last = *p;
    return r->stop_step > 0 && r->ranks.rank == 0 && !p->end_of_epoch && p->epoch == 1 &&
           p->step == r->stop_step;
}

static void *run_rank(void *arg)
{
    rank_run *r = arg;
    if (r->resume) {        /* opt.threads per rank; the rest is the checkpoint's */
        ae_train_state *st = NULL;
        ae_train_options stored;
        r->rc = ae_checkpoint_load_ranks(r->resume, &r->ranks, &r->m, &stored, &st, &r->err);
        stored.threads = r->opt.threads;
        if (r->rc == 0)
            r->rc = ae_train_resume_ranks(r->m, r->train, r->val, &stored, st, &r->ranks, on_progress, r, &r->err);
        ae_train_state_free(st);
        return NULL;
    }
    r->rc = ae_model_from_preset(&r->m, r->preset, r->latent, &r->err);
    if (r->rc == 0)
        r->rc = ae_train_ranks(r->m, r->train, r->val, &r->opt, &r->ranks, on_progress, r, &r->err);
    return NULL;
}

/* Trains `size` ranks of opt->threads threads each; runs[i].opt may be edited by `edit`. */
static const char *resume_from;   /* train_ranks resumes this checkpoint when set */

static void train_ranks(rank_run *runs, int size, const char *preset, int latent, const ae_dataset *train,
                        const ae_dataset *val, const ae_train_options *opt, int stop_step,
                        void (*edit)(rank_run *))
{
    static hub h;
    memset(&h, 0, sizeof h);
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    pthread_t tid[MAX_RANKS];
    for (int i = 0; i < size; i++) {
        rank_run *r = &runs[i];
        memset(r, 0, sizeof *r);
        r->preset = preset;
        r->latent = latent;
        r->train = train;
        r->val = val;
        r->opt = *opt;
        r->stop_step = stop_step;
        r->resume = resume_from;
        r->ep = (endpoint){ &h, i, size };
        r->ranks = (ae_ranks){ .rank = i, .size = size, .user = &r->ep,
                               .send = hub_send, .recv = hub_recv, .broadcast = hub_broadcast };
        if (edit) edit(r);
    }
    for (int i = 0; i < size; i++) pthread_create(&tid[i], NULL, run_rank, &runs[i]);
    for (int i = 0; i < size; i++) pthread_join(tid[i], NULL);
    for (int a = 0; a < MAX_RANKS; a++)
        for (int b = 0; b < MAX_RANKS; b++) CHECK(!h.head[a][b], "message %d -> %d left unread", a, b);
    pthread_mutex_destroy(&h.mu);
    pthread_cond_destroy(&h.cv);
}

static void free_runs(rank_run *runs, int size)
{
    for (int i = 0; i < size; i++) ae_model_free(runs[i].m);
}

static int same_params(const ae_model *a, const ae_model *b)
{
    return a && b && a->nparams == b->nparams && memcmp(a->params, b->params, a->nparams * sizeof(float)) == 0;
}

static int same_meta(const ae_model *a, const ae_model *b, const char *key)
{
    const char *x = ae_model_meta(a, key), *y = ae_model_meta(b, key);
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

static void check_same_model(const char *preset, int latent, int size, int threads, const ae_dataset *train,
                             const ae_dataset *val)
{
    ae_train_options opt;
    ae_train_options_default(&opt);
    opt.epochs = 2;
    opt.batch = 16;
    opt.seed = 11;
    opt.threads = size * threads;
    ae_model *one = NULL;
    ae_error err = {{0}};
    rank_run single = { 0 };
    ae_model_from_preset(&one, preset, latent, &err);
    single.stop_step = 0;
    int rc = ae_train(one, train, val, &opt, on_progress, &single, &err);
    CHECK(rc == 0, "%s: ae_train: %s", preset, err.msg);

    rank_run runs[MAX_RANKS];
    opt.threads = threads;
    train_ranks(runs, size, preset, latent, train, val, &opt, 0, NULL);
    for (int i = 0; i < size; i++) {
        CHECK(runs[i].rc == 0, "%s rank %d: %s", preset, i, runs[i].err.msg);
        CHECK(same_params(runs[i].m, one), "%s: rank %d of %d x %d threads has other weights than %d threads",
              preset, i, size, threads, size * threads);
        CHECK(memcmp(&runs[i].last.val_loss, &single.last.val_loss, sizeof(double)) == 0 &&
              memcmp(&runs[i].last.train_loss, &single.last.train_loss, sizeof(double)) == 0,
              "%s rank %d: losses %.17g %.17g, one process %.17g %.17g", preset, i, runs[i].last.train_loss,
              runs[i].last.val_loss, single.last.train_loss, single.last.val_loss);
        CHECK(runs[i].m && same_meta(runs[i].m, one, "aekit.latent.mean") &&
              same_meta(runs[i].m, one, "aekit.latent.std"), "%s rank %d: latent Gaussian differs", preset, i);
    }
    free_runs(runs, size);
    ae_model_free(one);
}

static void other_lr(rank_run *r) { if (r->ranks.rank == 1) r->opt.lr = 2e-3; }
static const ae_dataset *other_train;
static void other_data(rank_run *r) { if (r->ranks.rank == 1) r->train = other_train; }

static void check_refused(void (*edit)(rank_run *), const ae_dataset *train, const ae_dataset *val,
                          const char *needle)
{
    ae_train_options opt;
    ae_train_options_default(&opt);
    opt.epochs = 1;
    opt.threads = 1;
    rank_run runs[MAX_RANKS];
    train_ranks(runs, 3, "conv", 0, train, val, &opt, 0, edit);
    for (int i = 0; i < 3; i++) {
        CHECK(runs[i].rc == -1, "rank %d trained although rank 1 differs", i);
        CHECK(strstr(runs[i].err.msg, "rank 1: ") && strstr(runs[i].err.msg, needle),
              "rank %d: '%s' does not name rank 1 and '%s'", i, runs[i].err.msg, needle);
        CHECK(strcmp(runs[i].err.msg, runs[0].err.msg) == 0, "rank %d's message is not rank 0's", i);
        CHECK(!strstr(runs[i].err.msg, "--"), "rank %d: '%s' names a CLI flag", i, runs[i].err.msg);
    }
    free_runs(runs, 3);
}

/* Ranks x threads past AE_MAX_THREADS: refused by every rank before
 * training (its checkpoints, which record that count, could not load). */
static void check_too_many_workers(const ae_dataset *train, const ae_dataset *val)
{
    ae_train_options opt;
    ae_train_options_default(&opt);
    opt.epochs = 1;
    opt.threads = AE_MAX_THREADS / 2 + 1;
    rank_run runs[MAX_RANKS];
    train_ranks(runs, 2, "conv", 0, train, val, &opt, 0, NULL);
    for (int i = 0; i < 2; i++)
        CHECK(runs[i].rc == -1 && strstr(runs[i].err.msg, "at most 256"), "rank %d: rc %d, '%s'", i, runs[i].rc,
              runs[i].err.msg);
    free_runs(runs, 2);
}

/* Rank 0's callback stops both ranks at step 3; its checkpoint, resumed in
 * one process (with the 2 threads it records), ends on the unbroken model. */
static void check_stop_and_resume(const ae_dataset *train, const ae_dataset *val)
{
    char dir[] = "/tmp/aekit-test-ranks-XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
    ae_train_options opt;
    ae_train_options_default(&opt);
    opt.epochs = 2;
    opt.batch = 16;
    opt.seed = 4;
    opt.threads = 2;
    ae_model *whole = NULL;
    ae_error err = {{0}};
    ae_model_from_preset(&whole, "conv", 0, &err);
    CHECK(ae_train(whole, train, val, &opt, NULL, NULL, &err) == 0, "unbroken run: %s", err.msg);

    opt.threads = 1;
    opt.checkpoint = path;
    rank_run runs[MAX_RANKS];
    train_ranks(runs, 2, "conv", 0, train, val, &opt, 3, NULL);
    CHECK(runs[0].rc == 0 && runs[1].rc == 0, "stopped ranks: %s / %s", runs[0].err.msg, runs[1].err.msg);
    CHECK(runs[1].last.epoch == 0, "rank 1 went on to an epoch's end after rank 0 stopped");
    free_runs(runs, 2);

    ae_model *m = NULL;
    ae_train_state *st = NULL;
    ae_train_options stored;
    CHECK(ae_checkpoint_load(path, &m, &stored, &st, &err) == 0, "load: %s", err.msg);
    if (st) {
        ae_train_position pos;
        ae_train_state_position(st, &pos);
        CHECK(pos.epoch == 1 && pos.step == 3, "checkpoint at epoch %d step %d, not 1, 3", pos.epoch, pos.step);
        CHECK(stored.threads == 2, "the checkpoint records %d threads, not ranks x threads = 2", stored.threads);
        CHECK(ae_train_resume(m, train, val, &stored, st, NULL, NULL, &err) == 0, "resume: %s", err.msg);
        CHECK(same_params(m, whole), "resumed in one process: not the unbroken run's weights");
    }
    ae_train_state_free(st);
    ae_model_free(m);

    /* resumed across 2 ranks of 1 thread (the file untouched by the resume
     * above: it writes no checkpoint): every rank reads rank 0's bytes and
     * ends on the unbroken model; rank 1 with other pixels is refused */
    resume_from = path;
    opt.checkpoint = NULL;
    train_ranks(runs, 2, "conv", 0, train, val, &opt, 0, NULL);
    for (int i = 0; i < 2; i++) {
        CHECK(runs[i].rc == 0, "resumed rank %d: %s", i, runs[i].err.msg);
        CHECK(runs[i].m && same_params(runs[i].m, whole), "resumed across 2 ranks: rank %d's weights are not "
              "the unbroken run's", i);
    }
    free_runs(runs, 2);
    train_ranks(runs, 2, "conv", 0, train, val, &opt, 0, other_data);
    for (int i = 0; i < 2; i++)
        CHECK(runs[i].rc != 0 && strstr(runs[i].err.msg, "rank 1: ") && strstr(runs[i].err.msg, "other pixels"),
              "rank %d of a resume with other pixels on rank 1: rc %d, '%s'", i, runs[i].rc, runs[i].err.msg);
    free_runs(runs, 2);
    resume_from = NULL;
    ae_model_free(whole);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    ae_dataset *train = synthetic_data(100, 1), *val = synthetic_data(70, 2);
    other_train = synthetic_data(100, 3);
    check_same_model("conv", 0, 3, 1, train, val);
    check_same_model("vae", 0, 2, 2, train, val);
    check_same_model("aae", 0, 2, 1, train, val);
    check_refused(other_lr, train, val, "learning rate (option lr 0.002)");
    check_refused(other_data, train, val, "training data");
    check_stop_and_resume(train, val);
    check_too_many_workers(train, val);
    ae_dataset_free((ae_dataset *)other_train);
    ae_dataset_free(train);
    ae_dataset_free(val);
    TEST_DONE();
}
