/* test_plots - grok.h's SVG plots: each kind is written to /tmp and read back; the test checks
   that the file is well-formed (every tag closed, in order), counts the <rect>, <path> and
   <circle> elements, the colours at known values (RdBu: 0 white, the ends #053061 / #67001f;
   NaN grey), escaping, the hover data (a data-v per cell, point and line point, with names
   or indices), names on the axes (thinned to fit), horizontal lines across heatmaps, and
   that bad arguments fail with a message. The same for the phase
   diagram (both colourings), and the phase rule of grok_phase_classify case by case.
   The last line is "N passed, N failed"; the exit status is nonzero when anything failed. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    char *s;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = (char *)malloc(n + 1);
    if (s && fread(s, 1, n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static int count(const char *s, const char *pat)
{
    int n = 0;
    for (const char *q = strstr(s, pat); q; q = strstr(q + 1, pat)) n++;
    return n;
}

/* Well-formed: tags balance as a stack, no raw '<' or '&' in text, attribute quotes pair up. */
static int well_formed(const char *s)
{
    char stack[64][16];
    int depth = 0, roots = 0;
    const char *q = s;
    if (!strncmp(q, "<?xml", 5)) { q = strstr(q, "?>"); if (!q) return 0; q += 2; }
    while (*q) {
        if (*q == '&') {
            const char *e = strchr(q, ';');
            if (!e || e - q > 6) return 0;
            q = e + 1;
            continue;
        }
        if (*q != '<') { if (*q == '>') return 0; q++; continue; }
        {
            int close = q[1] == '/', quotes = 0, n = 0;
            const char *e = q + 1 + close;
            char name[16];
            while ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') || *e == '-') { if (n < 15) name[n++] = *e; e++; }
            name[n] = 0;
            if (!n) return 0;
            while (*e && (*e != '>' || quotes % 2)) { if (*e == '"') quotes++; if (*e == '<') return 0; e++; }
            if (!*e) return 0;
            if (close) { if (!depth || strcmp(stack[--depth], name)) return 0; }
            else if (e[-1] != '/') { if (depth == 64) return 0; if (!depth) roots++; strcpy(stack[depth++], name); }
            else if (!depth) roots++;
            q = e + 1;
        }
    }
    return depth == 0 && roots == 1;
}

int main(void)
{
    grok_plot p;
    char *s;
    int st;

    { /* heatmap, RdBu: 0 white, ends, NaN grey, escaped title */
        double z[6] = {-2, 0, 2, NAN, 1, -1};
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_HEATMAP; p.z = z; p.rows = 2; p.cols = 3;
        p.title = "W_E <in> \"Fourier\" & basis"; p.xlabel = "component"; p.ylabel = "row"; p.clabel = "value";
        st = grok_plot_save("/tmp/grok_test_heatmap.svg", &p);
        CHECK(st == GROK_OK, "heatmap save: %s", grok_last_error());
        s = slurp("/tmp/grok_test_heatmap.svg");
        CHECK(s && well_formed(s), "heatmap SVG is not well-formed");
        if (s) {
            CHECK(count(s, "<rect") == 6 + GROK_PLOT_CBAR_STEPS + 1, "heatmap rects %d", count(s, "<rect"));
            CHECK(count(s, "fill=\"#ffffff\"") == 1, "0 is white: %d", count(s, "fill=\"#ffffff\""));
            CHECK(count(s, "fill=\"#053061\"") == 1 && count(s, "fill=\"#67001f\"") == 1, "the ends of RdBu");
            CHECK(count(s, "fill=\"#bdbdbd\"") == 1, "NaN grey");
            CHECK(strstr(s, "W_E &lt;in&gt; &quot;Fourier&quot; &amp; basis") != NULL, "title escaped");
            free(s);
        }
        p.cmap = GROK_CMAP_VIRIDIS; /* sequential: min and max are the ends */
        st = grok_plot_save("/tmp/grok_test_heatmap_seq.svg", &p);
        s = slurp("/tmp/grok_test_heatmap_seq.svg");
        CHECK(st == GROK_OK && s && well_formed(s), "sequential heatmap");
        if (s) {
            CHECK(count(s, "fill=\"#440154\"") == 1 && count(s, "fill=\"#fde725\"") == 1, "viridis ends");
            free(s);
        }
    }
    { /* small multiples of heatmaps, one shared scale */
        double z[4 * 3 * 5];
        const char *titles[4] = {"head 0", "head 1", "head 2", "head 3"};
        for (int i = 0; i < 60; i++) z[i] = i / 59.0 * 2 - 1;
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_HEATMAP; p.z = z; p.rows = 3; p.cols = 5; p.n_panels = 4; p.panel_cols = 2;
        p.panel_titles = titles; p.width = 200; p.height = 180;
        st = grok_plot_save("/tmp/grok_test_facets.svg", &p);
        s = slurp("/tmp/grok_test_facets.svg");
        CHECK(st == GROK_OK && s && well_formed(s), "facets: %s", grok_last_error());
        if (s) {
            CHECK(count(s, "<rect") == 4 * (15 + GROK_PLOT_CBAR_STEPS + 1), "facet rects %d", count(s, "<rect"));
            CHECK(count(s, "fill=\"#053061\"") == 1 && count(s, "fill=\"#67001f\"") == 1, "shared scale: one min, one max");
            CHECK(strstr(s, "width=\"400\" height=\"360\"") != NULL, "2 x 2 grid size");
            free(s);
        }
    }
    { /* lines, log-y, legend, phase lines, NaN breaks */
        double x[5] = {0, 1, 2, 3, 4}, y[10] = {1, 0.1, NAN, 0.001, 1e-4, 2, 1, 0.5, 0.2, -1};
        const char *names[2] = {"train", "test"}, *vl[2] = {"memorisation", "clean-up"};
        double v[2] = {1.5, 3.5};
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_LINES; p.x = x; p.y = y; p.n = 5; p.n_series = 2; p.names = names; p.log_y = 1;
        p.vlines = v; p.vline_labels = vl; p.n_vlines = 2; p.title = "loss"; p.xlabel = "epoch"; p.ylabel = "loss";
        st = grok_plot_save("/tmp/grok_test_lines.svg", &p);
        s = slurp("/tmp/grok_test_lines.svg");
        CHECK(st == GROK_OK && s && well_formed(s), "lines: %s", grok_last_error());
        if (s) {
            CHECK(count(s, "<path") == 2, "one path per series: %d", count(s, "<path"));
            CHECK(count(s, "stroke-dasharray") == 2, "two phase lines");
            CHECK(strstr(s, ">memorisation<") && strstr(s, ">train<") && strstr(s, ">1e-4<"), "labels, legend, log ticks");
            CHECK(count(s, " M") == 3, "NaN breaks the train line (3 moves): %d", count(s, " M"));
            CHECK(!strstr(s, "nan") && !strstr(s, "inf"), "no nan/inf in the SVG");
            free(s);
        }
        p.n_panels = 2; p.n = 5; p.n_series = 1; p.panel_cols = 0; /* small multiples of lines */
        st = grok_plot_save("/tmp/grok_test_lines2.svg", &p);
        s = slurp("/tmp/grok_test_lines2.svg");
        CHECK(st == GROK_OK && s && well_formed(s) && count(s, "<path") == 2, "line facets");
        free(s);
    }
    { /* scatter with a colour dimension */
        double x[4] = {1, 2, 3, NAN}, y[4] = {0.5, 0.9, 0.99, 1}, c[4] = {0, 1, NAN, 2};
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_SCATTER; p.x = x; p.y = y; p.c = c; p.n = 4; p.xlabel = "frequency"; p.ylabel = "frac";
        st = grok_plot_save("/tmp/grok_test_scatter.svg", &p);
        s = slurp("/tmp/grok_test_scatter.svg");
        CHECK(st == GROK_OK && s && well_formed(s), "scatter: %s", grok_last_error());
        if (s) {
            CHECK(count(s, "<circle") == 3, "one circle per finite point: %d", count(s, "<circle"));
            CHECK(count(s, "fill=\"#440154\" fill-opacity") == 1 && count(s, "fill=\"#bdbdbd\" fill-opacity") == 1,
                  "colour min and NaN");
            free(s);
        }
    }
    { /* hover data (data-v), names on the axes, horizontal lines */
        double z[12] = {-2, 0, 2, NAN, 1, -1, 1, 2, 3, 4, 5, 6}, hl[2] = {0.5, 7};
        const char *xn[3] = {"Const", "cos 1", "sin 1"}, *yn[2] = {"a", "b <c>"};
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_HEATMAP; p.z = z; p.rows = 2; p.cols = 3; p.n_panels = 2; p.x_names = xn; p.y_names = yn;
        p.hlines = hl; p.n_hlines = 2;
        st = grok_plot_save("/tmp/grok_test_names.svg", &p);
        s = slurp("/tmp/grok_test_names.svg");
        CHECK(st == GROK_OK && s && well_formed(s), "named heatmap: %s", grok_last_error());
        if (s) {
            CHECK(count(s, "data-v=") == 12, "one data-v per cell: %d", count(s, "data-v="));
            CHECK(strstr(s, "data-v=\"a,cos 1: 0\"") && strstr(s, "data-v=\"b &lt;c&gt;,Const: NaN\""),
                  "data-v holds the row and column names and the value");
            CHECK(count(s, ">sin 1</text>") == 2 && count(s, ">b &lt;c&gt;</text>") == 2, "names on both axes, per panel");
            CHECK(count(s, "<path d=\"M") == 2, "one hline per panel inside the rows (7 is outside): %d",
                  count(s, "<path d=\"M"));
            free(s);
        }
        p.x_names = NULL; p.y_names = NULL; p.n_hlines = 0; p.n_panels = 1;
        st = grok_plot_save("/tmp/grok_test_names.svg", &p);
        s = slurp("/tmp/grok_test_names.svg");
        CHECK(st == GROK_OK && s && strstr(s, "data-v=\"1,2: -1\"") && !strstr(s, "<path"), "indices without names: %s",
              s ? "" : grok_last_error());
        free(s);
    }
    { /* names thinned to fit: 100 columns */
        double z[100];
        char nb[100][8];
        const char *xn[100];
        int i, n;
        for (i = 0; i < 100; i++) { z[i] = i; snprintf(nb[i], 8, "c%d", i); xn[i] = nb[i]; }
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_HEATMAP; p.z = z; p.rows = 1; p.cols = 100; p.x_names = xn;
        st = grok_plot_save("/tmp/grok_test_thin.svg", &p);
        s = slurp("/tmp/grok_test_thin.svg");
        n = s ? count(s, "\">c") : 0;
        CHECK(st == GROK_OK && s && n >= 3 && n <= 25 && strstr(s, ">c0</text>"), "thinned names: %d labels", n);
        free(s);
    }
    { /* lines: an invisible marker per point with series, x (its name) and y; scatter: x, y, c */
        double x[5] = {0, 1, 2, 3, 4}, y[10] = {1, 0.1, NAN, 0.001, 1e-4, 2, 1, 0.5, 0.2, -1};
        double c[3] = {0, 1, 2};
        const char *names[2] = {"train", "test"}, *xn[5] = {"a", "b", "c", "d", "e"};
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_LINES; p.x = x; p.y = y; p.n = 5; p.n_series = 2; p.names = names; p.log_y = 1; p.x_names = xn;
        st = grok_plot_save("/tmp/grok_test_marks.svg", &p);
        s = slurp("/tmp/grok_test_marks.svg");
        CHECK(st == GROK_OK && s && well_formed(s), "line markers: %s", grok_last_error());
        if (s) {
            CHECK(count(s, "data-v=\"train: ") == 4 && count(s, "data-v=\"test: ") == 4, "a marker per drawn point: %d + %d",
                  count(s, "data-v=\"train: "), count(s, "data-v=\"test: "));
            CHECK(strstr(s, "data-v=\"train: x d, y 0.001\"") && strstr(s, ">c</text>"), "marker text and x names");
            free(s);
        }
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_SCATTER; p.x = x; p.y = y + 5; p.c = c; p.n = 3;
        st = grok_plot_save("/tmp/grok_test_marks.svg", &p);
        s = slurp("/tmp/grok_test_marks.svg");
        CHECK(st == GROK_OK && s && count(s, "data-v=") == 3 && strstr(s, "data-v=\"x 1, y 1, c 1\""), "scatter data-v");
        free(s);
    }
    { /* the phase rule: each phase, the delay boundary, failed runs */
        CHECK(grok_phase_classify(-1, -1, 0.5, 0.1, 0) == GROK_PHASE_CONFUSION, "train never fitted: confusion");
        CHECK(grok_phase_classify(300, -1, 0.995, 0.4, 0) == GROK_PHASE_MEMORISATION, "fitted, test < 99%%: memorisation");
        CHECK(grok_phase_classify(300, 600, 1.0, 1.0, 0) == GROK_PHASE_COMPREHENSION, "test at 2x train (default delay 2)");
        CHECK(grok_phase_classify(300, 700, 1.0, 1.0, 0) == GROK_PHASE_GROKKING, "test after 2x train: grokking");
        CHECK(grok_phase_classify(300, 700, 1.0, 1.0, 3) == GROK_PHASE_COMPREHENSION, "delay 3");
        CHECK(grok_phase_classify(300, 3000, 0.985, 1.0, 0) == GROK_PHASE_CONFUSION, "final train acc decides");
        CHECK(grok_phase_classify(300, 3000, 1.0, 0.98, 0) == GROK_PHASE_MEMORISATION, "final test acc decides");
        CHECK(grok_phase_classify(-1, -1, NAN, NAN, 0) == GROK_PHASE_NONE, "failed run: none");
        CHECK(grok_phase_classify(-1, 100, 1.0, 1.0, 0) == GROK_PHASE_NONE, "train acc >= 99%% without its epoch");
        CHECK(!strcmp(grok_phase_name(GROK_PHASE_GROKKING), "grokking") && !strcmp(grok_phase_name(9), "none"), "names");
    }
    { /* phase diagram coloured by phase: 2 rows x 3 cols, one cell without a run */
        const int ph[6] = {GROK_PHASE_CONFUSION, GROK_PHASE_MEMORISATION, GROK_PHASE_GROKKING,
                           GROK_PHASE_MEMORISATION, GROK_PHASE_COMPREHENSION, GROK_PHASE_NONE};
        const double ep[6] = {NAN, -1, 12000, INFINITY, 300, NAN}, e2[6] = {100, 1000, 10000, NAN, -1, INFINITY};
        const char *rl[2] = {"0.3", "0.5"}, *cl[3] = {"0.1", "0.3", "1 <wd>"};
        grok_phase_diagram d;
        double y0 = 0, y1 = 0;
        memset(&d, 0, sizeof d);
        d.rows = 2; d.cols = 3; d.row_labels = rl; d.col_labels = cl; d.epochs = ep; d.phase = ph;
        d.colour_by_phase = 1; d.title = "phases"; d.xlabel = "weight decay"; d.ylabel = "frac_train";
        st = grok_plot_phase_diagram_save("/tmp/grok_test_phase.svg", &d);
        CHECK(st == GROK_OK, "phase diagram save: %s", grok_last_error());
        s = slurp("/tmp/grok_test_phase.svg");
        CHECK(s && well_formed(s), "phase diagram SVG is not well-formed");
        if (s) {
            const char *r;
            CHECK(count(s, "<rect") == 6 + 1 + 5, "cells, frame, legend of 5: %d rects", count(s, "<rect"));
            CHECK(count(s, "fill=\"#ff7f00\"") == 2 + 1, "memorisation: 2 cells + legend");
            CHECK(count(s, "fill=\"#4daf4a\"") == 2 && count(s, "fill=\"#377eb8\"") == 2 && count(s, "fill=\"#e41a1c\"") == 2,
                  "one cell and one legend entry each");
            CHECK(count(s, ">M</text>") == 2 && count(s, ">G</text>") == 1 && count(s, ">-</text>") == 1, "initials");
            CHECK(strstr(s, ">12k</text>") && strstr(s, ">300</text>") && !strstr(s, "inf") && !strstr(s, "nan"),
                  "epochs labels, nothing for never");
            CHECK(strstr(s, ">1 &lt;wd&gt;</text>") && strstr(s, ">no run</text>"), "escaped tick label, legend");
            /* row 0 at the bottom: the first cell rect (row 0) lies below the fourth (row 1) */
            r = strstr(s, "<rect");
            if (r) sscanf(strstr(r, "y=\"") + 3, "%lf", &y0);
            for (int k = 0; k < 3 && r; k++) r = strstr(r + 1, "<rect");
            if (r) sscanf(strstr(r, "y=\"") + 3, "%lf", &y1);
            CHECK(y0 > y1 && y1 > 0, "row 0 at the bottom: y %g vs %g", y0, y1);
            free(s);
        }
        /* coloured by epochs: viridis over log10(epochs), the ends on the extreme cells */
        {
            d.epochs = e2; d.colour_by_phase = 0; d.phase = NULL; d.title = NULL;
            st = grok_plot_phase_diagram_save("/tmp/grok_test_phase_epochs.svg", &d);
            s = slurp("/tmp/grok_test_phase_epochs.svg");
            CHECK(st == GROK_OK && s && well_formed(s), "epochs diagram: %s", grok_last_error());
            if (s) {
                CHECK(count(s, "<rect") == 6 + 1 + GROK_PLOT_CBAR_STEPS + 1, "cells, frame, colour bar, never: %d",
                      count(s, "<rect"));
                CHECK(count(s, "fill=\"#440154\"") == 1 && count(s, "fill=\"#fde725\"") == 1, "100 and 10000 are the ends");
                CHECK(count(s, "fill=\"#21918c\"") == 1, "1000 is viridis' middle");
                CHECK(count(s, "fill=\"#bdbdbd\"") == 3 + 1, "never: 3 cells + legend");
                CHECK(count(s, "<text") == 3 + 3 + 2 + 2 + 5 + 1 + 1,
                      "3 epoch labels, 5 tick labels, 2 axis labels, colour bar: 5 ticks, label, never: %d",
                      count(s, "<text"));
                CHECK(strstr(s, ">10k</text>") && count(s, ">C</text>") == 0, "labels without phase initials");
                free(s);
            }
        }
        /* bad arguments */
        d.colour_by_phase = 1;
        CHECK(grok_plot_phase_diagram(stdout, &d) == GROK_ERR_ARG && strstr(grok_last_error(), "phase"), "no phase");
        {
            const int bad[6] = {0, 1, 2, 3, 4, 7};
            d.phase = bad;
            CHECK(grok_plot_phase_diagram(stdout, &d) == GROK_ERR_ARG, "phase 7");
            d.phase = ph; d.rows = 0;
            CHECK(grok_plot_phase_diagram(stdout, &d) == GROK_ERR_ARG, "rows 0");
            d.rows = 2; d.width = 120;
            CHECK(grok_plot_phase_diagram(stdout, &d) == GROK_ERR_ARG, "width 120");
            d.width = 0;
            CHECK(grok_plot_phase_diagram(NULL, &d) == GROK_ERR_ARG, "NULL file");
            CHECK(grok_plot_phase_diagram_save("/nonexistent-dir/p.svg", &d) == GROK_ERR_IO, "unwritable path");
        }
    }
    { /* bad arguments */
        double z[1] = {0};
        memset(&p, 0, sizeof p);
        CHECK(grok_plot_write(stdout, &p) == GROK_ERR_ARG && strstr(grok_last_error(), "kind"), "kind 0");
        p.kind = GROK_PLOT_HEATMAP; p.z = z; p.rows = 0; p.cols = 1;
        CHECK(grok_plot_write(stdout, &p) == GROK_ERR_ARG, "rows 0");
        p.rows = 1; p.width = 5;
        CHECK(grok_plot_write(stdout, &p) == GROK_ERR_ARG, "width 5");
        p.width = 0; p.n_vlines = 1;
        CHECK(grok_plot_write(stdout, &p) == GROK_ERR_ARG, "vlines NULL");
        p.n_vlines = 0; p.n_hlines = 1;
        CHECK(grok_plot_write(stdout, &p) == GROK_ERR_ARG && strstr(grok_last_error(), "n_hlines"), "hlines NULL");
        p.hlines = z; p.kind = GROK_PLOT_LINES; p.x = z; p.y = z; p.n = 1; p.n_series = 1;
        CHECK(grok_plot_write(stdout, &p) == GROK_ERR_ARG && strstr(grok_last_error(), "n_hlines"), "hlines on lines");
        p.kind = GROK_PLOT_HEATMAP; p.n_hlines = 0; p.cmap = (grok_cmap)7;
        CHECK(grok_plot_write(stdout, &p) == GROK_ERR_ARG, "cmap 7");
        p.cmap = GROK_CMAP_DEFAULT;
        CHECK(grok_plot_write(NULL, &p) == GROK_ERR_ARG, "NULL file");
        CHECK(grok_plot_save("/nonexistent-dir/x.svg", &p) == GROK_ERR_IO, "unwritable path");
    }
    { /* grok_report: sections, escaped notes, a figure, the hover script; a failure keeps the old file */
        grok_report r;
        double z[4] = {1, 2, 3, 4};
        FILE *old;
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_HEATMAP; p.z = z; p.rows = 2; p.cols = 2;
        CHECK(grok_report_begin(&r, "/tmp/grok_test_report.html", "R & D") == GROK_OK, "report begin: %s", grok_last_error());
        grok_report_heading(&r, "Section <1>");
        grok_report_note(&r, "a < b");
        grok_report_plot(&r, &p);
        grok_report_printf(&r, "<table id=\"t\"><tr><td>%d</td></tr></table>\n", 42);
        CHECK(grok_report_end(&r) == GROK_OK, "report end: %s", grok_last_error());
        s = slurp("/tmp/grok_test_report.html");
        CHECK(s != NULL, "report written");
        if (s) {
            CHECK(strstr(s, "<h1>R &amp; D</h1>") && strstr(s, "<h2>Section &lt;1&gt;</h2>") && strstr(s, "a &lt; b"),
                  "report headings and notes escaped");
            CHECK(count(s, "<figure><svg") == 1 && strstr(s, "<td>42</td>"), "report figure and table");
            CHECK(count(s, "<script>") == 1 && strstr(s, "data-v") && strstr(s, "</body></html>"), "report hover script and end");
            CHECK(!strstr(s, " src=") && !strstr(s, "<link") && !strstr(s, "href=") && !strstr(s, "url("), "report fetches nothing");
            free(s);
        }
        old = fopen("/tmp/grok_test_report.html", "w");
        if (old) { fputs("old", old); fclose(old); }
        CHECK(grok_report_begin(&r, "/tmp/grok_test_report.html", NULL) == GROK_OK, "report begin again");
        p.kind = (grok_plot_kind)9; /* a bad plot fails the report */
        grok_report_plot(&r, &p);
        CHECK(r.status == GROK_ERR_ARG, "bad plot sets the status");
        grok_report_heading(&r, "after the failure");
        CHECK(grok_report_end(&r) == GROK_ERR_ARG, "end returns the first failure");
        s = slurp("/tmp/grok_test_report.html");
        CHECK(s && !strcmp(s, "old"), "a failed report leaves the old file");
        free(s);
        CHECK(access("/tmp/grok_test_report.html.tmp", F_OK) != 0, "no .tmp left behind");
        CHECK(grok_report_begin(&r, "/nonexistent-dir/r.html", NULL) == GROK_ERR_IO, "unwritable report path");
        CHECK(grok_report_end(&r) == GROK_ERR_IO, "end after a failed begin");
    }
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
