/* An HTML page (aekit/report.h): one static page, inline CSS, no scripts.
 * A run folder's index.html is one (src/pictures/run_folder.c). */
#include "aekit/report.h"
#include "aekit/files.h"
#include "aekit/text.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

void ae_html_escape(FILE *f, const char *s)
{
    if (!s) return;
    for (; *s; s++) {
        switch (*s) {
        case '&':  fputs("&amp;", f); break;
        case '<':  fputs("&lt;", f); break;
        case '>':  fputs("&gt;", f); break;
        case '"':  fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:   fputc(*s, f);
        }
    }
}

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:2em auto;max-width:1100px;padding:0 1em;color:#222;background:#fff;line-height:1.4}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}\n"
    "h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}\n"
    "p.sub{color:#555;margin-top:0}\n"
    "table{border-collapse:collapse;font-size:.92em}\n"
    "th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:left}\n"
    "table.metrics td,table.metrics th{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.metrics tr:nth-child(even) td{background:#f7f7f7}\n"
    "table.settings th{font-weight:normal;color:#555}\n"
    "figure{margin:1.2em 0}\n"
    "figure img{max-width:100%;height:auto;border:1px solid #ddd}\n"
    "figcaption{color:#444;font-size:.92em;margin-top:.3em}\n"
    "figcaption code,td code{background:#f2f2f2;padding:0 .3em;border-radius:3px}\n"
    "pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}\n"
    "footer{margin-top:2.5em;color:#777;font-size:.85em}\n";

static void write_page(FILE *f, const ae_html_report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
    ae_html_escape(f, r->title);
    fputs("</title>\n<style>\n", f);
    fputs(style, f);
    fputs("</style>\n</head>\n<body>\n<h1>", f);
    ae_html_escape(f, r->title);
    fputs("</h1>\n", f);
    if (r->subtitle && r->subtitle[0]) {
        fputs("<p class=\"sub\">", f);
        ae_html_escape(f, r->subtitle);
        fputs("</p>\n", f);
    }

    if (r->nsettings > 0) {
        fputs("<h2>Settings</h2>\n<table class=\"settings\">\n", f);
        for (int i = 0; i < r->nsettings; i++) {
            fputs("<tr><th scope=\"row\">", f);
            ae_html_escape(f, r->settings[i].name);
            fputs("</th><td>", f);
            ae_html_escape(f, r->settings[i].value);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }

    if (r->npictures > 0) {
        fputs("<h2>Pictures</h2>\n", f);
        for (int i = 0; i < r->npictures; i++) {
            const ae_html_picture *p = &r->pictures[i];
            fputs("<figure id=\"", f);
            ae_html_escape(f, p->file);
            fputs("\">\n<img src=\"", f);
            ae_html_escape(f, p->file);
            fputs("\" alt=\"", f);
            ae_html_escape(f, p->caption ? p->caption : p->file);
            fputs("\">\n<figcaption><code>", f);
            ae_html_escape(f, p->file);
            fputs("</code> ", f);
            ae_html_escape(f, p->caption);
            fputs("</figcaption>\n</figure>\n", f);
        }
    }

    if (r->ncolumns > 0) {
        fputs("<h2>", f);
        ae_html_escape(f, r->table_title ? r->table_title : "Table");
        fputs("</h2>\n<table class=\"metrics\">\n<thead>\n<tr>", f);
        for (int c = 0; c < r->ncolumns; c++) {
            fputs("<th scope=\"col\">", f);
            ae_html_escape(f, r->columns[c]);
            fputs("</th>", f);
        }
        fputs("</tr>\n</thead>\n<tbody>\n", f);
        for (int i = 0; i < r->nrows; i++) {
            fputs("<tr>", f);
            for (int c = 0; c < r->ncolumns; c++) {
                fputs("<td>", f);
                ae_html_escape(f, r->cells[(size_t)i * r->ncolumns + c]);
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</tbody>\n</table>\n", f);
    }

    if (r->details_text) {
        fputs("<details>\n<summary>", f);
        ae_html_escape(f, r->details_title ? r->details_title : "Details");
        fputs("</summary>\n<pre>", f);
        ae_html_escape(f, r->details_text);
        fputs("</pre>\n</details>\n", f);
    }
    if (r->footer && r->footer[0]) {
        fputs("<footer>", f);
        ae_html_escape(f, r->footer);
        fputs("</footer>\n", f);
    }
    fputs("</body>\n</html>\n", f);
}

int ae_html_report_write(const char *path, const ae_html_report *r, ae_error *err)
{
    if (!path) return ae_fail(err, "html: no output path");
    if (!r || !r->title) return ae_fail(err, "%s: no page to write", path);
    if (r->nsettings < 0 || r->npictures < 0 || r->ncolumns < 0 || r->nrows < 0 ||
        (r->nsettings && !r->settings) || (r->npictures && !r->pictures) ||
        (r->ncolumns && !r->columns) || (r->ncolumns && r->nrows && !r->cells))
        return ae_fail(err, "%s: inconsistent page contents", path);
    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0) return -1;
    write_page(af.f, r);
    return ae_atomic_commit(&af, err);
}
