/* A checkpoint whose model tensors the description cannot take is refused
 * from its header, before the data section is read: a 500 MB tensor in
 * place of encoder.0.weight (a sparse file) costs a few MB, with the peak
 * RSS of a forked child bounded (never timed). So is one whose shuffled
 * order does not hold its training images (the check once came after the
 * model's data, and with it all 500 MB, were read). */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "peak_rss.h"
#include "test.h"
#include "temp_dir.h"

#include <stdint.h>

static int stop_at_step_2(const ae_progress *p, void *user)
{
    (void)user;
    return !p->end_of_epoch && p->epoch == 1 && p->step == 2;
}

/* Rewrites the checkpoint at `from` into `to` with tensor `name` replaced
 * by one of 125,000,000 4-byte values (dtype F32 or I32) after the data
 * section. */
static int swap_in_big_tensor(const char *from, const char *to, const char *name, const char *dtype)
{
    static uint8_t buf[1 << 22];
    size_t n = read_all(from, buf, sizeof buf);
    if (n < 8 || n == sizeof buf) return -1;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
    if (hlen > n - 8) return -1;
    size_t data = n - 8 - (size_t)hlen;
    char *json = calloc((size_t)hlen + 256, 1);
    memcpy(json, buf + 8, (size_t)hlen);
    char key[96];
    snprintf(key, sizeof key, "\"%s\":{", name);
    char *entry = strstr(json, key);
    char *end = entry ? strchr(entry, '}') : NULL;
    if (!end) {
        free(json);
        return -1;
    }
    char repl[200];
    snprintf(repl, sizeof repl, "\"%s\":{\"dtype\":\"%s\",\"shape\":[125000000],"
             "\"data_offsets\":[%zu,%zu]}", name, dtype, data, data + 500000000);
    size_t head = (size_t)(entry - json), tail_at = (size_t)(end + 1 - json);
    size_t tail = strlen(json + tail_at), len = head + strlen(repl) + tail;
    char *out = malloc(len + 8);
    memcpy(out, json, head);
    memcpy(out + head, repl, strlen(repl));
    memcpy(out + head + strlen(repl), json + tail_at, tail);
    while (len % 8) out[len++] = ' ';
    FILE *f = fopen(to, "wb");
    uint8_t lenbuf[8];
    for (int i = 0; i < 8; i++) lenbuf[i] = (uint8_t)((uint64_t)len >> (8 * i));
    int ok = f && fwrite(lenbuf, 1, 8, f) == 8 && fwrite(out, 1, len, f) == len &&
             fwrite(buf + 8 + hlen, 1, data, f) == data && ftruncate(fileno(f), (off_t)(8 + len + data + 500000000)) == 0;
    if (f) ok &= fclose(f) == 0;
    free(json);
    free(out);
    return ok ? 0 : -1;
}

static int load_measured(void *path, char *msg, size_t size)
{
    ae_model *m = NULL;
    ae_train_options o;
    ae_train_state *st = NULL;
    ae_error err = {{0}};
    int rc = ae_checkpoint_load(path, &m, &o, &st, &err);
    snprintf(msg, size, "%s", err.msg);
    ae_train_state_free(st);
    ae_model_free(m);
    return rc == 0 ? 0 : 1;
}

int main(void)
{
    if (temp_dir_open("ckpt-header") != 0) return 2;
    ae_dataset ds = { .n = 48, .c = 1, .h = 28, .w = 28 };
    ds.pixels = malloc(48 * 784);
    for (size_t i = 0; i < 48 * 784; i++) ds.pixels[i] = (uint8_t)(i * 37);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 1;
    o.batch = 16;
    o.threads = 1;
    o.checkpoint = at("checkpoint.safetensors");
    ae_model *m = NULL;
    ae_error err = {{0}};
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0 &&
              ae_train(m, &ds, NULL, &o, stop_at_step_2, NULL, &err) == 0, "%s", err.msg);
    ae_model_free(m);
    free(ds.pixels);

    char msg[1024];
    long peak = 0;
    int rc = run_measured(load_measured, (void *)at("checkpoint.safetensors"), &peak, msg, sizeof msg);
    CHECK(rc == 0, "the checkpoint loads: %s", msg);
    CHECK(swap_in_big_tensor(at("checkpoint.safetensors"), at("big.safetensors"), "encoder.0.weight",
                             "F32") == 0, "big tensor written");
    rc = run_measured(load_measured, (void *)at("big.safetensors"), &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, "tensor 'encoder.0.weight' has 125000000 values"), "refused: %s", msg);
    CHECK(peak < 100 * 1024, "from the header: memory %ld KiB (bound 100 MiB)", peak);

    CHECK(swap_in_big_tensor(at("checkpoint.safetensors"), at("big-order.safetensors"),
                             "aekit.checkpoint.order", "I32") == 0, "big order written");
    rc = run_measured(load_measured, (void *)at("big-order.safetensors"), &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, "\"aekit.checkpoint.order\" is missing or does not hold the 48 "
                                 "training images"), "order refused: %s", msg);
    CHECK(peak < 100 * 1024, "order from the header: memory %ld KiB (bound 100 MiB)", peak);
    remove_tree(root);
    TEST_DONE();
}
