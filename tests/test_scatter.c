/* Scatter plots (aekit/charts.h) read back with libpng: size, label
 * colours in the legend, dots where the data are, one colour without labels,
 * degenerate ranges; and the HTML page (aekit/report.h): escaping,
 * one table row per row, atomic write. */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/report.h"
#include "aekit/charts.h"
#include "test.h"
#include "png_read.h"
#include "scratch.h"

#include <cairo.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static long count_colour(const uint8_t *px, int w, int h, const uint8_t c[3], int tol)
{
    long hits = 0;
    for (long i = 0; i < (long)w * h; i++)
        if (abs(px[3 * i] - c[0]) <= tol && abs(px[3 * i + 1] - c[1]) <= tol &&
            abs(px[3 * i + 2] - c[2]) <= tol)
            hits++;
    return hits;
}

/* Pixels of dots of colour c: c blended with white (the dots are
 * semi-transparent), i.e. near the segment from c to white, and not white. */
static long count_tinted(const uint8_t *px, long from, long to, const uint8_t c[3])
{
    double d[3] = { 255.0 - c[0], 255.0 - c[1], 255.0 - c[2] };
    double dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    long hits = 0;
    for (long i = from; i < to; i++) {
        const uint8_t *p = px + 3 * i;
        double v[3] = { (double)p[0] - c[0], (double)p[1] - c[1], (double)p[2] - c[2] };
        double t = dd > 0 ? (v[0] * d[0] + v[1] * d[1] + v[2] * d[2]) / dd : 0;
        if (t < 0) t = 0;
        if (t > 0.8) continue; /* white or nearly */
        double e = 0;
        for (int k = 0; k < 3; k++) e += (v[k] - t * d[k]) * (v[k] - t * d[k]);
        hits += e < 10.0 * 10.0;
    }
    return hits;
}

static void test_colours(void)
{
    uint8_t c[3], d[3];
    ae_scatter_colour(0, 9, c);
    CHECK(c[0] == 0x1f && c[1] == 0x77 && c[2] == 0xb4, "tab10 blue first");
    ae_scatter_colour(1, 9, c);
    CHECK(c[0] == 0xff && c[1] == 0x7f && c[2] == 0x0e, "tab10 orange second");
    ae_scatter_colour(9, 9, c);
    CHECK(c[0] == 0x17 && c[1] == 0xbe && c[2] == 0xcf, "tab10 cyan tenth");
    ae_scatter_colour(1, 15, c);
    CHECK(c[0] == 0xae && c[1] == 0xc7 && c[2] == 0xe8, "tab20 light blue second");
    ae_scatter_colour(3, 40, c);
    ae_scatter_colour(23, 40, d);
    CHECK(memcmp(c, d, 3) == 0, "tab20 cycles");
    ae_scatter_colour(-1, 9, c);
    CHECK(c[0] == c[1] && c[1] == c[2], "negative labels are grey");
}

/* Ten clusters on a circle, labelled 0..9, 10,000 points. */
static void test_labelled(void)
{
    enum { N = 10000, W = 800, H = 640 };
    float *xy = malloc(sizeof(float) * 2 * N);
    int *labels = malloc(sizeof(int) * N);
    for (int i = 0; i < N; i++) {
        int k = i % 10;
        double a = 2 * 3.14159265358979 * k / 10, r = 0.05 * ((i * 7919) % 101) / 101.0;
        xy[2 * i] = (float)(3 * cos(a) + r * cos(i * 0.37));
        xy[2 * i + 1] = (float)(3 * sin(a) + r * sin(i * 0.37));
        labels[i] = k;
    }
    xy[2 * 5] = NAN; /* not drawn, no harm */
    ae_scatter_options o = { "ten clusters", "PCA projection of the 128-D latent", "PC1", "PC2", W, H, NULL, 0 };
    ae_error err = {{0}};
    const char *p = tmp_path("labelled.png");
    CHECK(ae_scatter_png(p, xy, N, labels, &o, &err) == 0, "%s", err.msg);
    int w = 0, h = 0;
    uint8_t *px = read_png(p, 3, &w, &h);
    CHECK(px != NULL, "read back");
    if (px) {
        CHECK(w == W && h == H, "size %dx%d", w, h);
        for (int k = 0; k < 10; k++) {
            uint8_t c[3];
            ae_scatter_colour(k, 9, c);
            long exact = count_colour(px, w, h, c, 1);
            CHECK(exact >= 5, "label %d: legend colour in %ld pixels", k, exact);
            long tinted = count_tinted(px, 0, (long)w * h, c);
            CHECK(tinted >= 100, "label %d: %ld pixels of its dots", k, tinted);
        }
        /* cluster 0 sits at the right middle, cluster 5 at the left middle
         * (x from 0.86 w on is the legend, left out) */
        uint8_t c0[3], c5[3];
        ae_scatter_colour(0, 9, c0);
        ae_scatter_colour(5, 9, c5);
        long left0 = 0, right0 = 0, left5 = 0, right5 = 0, end = (long)(0.86 * w);
        for (int y = 0; y < h; y++) {
            long row = (long)y * w;
            left0 += count_tinted(px, row, row + w / 3, c0);
            right0 += count_tinted(px, row + w / 3, row + end, c0);
            left5 += count_tinted(px, row, row + w / 2, c5);
            right5 += count_tinted(px, row + w / 2, row + end, c5);
        }
        CHECK(right0 > 10 * (left0 + 1), "label 0 drawn right: %ld vs %ld", right0, left0);
        CHECK(left5 > 10 * (right5 + 1), "label 5 drawn left: %ld vs %ld", left5, right5);
    }
    free(px);
    free(xy);
    free(labels);
}

/* The rightmost non-white pixel of row y: the plot frame's right edge in a
 * row below the legend. */
static int right_edge(const uint8_t *px, int w, int y)
{
    for (int x = w - 1; x >= 0; x--) {
        const uint8_t *p = px + 3 * ((long)y * w + x);
        if (p[0] < 200 || p[1] < 200 || p[2] < 200) return x;
    }
    return -1;
}

/* With class names the legend lists them (a wider legend: the plot area
 * is narrower); labels past class_count keep their number. */
static void test_class_names_legend(void)
{
    enum { N = 40, W = 800, H = 640 };
    static const char *const names[] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };
    float xy[2 * N];
    int labels[N];
    for (int i = 0; i < N; i++) {
        xy[2 * i] = (float)(i % 7);
        xy[2 * i + 1] = (float)(i / 7);
        labels[i] = i % 10;
    }
    ae_scatter_options o = { "names", NULL, "z0", "z1", W, H, NULL, 0 };
    ae_error err = {{0}};
    const char *plain = tmp_path("numbers.png"), *named = tmp_path("names.png");
    CHECK(ae_scatter_png(plain, xy, N, labels, &o, &err) == 0, "%s", err.msg);
    o.class_names = names;
    o.class_count = 10;
    CHECK(ae_scatter_png(named, xy, N, labels, &o, &err) == 0, "%s", err.msg);
    int w1 = 0, h1 = 0, w2 = 0, h2 = 0;
    uint8_t *p1 = read_png(plain, 3, &w1, &h1), *p2 = read_png(named, 3, &w2, &h2);
    CHECK(p1 && p2 && w1 == W && w2 == W && h1 == H && h2 == H, "read back");
    if (p1 && p2) {
        /* "T-shirt/top" is about 50 pixels wider than "0": the plot area gives way */
        int r1 = right_edge(p1, W, H / 2), r2 = right_edge(p2, W, H / 2);
        CHECK(r1 > 0 && r2 > 0 && r2 < r1 - 30, "the legend names the classes: plot ends at x %d, "
              "%d with numbers", r2, r1);
    }
    free(p1);
    free(p2);
    /* names for labels 0..1 only: the rest keep their number (no crash, no read past) */
    o.class_count = 2;
    CHECK(ae_scatter_png(named, xy, N, labels, &o, &err) == 0, "%s", err.msg);
    /* names cairo cannot take as they are: a long one whose 32nd character
     * is 2 bytes (cut between bytes it would be invalid UTF-8), a Latin-1
     * folder name, a 4-byte character: drawn, not refused */
    static const char *const odd[] = { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9tude", "caf\xe9",
                                       "\xf0\x9f\x8d\x8e apple", "\xc3", "" };
    o.class_names = odd;
    o.class_count = 5;
    CHECK(ae_scatter_png(named, xy, N, labels, &o, &err) == 0, "odd class names: %s", err.msg);
}

static void test_unlabelled_and_degenerate(void)
{
    enum { N = 500 };
    float xy[2 * N];
    for (int i = 0; i < N; i++) {
        xy[2 * i] = (float)(i % 25);
        xy[2 * i + 1] = (float)(i / 25);
    }
    ae_scatter_options o = { "no labels", NULL, "z0", "z1", 400, 300, NULL, 0 };
    ae_error err = {{0}};
    const char *p = tmp_path("unlabelled.png");
    CHECK(ae_scatter_png(p, xy, N, NULL, &o, &err) == 0, "%s", err.msg);
    int w = 0, h = 0;
    uint8_t *px = read_png(p, 3, &w, &h);
    CHECK(px != NULL && w == 400 && h == 300, "unlabelled: size %dx%d", w, h);
    if (px) {
        uint8_t blue[3], orange[3];
        ae_scatter_colour(0, 0, blue);
        ae_scatter_colour(1, 9, orange);
        CHECK(count_tinted(px, 0, (long)w * h, blue) > 1000, "unlabelled: blue dots");
        CHECK(count_tinted(px, 0, (long)w * h, orange) == 0, "unlabelled: one colour only");
    }
    free(px);

    /* all points equal; a constant coordinate; huge and tiny values; only
     * NaN; no points: a valid file every time */
    float same[6] = { 2, -3, 2, -3, 2, -3 };
    float line[6] = { 0, 1, 1, 1, 2, 1 };
    float huge[6] = { -3e38f, 3e38f, 3e38f, -3e38f, 0, 0 };
    float tiny[6] = { 1e-30f, 2e-30f, 3e-30f, 1e-30f, 2e-30f, 3e-30f };
    float nan[4] = { NAN, 1, INFINITY, 2 };
    int labels[3] = { 0, 1, 2 };
    const struct { const char *name; const float *xy; int n; } cases[] = {
        { "same.png", same, 3 }, { "line.png", line, 3 }, { "huge.png", huge, 3 },
        { "tiny.png", tiny, 3 }, { "nan.png", nan, 2 },   { "empty.png", NULL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *q = tmp_path(cases[i].name);
        CHECK(ae_scatter_png(q, cases[i].xy, cases[i].n, labels, &o, &err) == 0, "%s: %s",
              cases[i].name, err.msg);
        px = read_png(q, 3, &w, &h);
        CHECK(px != NULL && w == 400 && h == 300, "%s: read back", cases[i].name);
        if (px && cases[i].n == 3 && i != 2) {
            uint8_t c[3];
            ae_scatter_colour(2, 2, c);
            CHECK(count_tinted(px, 0, (long)w * h, c) > 20, "%s: the point is drawn", cases[i].name);
        }
        free(px);
    }

    /* many labels: tab20 and a legend that ends with "+k more" (no crash) */
    enum { M = 2000 };
    float *many = malloc(sizeof(float) * 2 * M);
    int *ml = malloc(sizeof(int) * M);
    for (int i = 0; i < M; i++) {
        many[2 * i] = (float)(i % 100);
        many[2 * i + 1] = (float)(i / 100);
        ml[i] = i % 100 - 1; /* -1 (grey, not listed) to 98 */
    }
    CHECK(ae_scatter_png(tmp_path("many.png"), many, M, ml, &o, &err) == 0, "%s", err.msg);
    free(many);
    free(ml);
}

static void test_scatter_errors(void)
{
    float xy[2] = { 0, 0 };
    ae_scatter_options o = { "t", NULL, "x", "y", 400, 300, NULL, 0 };
    ae_error err = {{0}};
    const char *p = tmp_path("bad.png");
    CHECK(ae_scatter_png(p, xy, 1, NULL, NULL, &err) == -1, "no options");
    CHECK(ae_scatter_png(p, NULL, 1, NULL, &o, &err) == -1, "no points");
    CHECK(ae_scatter_png(p, xy, -1, NULL, &o, &err) == -1, "n < 0");
    o.width = 10;
    CHECK(ae_scatter_png(p, xy, 1, NULL, &o, &err) == -1, "too small");
    CHECK(strstr(err.msg, p) != NULL, "message names the file: %s", err.msg);
    o.width = 400;
    o.height = 1 << 20;
    CHECK(ae_scatter_png(p, xy, 1, NULL, &o, &err) == -1, "too big");
    CHECK(access(p, F_OK) != 0, "nothing written for bad arguments");
    o.height = 300;
    const char *nodir = tmp_path("no-such-folder/s.png");
    CHECK(ae_scatter_png(nodir, xy, 1, NULL, &o, &err) == -1, "missing folder");
    CHECK(strstr(err.msg, nodir) != NULL, "message names the file: %s", err.msg);
}

static int count_of(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

static void test_html(void)
{
    ae_html_setting set[2] = { { "model", "conv <b>&amp;</b>" }, { "data", "it's \"mine\"" } };
    ae_html_picture pics[2] = { { "loss.png", "loss <per> epoch" }, { "a&b.png", "x" } };
    const char *cols[3] = { "epoch", "train_loss", "val<loss>" };
    const char *cells[9] = { "1", "0.5", "0.6", "2", "0.4", "0.5", "3", "0.3", "nan" };
    ae_html_report r = {
        .title = "conv on <mnist>", .subtitle = "3 epochs & done",
        .settings = set, .nsettings = 2, .pictures = pics, .npictures = 2,
        .table_title = "Metrics", .columns = cols, .ncolumns = 3, .cells = cells, .nrows = 3,
        .details_title = "Layers", .details_text = "a <- b\n", .footer = "aekit",
    };
    ae_error err = {{0}};
    const char *p = tmp_path("index.html");
    CHECK(ae_html_report_write(p, &r, &err) == 0, "%s", err.msg);
    char *s = test_read_file(p);
    CHECK(s != NULL, "read back");
    if (!s) return;
    CHECK(strncmp(s, "<!DOCTYPE html>", 15) == 0, "doctype");
    CHECK(strstr(s, "<title>conv on &lt;mnist&gt;</title>") != NULL, "title escaped");
    CHECK(strstr(s, "<h1>conv on &lt;mnist&gt;</h1>") != NULL, "heading escaped");
    CHECK(strstr(s, "conv &lt;b&gt;&amp;amp;&lt;/b&gt;") != NULL, "setting escaped");
    CHECK(strstr(s, "it&#39;s &quot;mine&quot;") != NULL, "quotes escaped");
    CHECK(strstr(s, "<img src=\"loss.png\"") != NULL, "picture shown");
    CHECK(strstr(s, "<img src=\"a&amp;b.png\"") != NULL, "file name escaped in the attribute");
    CHECK(strstr(s, "loss &lt;per&gt; epoch") != NULL, "caption escaped");
    CHECK(strstr(s, "<th scope=\"col\">val&lt;loss&gt;</th>") != NULL, "column escaped");
    CHECK(count_of(s, "\n<tr><td>") == 3, "one row per epoch: %d", count_of(s, "\n<tr><td>"));
    CHECK(strstr(s, "<tr><td>3</td><td>0.3</td><td>nan</td></tr>\n") != NULL, "last row");
    CHECK(strstr(s, "<pre>a &lt;- b\n</pre>") != NULL, "details escaped");
    CHECK(strstr(s, "<script") == NULL && strstr(s, "http") == NULL, "self-contained");
    CHECK(strstr(s, "<style>") != NULL, "inline style");
    free(s);

    r.nrows = 2;
    r.cells = NULL;
    CHECK(ae_html_report_write(tmp_path("bad.html"), &r, &err) == -1, "rows without cells");
    CHECK(access(tmp_path("bad.html"), F_OK) != 0, "nothing written");
    ae_html_report empty = { .title = "t" };
    CHECK(ae_html_report_write(tmp_path("empty.html"), &empty, &err) == 0, "%s", err.msg);
    CHECK(ae_html_report_write(tmp_path("no-such-folder/i.html"), &empty, &err) == -1, "missing folder");
}

/* fontconfig leaks a little while parsing its configuration (see test_png.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

int main(void)
{
    if (scratch_open("test_scatter") != 0) return 2;
    test_colours();
    test_labelled();
    test_class_names_legend();
    test_unlabelled_and_degenerate();
    test_scatter_errors();
    test_html();
    scratch_close();
    cairo_debug_reset_static_data();
    TEST_DONE();
}
