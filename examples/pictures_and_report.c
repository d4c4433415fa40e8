/* Draws what aekit train leaves in a run folder, for a trained model,
 * through the public API only: reconstructions, the latent scatter plot,
 * a PCA of the codes and a one-page index.html.
 *
 *   cc pictures_and_report.c $(pkg-config --cflags --libs aekit) -o pictures_and_report
 *   ./pictures_and_report MODEL [DATA] [OUT_DIR]     (default: mnist .)
 */
#include <aekit.h>
#include <aekit/analysis.h>
#include <aekit/pictures.h>
#include <aekit/report.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [DATA] [OUT_DIR]\n", argv[0]);
        return 2;
    }
    const char *data = argc > 2 ? argv[2] : "mnist", *dir = argc > 3 ? argv[3] : ".";
    ae_error err;
    ae_model *m = NULL;
    ae_dataset *test = NULL;
    float *codes = NULL;
    ae_pca pca = { 0 };
    int status = 1, c, h, w;
    char rows_png[4096], latent_png[4096], index_html[4096], variance[64];
    snprintf(rows_png, sizeof rows_png, "%s/rows.png", dir);
    snprintf(latent_png, sizeof latent_png, "%s/latent.png", dir);
    snprintf(index_html, sizeof index_html, "%s/index.html", dir);

    if (ae_model_load(&m, argv[1], &err)) goto fail;
    ae_model_output_shape(m, &c, &h, &w);
    ae_image_options fit = { c, h, w, AE_FIT_RESIZE, 1 };
    if (ae_dataset_open(&test, data, AE_SPLIT_TEST, &fit, &err)) goto fail;
    ae_dataset_truncate(test, 500);

    /* originals over reconstructions, and the codes coloured by label */
    if (ae_picture_rows(m, test, 0, 10, 0, NULL, 0, rows_png, NULL, &err) ||
        ae_picture_scatter(m, test, test->n, 0, latent_png, NULL, &err))
        goto fail;

    /* how much of the codes' variance their first principal component holds */
    size_t latent = ae_model_latent_size(m);
    if (!(codes = ae_dataset_codes(m, test, test->n, 0, &err))) goto fail;
    if (latent >= 2) {
        if (ae_pca_fit(&pca, codes, test->n, (int)latent, 1, 0, &err)) goto fail;
        snprintf(variance, sizeof variance, "%.1f%%", 100 * pca.variance[0] / pca.total_variance);
    } else {
        snprintf(variance, sizeof variance, "all (1-D latent)");
    }

    ae_html_setting settings[] = { { "model", argv[1] }, { "data", data },
                                   { "first component of the codes", variance } };
    ae_html_picture pictures[] = { { "rows.png", "10 test images over their reconstructions" },
                                   { "latent.png", "the codes of 500 test images" } };
    ae_html_report page = { .title = "aekit: a model at work", .settings = settings,
                            .nsettings = 3, .pictures = pictures, .npictures = 2 };
    if (ae_html_report_write(index_html, &page, &err)) goto fail;
    printf("%s, %s, %s written\n", rows_png, latent_png, index_html);
    status = 0;
fail:
    if (status) fprintf(stderr, "%s\n", err.msg);
    ae_pca_free(&pca);
    free(codes);
    ae_dataset_free(test);
    ae_model_free(m);
    return status;
}
