/* A static, self-contained HTML page (inline CSS, no scripts, no external
 * resources) describing a run: heading, a table of settings, pictures with
 * captions, a table of numbers and a preformatted block.
 * ae_html_escape (aekit/text.h) escapes text the same way. */
#ifndef AEKIT_REPORT_H
#define AEKIT_REPORT_H

#include "aekit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *name, *value;
} ae_html_setting;

typedef struct {
    const char *file;      /* relative to the page: <img src="file"> */
    const char *caption;
} ae_html_picture;

typedef struct {
    const char *title;                 /* <title> and <h1>                         */
    const char *subtitle;              /* a line under the heading; may be NULL    */
    const ae_html_setting *settings;      /* "Settings": name/value rows              */
    int nsettings;
    const ae_html_picture *pictures;      /* "Pictures", in order                     */
    int npictures;
    const char *table_title;           /* heading of the table, e.g. "Metrics"    */
    const char *const *columns;        /* ncolumns header cells                    */
    int ncolumns;
    const char *const *cells;          /* nrows x ncolumns, row-major; one <tr>
                                          per row, on one line of its own         */
    int nrows;
    const char *details_title;         /* a folded <details> block of preformatted */
    const char *details_text;          /* text (e.g. the layers); may be NULL      */
    const char *footer;                /* small print at the end; may be NULL      */
} ae_html_report;

/* Writes the page to path (UTF-8). Every text is HTML-escaped, file names
 * too (in attributes). Atomic write. */
int ae_html_report_write(const char *path, const ae_html_report *r, ae_error *err);

#ifdef __cplusplus
}
#endif

#endif
