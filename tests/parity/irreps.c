/* The C half of the irreps parity suite (tests/parity/irreps.py; tests/parity/run.sh).
     irreps gen DIR   for each group NAME of the list below writes what grok.h builds: the table
                      (NAME_table.npy (order, order)), the irreps' dimensions, complex-pair flags
                      and names (NAME_dims.npy, NAME_pairs.npy, NAME_names.txt), every irrep's
                      matrices (NAME_rho_I.npy (order, d, d)), the conjugacy classes and the
                      character table (NAME_classes.npy, NAME_chartable.npy (count, classes)); for
                      a random f (NAME_f.npy (order, 3)) its transform (NAME_fhat.npy (n_coefs,
                      3)) and norms per irrep (NAME_norms.npy); and for random logits (NAME_logits
                      .npy (order^2, order)), a hidden layer, a read-out and a base (NAME_hidden,
                      NAME_W, NAME_base .npy) with the key irreps NAME_keys.npy: the trace
                      similarities (NAME_sims.npy), the hidden layer's pair norms and rest
                      (NAME_pair_norms.npy (count + 1)) and the losses (NAME_losses.npy (2, 2 +
                      2 count): restricted, total excluded, excluded per irrep, restricted to each
                      irrep, at the logit level and the hidden level).
   Exit status: 0 if every file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>

static const char *dir;

static const char *path(const char *name, const char *suffix)
{
    static char buf[2][1024];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s%s", dir, name, suffix);
    return buf[k];
}

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "irreps: %s: %s\n", what, grok_last_error()); exit(1); }
}

static void save(const char *p, grok_dtype dt, const void *x, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = dt; a.ndim = ndim; a.data = (void *)(uintptr_t)x;
    a.shape[0] = d0; a.shape[1] = d1; a.shape[2] = d2;
    must(grok_npy_save(p, &a), p);
}

static uint64_t state = 0x243F6A8885A308D3ull;
static double urand(void) /* [-1, 1) */
{
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (double)(state >> 11) / 4503599627370496.0 - 1.0;
}

static double *rand_array(size_t n, double scale)
{
    double *a = (double *)malloc(sizeof(double) * (n ? n : 1));
    if (!a) { fprintf(stderr, "irreps: out of memory\n"); exit(1); }
    for (size_t i = 0; i < n; i++) a[i] = scale * urand();
    return a;
}

static void gen(grok_group_kind kind, int n, int metrics)
{
    grok_group g;
    grok_irreps ir;
    int N, nc, *classes, keys[2], nk, M = 5;
    double *chi, *f, *fhat, *norms, *L, *H, *W, *base, *sims, *pn, *losses;
    FILE *fp;
    const char *name;
    must(grok_group_init(&g, kind, n), "grok_group_init");
    must(grok_irreps_init(&ir, &g), "grok_irreps_init");
    name = g.name;
    N = g.order;
    save(path(name, "_table.npy"), GROK_DT_I32, g.table, 2, N, N, 0);
    save(path(name, "_dims.npy"), GROK_DT_I32, ir.dim, 1, ir.count, 0, 0);
    save(path(name, "_pairs.npy"), GROK_DT_I32, ir.complex_pair, 1, ir.count, 0, 0);
    if (!(fp = fopen(path(name, "_names.txt"), "w"))) must(GROK_ERR_IO, "names");
    for (int i = 0; i < ir.count; i++) {
        char suffix[32];
        fprintf(fp, "%s\n", ir.name[i]);
        snprintf(suffix, sizeof suffix, "_rho_%d.npy", i);
        save(path(name, suffix), GROK_DT_F64, ir.mats + (size_t)N * ir.coef[i], 3, N, ir.dim[i], ir.dim[i]);
    }
    fclose(fp);
    classes = (int *)malloc(sizeof(int) * N);
    chi = (double *)malloc(sizeof(double) * ir.count * N);
    must(grok_group_classes(classes, &nc, &g), "classes");
    must(grok_irreps_char_table(chi, &ir, classes, nc), "char table");
    save(path(name, "_classes.npy"), GROK_DT_I32, classes, 1, N, 0, 0);
    save(path(name, "_chartable.npy"), GROK_DT_F64, chi, 2, ir.count, nc, 0);
    f = rand_array((size_t)N * 3, 1);
    fhat = (double *)malloc(sizeof(double) * ir.n_coefs * 3);
    norms = (double *)malloc(sizeof(double) * ir.count);
    must(grok_irreps_fourier(fhat, f, 3, &ir), "fourier");
    must(grok_irreps_norms(norms, f, 3, 0, &ir), "norms");
    save(path(name, "_f.npy"), GROK_DT_F64, f, 2, N, 3, 0);
    save(path(name, "_fhat.npy"), GROK_DT_F64, fhat, 2, ir.n_coefs, 3, 0);
    save(path(name, "_norms.npy"), GROK_DT_F64, norms, 1, ir.count, 0, 0);
    if (metrics) {
        L = rand_array((size_t)N * N * N, 3);
        H = rand_array((size_t)N * N * M, 1);
        W = rand_array((size_t)M * N, 2);
        base = rand_array((size_t)N * N * N, 0.5);
        sims = (double *)malloc(sizeof(double) * ir.count);
        pn = (double *)malloc(sizeof(double) * (ir.count + 1));
        losses = (double *)malloc(sizeof(double) * 2 * (2 * ir.count + 2));
        for (int r = 0; r < N * N; r++) /* some group structure, so that the metrics are not all noise */
            for (int z = 0; z < N; z++) {
                const double *m = ir.mats + (size_t)N * ir.coef[1] + (size_t)g.table[g.table[r] * N + g.inverse[z]] * ir.dim[1] * ir.dim[1];
                for (int a = 0; a < ir.dim[1]; a++) L[r * N + z] += 4 * m[a * ir.dim[1] + a];
            }
        nk = ir.count > 2 ? 2 : 1;
        keys[0] = 1; keys[1] = ir.count - 1;
        must(grok_irreps_trace_sims(sims, L, &g, &ir), "trace sims");
        must(grok_irreps_pair_norms(pn, pn + ir.count, H, M, &g, &ir), "pair norms");
        must(grok_irreps_losses(&losses[0], &losses[1], losses + 2, losses + 2 + ir.count, L, N, NULL, NULL, keys, nk, &g, &ir),
             "logit losses");
        must(grok_irreps_losses(&losses[2 * ir.count + 2], &losses[2 * ir.count + 3], losses + 2 * ir.count + 4,
                                losses + 3 * ir.count + 4, H, M, W, base, keys, nk, &g, &ir), "hidden losses");
        save(path(name, "_logits.npy"), GROK_DT_F64, L, 2, (int64_t)N * N, N, 0);
        save(path(name, "_hidden.npy"), GROK_DT_F64, H, 2, (int64_t)N * N, M, 0);
        save(path(name, "_W.npy"), GROK_DT_F64, W, 2, M, N, 0);
        save(path(name, "_base.npy"), GROK_DT_F64, base, 2, (int64_t)N * N, N, 0);
        save(path(name, "_keys.npy"), GROK_DT_I32, keys, 1, nk, 0, 0);
        save(path(name, "_sims.npy"), GROK_DT_F64, sims, 1, ir.count, 0, 0);
        save(path(name, "_pair_norms.npy"), GROK_DT_F64, pn, 1, ir.count + 1, 0, 0);
        save(path(name, "_losses.npy"), GROK_DT_F64, losses, 2, 2, 2 * ir.count + 2, 0);
        free(L); free(H); free(W); free(base); free(sims); free(pn); free(losses);
    }
    printf("irreps gen: %-5s order %3d, %2d irreps, %2d classes\n", name, N, ir.count, nc);
    free(classes); free(chi); free(f); free(fhat); free(norms);
    grok_irreps_free(&ir);
    grok_group_free(&g);
}

int main(int argc, char **argv)
{
    static const struct { grok_group_kind kind; int n, metrics; } groups[] = {
        {GROK_GROUP_CYCLIC, 1, 0}, {GROK_GROUP_CYCLIC, 7, 1}, {GROK_GROUP_CYCLIC, 12, 1}, {GROK_GROUP_DIHEDRAL, 1, 0},
        {GROK_GROUP_DIHEDRAL, 2, 0}, {GROK_GROUP_DIHEDRAL, 5, 1}, {GROK_GROUP_DIHEDRAL, 6, 1}, {GROK_GROUP_SYMMETRIC, 2, 0},
        {GROK_GROUP_SYMMETRIC, 3, 1}, {GROK_GROUP_SYMMETRIC, 4, 1}, {GROK_GROUP_SYMMETRIC, 5, 0}, {GROK_GROUP_SYMMETRIC, 6, 0},
        {GROK_GROUP_ALTERNATING, 3, 1}, {GROK_GROUP_ALTERNATING, 4, 1}, {GROK_GROUP_ALTERNATING, 5, 0}, {GROK_GROUP_ALTERNATING, 6, 0},
    };
    if (argc != 3 || strcmp(argv[1], "gen")) {
        fprintf(stderr, "usage: irreps gen DIR\n");
        return 2;
    }
    dir = argv[2];
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) gen(groups[i].kind, groups[i].n, groups[i].metrics);
    return 0;
}
