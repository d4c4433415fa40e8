/* Trains the lesson's convolutional autoencoder on a slice of MNIST through
 * the public API only, saves it, loads it back and uses it.
 *
 *   cc train_and_use.c $(pkg-config --cflags --libs aekit) -o train_and_use
 *   ./train_and_use [DATA] [TRAIN_IMAGES] [EPOCHS]      (default: mnist 6000 1)
 */
#include <aekit.h>

#include <stdio.h>
#include <stdlib.h>

static int report(const ae_progress *p, void *user)
{
    (void)user;
    if (p->end_of_epoch)
        printf("epoch %d/%d  train %.4f  val %.4f  (%.0f images/s)\n",
               p->epoch, p->epochs, p->train_loss, p->val_loss, p->images_per_second);
    return 0; /* non-zero would stop training */
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "mnist";
    int limit = argc > 2 ? atoi(argv[2]) : 6000;
    int epochs = argc > 3 ? atoi(argv[3]) : 1;
    ae_error err;
    ae_dataset *train = NULL, *test = NULL;
    ae_model *model = NULL, *loaded = NULL;
    float *x = NULL, *y = NULL, *codes = NULL;
    int status = 1;

    if (ae_dataset_open(&train, data, AE_SPLIT_TRAIN, NULL, &err) ||
        ae_dataset_open(&test, data, AE_SPLIT_TEST, NULL, &err))
        goto fail;
    ae_dataset_truncate(train, limit);
    ae_dataset_truncate(test, 1000);

    if (ae_model_from_preset(&model, "conv", 0, &err)) goto fail;
    printf("conv autoencoder: %zu parameters, latent %zu values\n",
           ae_model_param_count(model), ae_model_latent_size(model));

    ae_train_options opt;
    ae_train_options_default(&opt);   /* Adam 1e-3, batch 128, BCE */
    opt.epochs = epochs;
    opt.seed = 42;
    if (ae_train(model, train, test, &opt, report, NULL, &err)) goto fail;
    if (ae_model_save(model, "example_model.safetensors", &err)) goto fail;

    /* load it back and use it: encode and reconstruct the first 10 test images */
    if (ae_model_load(&loaded, "example_model.safetensors", &err)) goto fail;
    ae_eval_result r;
    if (ae_evaluate(loaded, NULL, test, NULL, &r, 0, &err)) goto fail;
    printf("reloaded model: test BCE %.4f  MSE %.5f  PSNR %.2f dB\n", r.loss, r.mse, r.psnr);

    int n = 10, c, h, w;
    ae_model_input_shape(loaded, &c, &h, &w);
    size_t px = (size_t)c * h * w;
    uint32_t idx[10];
    for (int i = 0; i < n; i++) idx[i] = (uint32_t)i;
    x = malloc(2 * n * px * sizeof(float));
    codes = malloc(n * ae_model_latent_size(loaded) * sizeof(float));
    if (!x || !codes) { fprintf(stderr, "out of memory\n"); goto out; }
    y = x + n * px;
    ae_dataset_batch(test, idx, n, x);
    if (ae_model_encode(loaded, NULL, x, n, codes, 0, &err) ||
        ae_model_reconstruct(loaded, NULL, x, n, y, 0, &err) ||
        ae_png_write_grid("example_reconstructions.png", x, 2, n, c, h, w, 3, &err))
        goto fail;
    printf("first code values: %.3f %.3f %.3f ...\n", codes[0], codes[1], codes[2]);
    printf("wrote example_model.safetensors and example_reconstructions.png\n");
    status = 0;
    goto out;
fail:
    fprintf(stderr, "example: %s\n", err.msg);
out:
    free(x);
    free(codes);
    ae_model_free(model);
    ae_model_free(loaded);
    ae_dataset_free(train);
    ae_dataset_free(test);
    return status;
}
