/* sweep - a grid of grokking runs, several at once or across MPI ranks, and its phase diagram.

   Usage: sweep [--AXIS v1,v2,..].. [--grid FILE] [--out DIR] [--threads N] [--jobs N] [--x AXIS]
                [--y AXIS] [--report-only] [--quiet] [--help]
   The grid is the product of the values of every axis (defaults: seed 000's canonical run):
       task add | p 113 | frac 0.3 | lr 1e-3 | wd 1 | seed 999 (model) | data-seed 598 (split)
       epochs 25000 | every 100 (evaluation period) | d-model 128 | d-mlp 512 | n-heads 4
       grokfast none (ema, ma: Grokfast's filters at the reference defaults) | stablemax 0 (1:
       StableMax cross-entropy) | orthograd 0 (1: the orthogonal gradient) | fixed-norm 0 (> 0: the
       trainable weights held at that L2 norm) | early-stop 0 (> 0: stop once test accuracy held
       that for 3 evaluations) | stall-stop 0 (> 0: stop a run that memorised, train accuracy
       >= 0.99, and set no new best test accuracy for that many epochs)
   e.g. sweep --p 59 --epochs 3000 --wd 0.1,0.3,1 --frac 0.2,0.3,0.5 --seed 1,2. --grid FILE
   reads the same from a file, one axis a line ("wd 0.1, 0.3, 1" or "wd = 0.1,0.3,1"; # comments);
   an axis given on the command line replaces the file's. Values are read as options.h reads a
   flag's (1e3 is an integer, 0.3x nothing) and checked against the axis' range; a grid of more
   than MAX_POINTS points is refused.

   Each point trains once and appends one row to OUT/results.csv, flushed at once; a restarted
   sweep skips the points already there (the first 18 columns are the point; the column stop
   says whether and why a run stopped early), so a killed sweep resumes where it stopped. A row
   that does not parse (row_check) is reported and its point runs again; a row that cannot be
   written (a full disk) stops the sweep. At the end OUT/phase.svg, OUT/epochs.svg and
   OUT/sweep.html show the phase diagram over --x and --y (default wd x frac) from every row of
   results.csv.

   --jobs N trains N points at once in N forked worker processes, --threads threads each: the
   sweep hands out the points one at a time to the workers as they become free (a work queue,
   over a pipe to each) and writes the rows they send back as they arrive. A small run gains
   little from a second thread, so by default every core trains a run of its own: --jobs is the
   cores divided by the threads per run where these are given (--threads, GROK_THREADS,
   SLURM_CPUS_PER_TASK), else the cores, each job then getting the cores / --jobs threads; never
   more jobs than points to run. Processes rather than threads in one process: as fast
   (measured), each job keeps a thread pool of its own (grok.h's is one per process and runs one
   parallel job at a time), and a worker that dies (out of memory) costs only its point, which a
   rerun trains. A worker whose sweep was killed stops at its next evaluation.

   Built with -DGROK_MPI and mpicc (make sweep-mpi: examples/sweep_mpi), `mpirun -n N` or
   Slurm's srun start N ranks: rank 0 is the same work queue over MPI, handing out points to
   ranks 1..N-1, and does not train itself; the ranks are the jobs (--jobs > 1 is refused).
   Threads per rank: --threads, else GROK_THREADS, else SLURM_CPUS_PER_TASK, else the node's
   cores divided by the ranks on the node. A run's bits do not depend on the job, the rank or
   the thread count, so the rows do not depend on how the sweep was run. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#ifdef GROK_MPI
#include <mpi.h>
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "options.h"
#include "run_dir.h"

/* The task axis: a name and a builder with grok_task_modadd's signature. A new task is one
   line here; fourier = 1 when modular addition's progress measures apply to its model. */
typedef int (*task_builder)(grok_data *train, grok_data *test, int p, double frac_train, uint64_t data_seed);
#define MODOP_TASK(fn, op, m)                                                                      \
    static int fn(grok_data *train, grok_data *test, int p, double frac_train, uint64_t data_seed) \
    {                                                                                              \
        return grok_task_modop(train, test, op, p, m, m, frac_train, data_seed);                   \
    }
MODOP_TASK(task_sub, GROK_OP_SUB, 1)
MODOP_TASK(task_mul, GROK_OP_MUL, 1)
MODOP_TASK(task_div, GROK_OP_DIV, 1)
MODOP_TASK(task_pow4, GROK_OP_POW_SUM, 4)
MODOP_TASK(task_sq_sum, GROK_OP_SQ_SUM, 1)
MODOP_TASK(task_sq_cross, GROK_OP_SQ_CROSS, 1)
MODOP_TASK(task_sq_cross_plus_a, GROK_OP_SQ_CROSS_PLUS_A, 1)
MODOP_TASK(task_cube_cross, GROK_OP_CUBE_CROSS, 1)
MODOP_TASK(task_cube_cross_sq, GROK_OP_CUBE_CROSS_SQ, 1)
MODOP_TASK(task_div_if_odd, GROK_OP_DIV_IF_ODD, 1)
MODOP_TASK(task_add_or_mul, GROK_OP_ADD_OR_MUL, 1)
MODOP_TASK(task_add_or_sub, GROK_OP_ADD_OR_SUB, 1)
static const struct {
    const char *name;
    task_builder build;
    int fourier;
} tasks[] = {
    {"add", grok_task_modadd, 1},   /* (a + b) mod p, seed 000 */
    {"sub", task_sub, 0},           /* (a - b) mod p */
    {"mul", task_mul, 0},           /* (a * b) mod p */
    {"div", task_div, 0},           /* (a / b) mod p, b != 0, p prime */
    {"pow4", task_pow4, 0},         /* (a^4 + b^4) mod p, seed 001 */
    {"sq_sum", task_sq_sum, 0},     /* (a^2 + b^2) mod p */
    {"sq_cross", task_sq_cross, 0}, /* (a^2 + ab + b^2) mod p */
    /* the rest of the grokking paper's operations (openai/grok) */
    {"sq_cross_plus_a", task_sq_cross_plus_a, 0}, /* (a^2 + ab + b^2 + a) mod p */
    {"cube_cross", task_cube_cross, 0},           /* (a^3 + ab) mod p */
    {"cube_cross_sq", task_cube_cross_sq, 0},     /* (a^3 + ab^2 + b) mod p */
    {"div_if_odd", task_div_if_odd, 0},           /* a / b if b odd, else a - b (mod p), p prime */
    {"add_or_mul", task_add_or_mul, 0},           /* a + b if a even, else a b (mod p) */
    {"add_or_sub", task_add_or_sub, 0},           /* a + b if a even, else a - b (mod p) */
};
#define N_TASKS ((int)(sizeof tasks / sizeof tasks[0]))

enum {
    A_TASK, A_P, A_FRAC, A_LR, A_WD, A_SEED, A_DATA_SEED, A_EPOCHS, A_EVERY, A_D_MODEL, A_D_MLP, A_N_HEADS,
    A_GROKFAST, A_STABLEMAX, A_ORTHOGRAD, A_FIXED_NORM, A_EARLY_STOP, A_STALL_STOP, N_AXES
};
/* how an axis' values are read and written; a seed is any 64-bit value, a name one of the axis' names */
enum { K_TASK, K_INT, K_SEED, K_REAL, K_NAME };
static const char *const grokfast_names[] = {"none", "ema", "ma", NULL}; /* grok_filter_kind's order */
static const struct {
    const char *col, *alias, *def;
    int kind;
    double min, max;          /* the range of a value (K_INT, K_REAL) */
    int open;                 /* K_REAL: OPT_OPEN_MIN | OPT_OPEN_MAX, as options.h reads it */
    const char *const *names; /* K_NAME */
} axes[N_AXES] = {
    {"task", "task", "add", K_TASK, 0, 0, 0, NULL},
    {"p", "p", "113", K_INT, 2, 46340, 0, NULL},
    {"frac_train", "frac", "0.3", K_REAL, 0, 1, OPT_OPEN_MIN | OPT_OPEN_MAX, NULL},
    {"lr", "lr", "1e-3", K_REAL, 0, 100, OPT_OPEN_MIN, NULL},
    {"wd", "wd", "1", K_REAL, 0, 100, 0, NULL},
    {"seed", "seed", "999", K_SEED, 0, 0, 0, NULL},
    {"data_seed", "data_seed", "598", K_SEED, 0, 0, 0, NULL},
    {"epochs", "epochs", "25000", K_INT, 1, 1000000000, 0, NULL},
    {"every", "every", "100", K_INT, 1, 1000000000, 0, NULL},
    {"d_model", "d_model", "128", K_INT, 1, 8192, 0, NULL},
    {"d_mlp", "d_mlp", "512", K_INT, 1, 65536, 0, NULL},
    {"n_heads", "n_heads", "4", K_INT, 1, 1024, 0, NULL},
    {"grokfast", "grokfast", "none", K_NAME, 0, 0, 0, grokfast_names},
    {"stablemax", "stablemax", "0", K_INT, 0, 1, 0, NULL},
    {"orthograd", "orthograd", "0", K_INT, 0, 1, 0, NULL},
    {"fixed_norm", "fixed_norm", "0", K_REAL, 0, 1e6, 0, NULL},
    {"early_stop", "early_stop", "0", K_REAL, 0, 1, 0, NULL},
    {"stall_stop", "stall_stop", "0", K_INT, 0, 1000000000, 0, NULL},
};
/* early_stop > 0 stops a run whose test accuracy stayed at or above it for EARLY_STOP_EVALS
   evaluations; stall_stop > 0 one that memorised (train accuracy >= STALL_MEMORISED) and then
   set no new best test accuracy for that many epochs (grok_early_stop). */
#define EARLY_STOP_EVALS 3
#define STALL_MEMORISED 0.99
static const char *const result_cols =
    "n_train,n_test,epoch_train_99,epoch_test_99,final_epoch,train_loss,test_loss,train_acc,test_acc,"
    "restricted_loss,excluded_loss,gini_W_E,gini_W_logit,sum_sq_weights,phase,status,stop,seconds";
#define N_COLS (N_AXES + 18)
#define N_OPTIONS (N_AXES + 8) /* an option per axis, then --grid, --out, --threads, --jobs, --x, --y, --report-only, --quiet */
#define MAX_POINTS 10000000L
#define MAX_VALUES 256
#define ROW_MAX 1024
#define VAL_MAX 32
#define KEY_MAX (N_AXES * VAL_MAX + 1)

typedef struct {
    char v[N_AXES][MAX_VALUES][VAL_MAX];
    int n[N_AXES];
} grid;

/* Axis index of a name: the CSV column or the option name, '-' and '_' alike; -1 if none. */
static int axis_find(const char *name)
{
    char s[64];
    size_t i;
    int a;
    for (i = 0; name[i] && i < sizeof s - 1; i++) s[i] = name[i] == '-' ? '_' : name[i];
    s[i] = 0;
    for (a = 0; a < N_AXES; a++)
        if (!strcmp(s, axes[a].col) || !strcmp(s, axes[a].alias)) return a;
    return -1;
}

static int task_find(const char *name)
{
    int t;
    for (t = 0; t < N_TASKS; t++)
        if (!strcmp(name, tasks[t].name)) return t;
    return -1;
}

/* The index of name among a K_NAME axis' names; -1 if none. */
static int name_find(int a, const char *name)
{
    int k;
    for (k = 0; axes[a].names[k]; k++)
        if (!strcmp(name, axes[a].names[k])) return k;
    return -1;
}

/* Reads one value of axis a into its canonical text (so that 1e-3 and 0.001 are one point), as
   options.h reads a flag's value. Returns NULL, or why s is not a value of the axis. */
static const char *value_parse(char *out, int a, const char *s)
{
    const char *why;
    if (axes[a].kind == K_TASK) {
        if (task_find(s) < 0) return "not a task";
        snprintf(out, VAL_MAX, "%s", s);
    } else if (axes[a].kind == K_NAME) {
        if (name_find(a, s) < 0) return "not one of its names";
        snprintf(out, VAL_MAX, "%s", s);
    } else if (axes[a].kind == K_INT || axes[a].kind == K_SEED) {
        unsigned long long v;
        why = axes[a].kind == K_SEED ? opt_read_integer(s, 0, 18446744073709551615ull, &v)
                                     : opt_read_integer(s, (unsigned long long)axes[a].min, (unsigned long long)axes[a].max, &v);
        if (why) return why;
        snprintf(out, VAL_MAX, "%llu", v);
    } else {
        double v;
        if ((why = opt_read_real(s, axes[a].min, axes[a].max, axes[a].open, &v)) != NULL) return why;
        snprintf(out, VAL_MAX, "%.10g", v);
    }
    return NULL;
}

/* A point's values are value_parse's canonical text, checked when the grid was read: read back
   strictly all the same, so that no value can turn into another number. */
static unsigned long long value_u64(const char *s)
{
    unsigned long long v = 0;
    opt_read_integer(s, 0, 18446744073709551615ull, &v);
    return v;
}

static double value_real(const char *s)
{
    double v = 0.0;
    opt_read_real(s, -HUGE_VAL, HUGE_VAL, 0, &v);
    return v;
}

/* What a value of axis a may be, for messages and --help. */
static void axis_range(char *buf, size_t cap, int a)
{
    int t;
    size_t n;
    if (axes[a].kind == K_TASK) {
        n = (size_t)snprintf(buf, cap, "one of");
        for (t = 0; t < N_TASKS && n < cap; t++) n += (size_t)snprintf(buf + n, cap - n, "%s %s", t ? "," : "", tasks[t].name);
    } else if (axes[a].kind == K_NAME) {
        n = (size_t)snprintf(buf, cap, "one of");
        for (t = 0; axes[a].names[t] && n < cap; t++) n += (size_t)snprintf(buf + n, cap - n, "%s %s", t ? "," : "", axes[a].names[t]);
    } else if (axes[a].kind == K_SEED) {
        snprintf(buf, cap, "integers in 0..18446744073709551615");
    } else if (axes[a].kind == K_INT) {
        snprintf(buf, cap, "integers in %.0f..%.0f", axes[a].min, axes[a].max);
    } else {
        snprintf(buf, cap, "numbers in %c%g, %g%c", axes[a].open & OPT_OPEN_MIN ? '(' : '[', axes[a].min, axes[a].max,
                 axes[a].open & OPT_OPEN_MAX ? ')' : ']');
    }
}

/* Sets axis a to the values in s, separated by commas and/or blanks; a repeated value counts
   once, so that every point of the grid is distinct. */
static int axis_set(grid *g, int a, const char *s)
{
    char buf[4096], *tok, *save = NULL;
    g->n[a] = 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (tok = strtok_r(buf, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
        if (g->n[a] == MAX_VALUES) { fprintf(stderr, "sweep: more than %d values for %s\n", MAX_VALUES, axes[a].col); return -1; }
        int k;
        const char *why = value_parse(g->v[a][g->n[a]], a, tok);
        if (why) {
            char range[256];
            axis_range(range, sizeof range, a);
            fprintf(stderr, "sweep: %s value '%s': %s; want %s\n", axes[a].col, tok, why, range);
            return -1;
        }
        for (k = 0; k < g->n[a] && strcmp(g->v[a][k], g->v[a][g->n[a]]); k++) {}
        if (k == g->n[a]) g->n[a]++;
    }
    if (g->n[a] == 0) { fprintf(stderr, "sweep: no values for %s\n", axes[a].col); return -1; }
    return 0;
}

/* Reads the axes of a grid file (a regular file: a directory or a device would read as an empty
   grid, that is the default point, or never end); the file's axes replace the defaults. */
static int grid_file(grid *g, const char *path)
{
    char line[4096];
    struct stat sb;
    FILE *f;
    int ln = 0, rc = 0;
    if (stat(path, &sb) != 0) { fprintf(stderr, "sweep: --grid %s: %s\n", path, strerror(errno)); return -1; }
    if (!S_ISREG(sb.st_mode)) { fprintf(stderr, "sweep: --grid %s is not a file\n", path); return -1; }
    if (!(f = fopen(path, "r"))) { fprintf(stderr, "sweep: cannot open %s: %s\n", path, strerror(errno)); return -1; }
    while (rc == 0 && fgets(line, sizeof line, f)) {
        char *s = line, *name, *hash = strchr(line, '#');
        int a;
        ln++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "sweep: %s:%d: a line longer than %d characters\n", path, ln, (int)sizeof line - 2);
            rc = -1;
            break;
        }
        if (hash) *hash = 0;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '\n' || *s == '\r') continue;
        name = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '=' && *s != '\n') s++;
        if (*s) *s++ = 0;
        while (*s == ' ' || *s == '\t' || *s == '=') s++;
        if ((a = axis_find(name)) < 0) {
            fprintf(stderr, "sweep: %s:%d: unknown axis '%s'\n", path, ln, name);
            rc = -1;
        } else if (axis_set(g, a, s) != 0) {
            fprintf(stderr, "sweep: (in %s:%d)\n", path, ln);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) { fprintf(stderr, "sweep: reading %s failed\n", path); rc = -1; }
    fclose(f);
    return rc;
}

/* The values of point i (the last axis varies fastest). */
static void point_values(const char *v[N_AXES], const grid *g, long i)
{
    int a;
    for (a = N_AXES - 1; a >= 0; a--) {
        v[a] = g->v[a][i % g->n[a]];
        i /= g->n[a];
    }
}

static void point_key(char *key, size_t cap, const grid *g, long i)
{
    const char *v[N_AXES];
    size_t n = 0;
    int a;
    point_values(v, g, i);
    key[0] = 0;
    for (a = 0; a < N_AXES; a++) n += (size_t)snprintf(key + n, n < cap ? cap - n : 0, a ? ",%s" : "%s", v[a]);
}

/* The first epochs at which train and test accuracy reached 99%, and the last evaluation. */
typedef struct {
    long train_99, test_99, epoch;
    grok_metrics last;
} milestones;

/* In a --jobs worker, the process that forked it: once it is gone (killed), the row has nowhere
   to go, and the worker stops its point at the next evaluation instead of training it on. */
static pid_t coordinator;

static int on_eval(grok_model *m, void *ctx)
{
    milestones *ms = (milestones *)ctx;
    if (coordinator && getppid() != coordinator) return 1;
    if (ms->train_99 < 0 && m->metrics.train_acc >= 0.99) ms->train_99 = m->epoch;
    if (ms->test_99 < 0 && m->metrics.test_acc >= 0.99) ms->test_99 = m->epoch;
    ms->epoch = m->epoch;
    ms->last = m->metrics;
    return 0;
}

/* printf's %.*g, but "nan" for every NaN (printf may write "-nan"). */
static const char *num(char *buf, double x, int prec)
{
    if (x != x) return "nan";
    snprintf(buf, 32, "%.*g", prec, x);
    return buf;
}

/* Trains point i and writes its CSV row (no newline) into row. Never fails: a point whose
   task, model or training fails gets a row whose status names the error. */
static void run_point(char *row, const grid *g, long i)
{
    const char *v[N_AXES];
    grok_data train, test;
    grok_model m;
    grok_config cfg;
    grok_train_opts o = grok_train_opts_default();
    milestones ms = {-1, -1, 0, {NAN, NAN, NAN, NAN}};
    double pm[5] = {NAN, NAN, NAN, NAN, NAN}, t0, seconds;
    struct timespec ts;
    char key[KEY_MAX], b[9][32];
    int t, p, st, k, phase;
    point_values(v, g, i);
    point_key(key, sizeof key, g, i);
    t = task_find(v[A_TASK]);
    p = (int)value_u64(v[A_P]);
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    memset(&m, 0, sizeof m);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    st = tasks[t].build(&train, &test, p, value_real(v[A_FRAC]), value_u64(v[A_DATA_SEED]));
    if (st == GROK_OK) {
        /* seed 000's model with the swept sizes; the vocabularies are whatever the task's tokens
           and labels need */
        cfg = grok_config_modadd(p);
        cfg.seed = value_u64(v[A_SEED]);
        cfg.d_model = (int)value_u64(v[A_D_MODEL]);
        cfg.d_mlp = (int)value_u64(v[A_D_MLP]);
        cfg.n_heads = (int)value_u64(v[A_N_HEADS]);
        cfg.d_head = cfg.d_model / cfg.n_heads;
        cfg.n_ctx = train.n_ctx;
        cfg.d_vocab = cfg.d_vocab_out = 0;
        for (k = 0; k < (train.n + test.n) * train.n_ctx; k++) {
            int tok = k < train.n * train.n_ctx ? train.tokens[k] : test.tokens[k - train.n * train.n_ctx];
            int tgt = k < train.n * train.n_ctx ? train.targets[k] : test.targets[k - train.n * train.n_ctx];
            if (tok >= cfg.d_vocab) cfg.d_vocab = tok + 1;
            if (tgt >= cfg.d_vocab_out) cfg.d_vocab_out = tgt + 1;
        }
        st = grok_model_init(&m, &cfg, train.n);
    }
    if (st == GROK_OK) {
        m.opt.lr = value_real(v[A_LR]);
        m.opt.weight_decay = value_real(v[A_WD]);
        m.opt.orthogonal = (int)value_u64(v[A_ORTHOGRAD]);
        m.opt.fixed_norm = value_real(v[A_FIXED_NORM]);
        m.loss = value_u64(v[A_STABLEMAX]) ? GROK_LOSS_STABLEMAX : GROK_LOSS_SOFTMAX;
        o.grokfast = grok_gradfilter_default(name_find(A_GROKFAST, v[A_GROKFAST]));
        o.early_stop.acc = value_real(v[A_EARLY_STOP]);
        o.early_stop.evals = EARLY_STOP_EVALS;
        o.early_stop.stall_epochs = (long)value_u64(v[A_STALL_STOP]);
        o.early_stop.memorised = STALL_MEMORISED;
        o.epochs = (long)value_u64(v[A_EPOCHS]);
        o.eval_every = (long)value_u64(v[A_EVERY]);
        o.checkpoint_every = 0;
        o.progress = 0;
        o.on_eval = on_eval;
        o.on_eval_ctx = &ms;
        st = grok_train(&m, &o, &train, &test);
        if (st == GROK_OK && tasks[t].fourier) st = grok_modadd_progress(pm, &m, &train, &test, NULL, 0);
    }
    if (st != GROK_OK) fprintf(stderr, "sweep: point %s: %s\n", key, grok_last_error());
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seconds = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - t0;
    phase = grok_phase_classify(ms.train_99, ms.test_99, ms.last.train_acc, ms.last.test_acc, 0);
    snprintf(row, ROW_MAX, "%s,%d,%d,%ld,%ld,%ld,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%.3f", key, train.n, test.n,
             ms.train_99, ms.test_99, ms.epoch, num(b[0], ms.last.train_loss, 9), num(b[1], ms.last.test_loss, 9),
             num(b[2], ms.last.train_acc, 6), num(b[3], ms.last.test_acc, 6), num(b[4], pm[0], 9), num(b[5], pm[1], 9),
             num(b[6], pm[2], 9), num(b[7], pm[3], 9), num(b[8], pm[4], 9), grok_phase_name(phase),
             st == GROK_OK ? "ok" : grok_status_name(st), grok_stop_reason_name(m.stop.reason), seconds);
    grok_model_free(&m);
    grok_data_free(&train);
    grok_data_free(&test);
}

/* ----- results.csv */

static int split(char **f, int max, char *line) /* in place, on commas; returns the field count */
{
    int n = 0;
    char *s = line;
    line[strcspn(line, "\r\n")] = 0;
    while (n < max) {
        f[n++] = s;
        if (!(s = strchr(s, ','))) break;
        *s++ = 0;
    }
    return n;
}

/* Whether the whole of s is a number as printf writes one, nan included. */
static int is_number(const char *s)
{
    char *end;
    if (!strcmp(s, "nan")) return 1;
    (void)strtod(s, &end);
    return end != s && !*end;
}

/* Whether a results.csv row parses as one this program writes: N_COLS fields, the point's values
   in their canonical text, the counts and epochs integers, the nine measures numbers or nan, a
   phase, a status and the seconds. 0, or -1 with what is wrong in why. */
static int row_check(char *why, size_t cap, const char *row)
{
    char buf[ROW_MAX + 2], *f[N_COLS + 1], canon[VAL_MAX], *end;
    int a, c, k;
    snprintf(buf, sizeof buf, "%s", row);
    if ((c = split(f, N_COLS + 1, buf)) != N_COLS) {
        snprintf(why, cap, "has %d fields, not %d", c, N_COLS);
        return -1;
    }
    for (a = 0; a < N_AXES; a++)
        if (value_parse(canon, a, f[a]) || strcmp(canon, f[a])) {
            snprintf(why, cap, "has %s '%s', not a value as this sweep writes it", axes[a].col, f[a]);
            return -1;
        }
    for (c = N_AXES; c < N_AXES + 5; c++) { /* n_train, n_test, epoch_train_99, epoch_test_99, final_epoch */
        long v = strtol(f[c], &end, 10);
        if (end == f[c] || *end || v < -1) { snprintf(why, cap, "has '%s' in column %d, not a count or epoch", f[c], c + 1); return -1; }
    }
    for (c = N_AXES + 5; c < N_AXES + 14; c++) /* the losses, accuracies and measures */
        if (!is_number(f[c])) {
            snprintf(why, cap, "has '%s' in column %d, not a number", f[c], c + 1);
            return -1;
        }
    for (k = 0; k < 5 && strcmp(f[N_AXES + 14], grok_phase_name(k)); k++) {}
    if (k == 5 || !*f[N_AXES + 15] || !is_number(f[N_AXES + 17]) || !(strtod(f[N_AXES + 17], NULL) >= 0)) {
        snprintf(why, cap, "does not end in a phase, a status, the stop and the seconds");
        return -1;
    }
    for (k = 0; k < 3 && strcmp(f[N_AXES + 16], grok_stop_reason_name(k)); k++) {}
    if (k == 3) {
        snprintf(why, cap, "has '%s' for the stop, not none, grokked or stalled", f[N_AXES + 16]);
        return -1;
    }
    return 0;
}

typedef struct {
    int n;
    char **rows; /* whole lines, newline stripped */
} table;

static void table_free(table *t)
{
    int i;
    for (i = 0; i < t->n; i++) free(t->rows[i]);
    free(t->rows);
    t->n = 0;
    t->rows = NULL;
}

/* Reads results.csv's rows. A missing file is an empty table; a header that is not this
   program's is an error (another sweep's file, left alone); a torn last line, written when a
   sweep was killed, is cut off the file. On failure the table is empty. */
static int table_load(table *t, const char *path, const char *header)
{
    FILE *f = fopen(path, "rb");
    long size, keep = 0;
    char line[ROW_MAX + 2];
    const char *why = NULL;
    size_t len = 0;
    t->n = 0;
    t->rows = NULL;
    if (!f) return errno == ENOENT ? 0 : (fprintf(stderr, "sweep: cannot open %s: %s\n", path, strerror(errno)), -1);
    while (!why && fgets(line, sizeof line, f)) {
        char *copy, **grown;
        len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            if (!feof(f)) why = "has a line longer than any row of a sweep";
            break; /* the torn last line */
        }
        line[len - 1] = 0;
        if (keep == 0 && strcmp(line, header) != 0) why = "has another header";
        else if (keep > 0) {
            if (!(copy = (char *)malloc(len)) || !(grown = (char **)realloc(t->rows, sizeof *grown * (size_t)(t->n + 1)))) {
                free(copy);
                why = "is too big to read";
                break;
            }
            memcpy(copy, line, len);
            t->rows = grown;
            t->rows[t->n++] = copy;
        }
        keep += (long)len;
        len = 0;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    if (!why && size > keep && keep == 0 && strncmp(line, header, len) != 0) why = "has another header";
    if (why) {
        fprintf(stderr, "sweep: %s %s; give this sweep another --out\n", path, why);
        table_free(t);
        return -1;
    }
    if (size > keep) {
        fprintf(stderr, "sweep: %s: cutting a torn last line (%ld bytes)\n", path, size - keep);
        if (truncate(path, keep) != 0) {
            fprintf(stderr, "sweep: truncate %s: %s\n", path, strerror(errno));
            table_free(t);
            return -1;
        }
    }
    return 0;
}

/* Appends line and a newline to results.csv and flushes it, so that a killed sweep keeps every
   finished row. 0, or -1 after a message (a full disk): the sweep then stops, and a rerun
   resumes from the rows before it. */
static int line_write(FILE *f, const char *line, const char *csv)
{
    if (fprintf(f, "%s\n", line) >= 0 && fflush(f) == 0) return 0;
    fprintf(stderr, "sweep: writing %s failed: %s; the sweep stops here, a rerun resumes it\n", csv, strerror(errno));
    return -1;
}

/* ----- the phase diagram and sweep.html */

static int col_index(const char *header_copy, const char *name)
{
    char buf[ROW_MAX], *f[N_COLS];
    int n, i;
    snprintf(buf, sizeof buf, "%s", header_copy);
    n = split(f, N_COLS, buf);
    for (i = 0; i < n; i++)
        if (!strcmp(f[i], name)) return i;
    return -1;
}

static int value_cmp(const void *x, const void *y)
{
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;
    char *ea, *eb;
    double da = strtod(a, &ea), db = strtod(b, &eb);
    if (!*ea && !*eb && ea != a && eb != b && da != db) return da < db ? -1 : 1;
    return strcmp(a, b);
}

/* The distinct values of column c over the rows, sorted (numerically when they are numbers). */
static int distinct(const char **vals, int max, char ***fields, int nrows, int c)
{
    int n = 0, r, k;
    for (r = 0; r < nrows; r++) {
        for (k = 0; k < n && strcmp(vals[k], fields[r][c]); k++) {}
        if (k < n) continue;
        if (n == max) { fprintf(stderr, "sweep: %s has more than %d values; the diagram shows %d\n", axes[c].col, max, max); break; }
        vals[n++] = fields[r][c];
    }
    qsort((void *)vals, (size_t)n, sizeof *vals, value_cmp);
    return n;
}

static int epochs_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Cells over the x and y columns, every other axis pooled: epochs = the lower median of the
   runs' epoch_test_99 (never = infinity, so a cell groks when at least half its runs do);
   phase = the most frequent phase of its runs (ties: the earlier of comprehension, grokking,
   memorisation, confusion). */
static int report_write(const char *out, const char *csv, const char *header, int ax, int ay)
{
    table t;
    char ***fields = NULL, path[4096], title[256], tmp[RUN_TMP_MAX], written[8192] = "";
    run_dir dir; /* for run_create, run_commit and run_output */
    const char *xs[200], *ys[200];
    int nx, ny, r, i, j, nf = 0, st = -1, ce = col_index(header, "epoch_test_99"), cp = col_index(header, "phase");
    int *phase = NULL;
    double *epochs = NULL, *pool = NULL;
    FILE *f;
    grok_phase_diagram d;
    dir.prog = "sweep"; dir.out = out; dir.files = dir.finals = NULL;
    if (table_load(&t, csv, header) != 0) return -1;
    if (t.n == 0) { fprintf(stderr, "sweep: %s has no rows: no phase diagram\n", csv); table_free(&t); return 0; }
    if (!(fields = (char ***)calloc((size_t)t.n, sizeof *fields))) goto done;
    for (r = 0; r < t.n; r++) { /* rows that do not parse are left out, with a warning */
        char why[256];
        if (row_check(why, sizeof why, t.rows[r]) != 0) {
            fprintf(stderr, "sweep: %s: line %d %s; left out of the diagram\n", csv, r + 2, why);
            continue;
        }
        if (!(fields[nf] = (char **)malloc(sizeof(char *) * N_COLS))) goto done;
        split(fields[nf++], N_COLS, t.rows[r]);
    }
    if (nf == 0) goto done;
    nx = distinct(xs, 200, fields, nf, ax);
    ny = distinct(ys, 200, fields, nf, ay);
    phase = (int *)malloc(sizeof(int) * (size_t)(nx * ny));
    epochs = (double *)malloc(sizeof(double) * (size_t)(nx * ny));
    pool = (double *)malloc(sizeof(double) * (size_t)nf);
    if (!phase || !epochs || !pool) goto done;
    for (i = 0; i < ny; i++)
        for (j = 0; j < nx; j++) {
            int count[5] = {0, 0, 0, 0, 0}, n = 0, best = 0, k;
            for (r = 0; r < nf; r++) {
                long e;
                if (strcmp(fields[r][ax], xs[j]) || strcmp(fields[r][ay], ys[i])) continue;
                e = strtol(fields[r][ce], NULL, 10); /* checked whole when the row was read */
                pool[n++] = e > 0 ? (double)e : INFINITY;
                for (k = 1; k < 5 && strcmp(fields[r][cp], grok_phase_name(k)); k++) {}
                count[k < 5 ? k : 0]++;
            }
            for (k = 1; k < 5; k++)
                if (count[k] > count[best]) best = k;
            phase[i * nx + j] = n ? best : GROK_PHASE_NONE;
            if (n) qsort(pool, (size_t)n, sizeof *pool, epochs_cmp);
            epochs[i * nx + j] = n ? pool[(n - 1) / 2] : NAN;
        }
    memset(&d, 0, sizeof d);
    d.rows = ny; d.cols = nx; d.row_labels = ys; d.col_labels = xs; d.epochs = epochs; d.phase = phase;
    d.xlabel = axes[ax].col; d.ylabel = axes[ay].col;
    snprintf(title, sizeof title, "phase over %s x %s (%d runs)", axes[ax].col, axes[ay].col, nf);
    d.title = title;
    d.colour_by_phase = 1;
    snprintf(path, sizeof path, "%s/phase.svg", out);
    if (grok_plot_phase_diagram_save(path, &d) != GROK_OK) { fprintf(stderr, "sweep: %s\n", grok_last_error()); goto done; }
    run_output(written, sizeof written, &dir, "phase.svg");
    d.colour_by_phase = 0;
    snprintf(title, sizeof title, "epochs to grok (test accuracy 99%%), median of each cell");
    snprintf(path, sizeof path, "%s/epochs.svg", out);
    if (grok_plot_phase_diagram_save(path, &d) != GROK_OK) { fprintf(stderr, "sweep: %s\n", grok_last_error()); goto done; }
    run_output(written, sizeof written, &dir, "epochs.svg");
    if (!(f = run_create(&dir, "sweep.html", tmp))) goto done;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>grok.h sweep</title>\n<style>"
          "body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:8px}"
          "figcaption{text-align:center;font-weight:bold}div.t{overflow-x:auto}table{border-collapse:collapse;"
          "font-size:12px;white-space:nowrap}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
          "th{background:#f0f0f0}</style></head><body>\n<h1>grok.h sweep</h1>\n", f);
    fprintf(f, "<p>%d runs from <code>", nf);
    grok_xml_escape(f, csv);
    fputs("</code>. Phase of a run (grok_phase_classify): <b>confusion</b> final train accuracy &lt; 99%; "
          "<b>memorisation</b> train &ge; 99% but test &lt; 99% at the end; <b>comprehension</b> both &ge; 99% at the "
          "end and test reached 99% no later than twice the epoch at which train did; <b>grokking</b> later than that. "
          "A cell pools every run with its two values (all other axes): its phase is the most frequent one, its "
          "epochs the lower median of the epochs to grok (never counting as infinite).", f);
    {
        const char *vals[200];
        int first = 1;
        for (i = 0; i < N_AXES; i++) {
            int n = distinct(vals, 200, fields, nf, i);
            if (i == ax || i == ay || n < 2) continue;
            fprintf(f, "%s%s (%d values)", first ? " Pooled here: " : ", ", axes[i].col, n);
            first = 0;
        }
        if (!first) fputc('.', f);
    }
    fputs("</p>\n<figure><figcaption>phase</figcaption>", f);
    d.colour_by_phase = 1;
    d.title = NULL;
    if (grok_plot_phase_diagram(f, &d) != GROK_OK) fprintf(stderr, "sweep: %s\n", grok_last_error());
    fputs("</figure><figure><figcaption>epochs to grok</figcaption>", f);
    d.colour_by_phase = 0;
    if (grok_plot_phase_diagram(f, &d) != GROK_OK) fprintf(stderr, "sweep: %s\n", grok_last_error());
    fputs("</figure>\n<div class=\"t\"><table>\n<tr>", f);
    {
        char hb[ROW_MAX], *hf[N_COLS];
        int nh;
        snprintf(hb, sizeof hb, "%s", header);
        nh = split(hf, N_COLS, hb);
        for (i = 0; i < nh; i++) { fputs("<th>", f); grok_xml_escape(f, hf[i]); fputs("</th>", f); }
    }
    fputs("</tr>\n", f);
    for (r = 0; r < nf; r++) {
        fputs("<tr>", f);
        for (i = 0; i < N_COLS; i++) { fputs("<td>", f); grok_xml_escape(f, fields[r][i]); fputs("</td>", f); }
        fputs("</tr>\n", f);
    }
    fputs("</table></div>\n</body></html>\n", f);
    if (run_commit(&dir, f, tmp, "sweep.html") != 0) goto done;
    run_output(written, sizeof written, &dir, "sweep.html");
    st = 0;
done:
    if (written[0]) printf("sweep: %s\n", written);
    for (r = 0; fields && r < t.n; r++) free(fields[r]);
    free(fields);
    free(phase);
    free(epochs);
    free(pool);
    table_free(&t);
    return st;
}

/* ----- the work queue: a coordinator hands out the points one at a time to its workers as they
   become free and writes the rows they send back, in the order they arrive. The workers are MPI
   ranks 1..N-1 (rank 0 coordinates), or --jobs processes forked by the sweep, each with a pipe
   that brings it points and one that takes its rows back. */

#define MAX_JOBS 64

typedef struct {
    int n;                                   /* workers */
    int over_mpi;                            /* worker w is rank w + 1; the rest is for forked ones */
    int work_fd[MAX_JOBS], row_fd[MAX_JOBS]; /* the coordinator's ends of the pipes */
    int busy[MAX_JOBS];                      /* given a point whose row has not come back */
    pid_t pid[MAX_JOBS];
    int my_work, my_row;                     /* in a worker: its own ends */
} crew;

#ifdef GROK_MPI
enum { TAG_WORK = 1, TAG_ROW = 2 };

static void nap(void) /* 10 ms: how rank 0 waits without spinning a core */
{
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
}
#endif

/* A pipe's read or write may move fewer bytes than asked: this moves all n, read into buf, or
   written from it when out. 0, or -1: the other end closed, or an error. */
static int pipe_move(int fd, void *buf, size_t n, int out)
{
    char *s = (char *)buf;
    while (n > 0) {
        ssize_t k = out ? write(fd, s, n) : read(fd, s, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Gives worker w point idx, or -1: no more work. A worker that died is found by crew_take. */
static void crew_give(crew *c, int w, long idx)
{
#ifdef GROK_MPI
    if (c->over_mpi) { MPI_Send(&idx, 1, MPI_LONG, w + 1, TAG_WORK, MPI_COMM_WORLD); return; }
#endif
    c->busy[w] = idx >= 0;
    (void)pipe_move(c->work_fd[w], &idx, sizeof idx, 1);
}

/* Waits for a row from any busy worker; returns the worker, or -1 - w when worker w ended
   without sending its row (killed, out of memory). */
static int crew_take(crew *c, char *row)
{
    struct pollfd pf[MAX_JOBS];
    int w;
#ifdef GROK_MPI
    if (c->over_mpi) {
        MPI_Status s;
        int flag = 0;
        for (;;) {
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_ROW, MPI_COMM_WORLD, &flag, &s);
            if (flag) break;
            nap();
        }
        MPI_Recv(row, ROW_MAX, MPI_CHAR, s.MPI_SOURCE, TAG_ROW, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        return s.MPI_SOURCE - 1;
    }
#endif
    for (w = 0; w < c->n; w++) {
        pf[w].fd = c->busy[w] ? c->row_fd[w] : -1; /* poll skips a negative fd */
        pf[w].events = POLLIN;
        pf[w].revents = 0;
    }
    while (poll(pf, (nfds_t)c->n, -1) < 0) {} /* EINTR, or a passing ENOMEM: the arguments are valid */
    for (w = 0; w < c->n && !pf[w].revents; w++) {}
    c->busy[w] = 0;
    if (pipe_move(c->row_fd[w], row, ROW_MAX, 0) != 0) return -1 - w;
    row[ROW_MAX - 1] = 0;
    return w;
}

/* The worker's side: its next point (-1: none), and its row back. */
static long crew_next(crew *c)
{
    long idx = -1;
#ifdef GROK_MPI
    if (c->over_mpi) { MPI_Recv(&idx, 1, MPI_LONG, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE); return idx; }
#endif
    return pipe_move(c->my_work, &idx, sizeof idx, 0) == 0 ? idx : -1;
}

static int crew_send(crew *c, char *row)
{
#ifdef GROK_MPI
    if (c->over_mpi) return MPI_Send(row, (int)strlen(row) + 1, MPI_CHAR, 0, TAG_ROW, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
#endif
    return pipe_move(c->my_row, row, ROW_MAX, 1);
}

/* A worker: trains the points it is given until told to stop. */
static void crew_work(crew *c, const grid *g, long total)
{
    static char row[ROW_MAX];
    long idx;
    while ((idx = crew_next(c)) >= 0 && idx < total) {
        run_point(row, g, idx);
        if (crew_send(c, row) != 0) break;
    }
}

/* The coordinator: hands out the pending points and writes each row to results.csv as it comes.
   After a row that cannot be written no more points go out (the sweep stops; a rerun resumes
   it); a worker that died costs only its point, which a rerun trains. 0, or 1 after either. */
static int crew_serve(crew *c, const long *pending, long n_pending, FILE *f, const char *csv, int quiet)
{
    static char row[ROW_MAX];
    const char *who = c->over_mpi ? "rank" : "job";
    long next = 0, got = 0;
    int active = 0, write_failed = 0, lost = 0, w;
    for (w = 0; w < c->n; w++) {
        long idx = next < n_pending ? pending[next++] : -1;
        crew_give(c, w, idx);
        active += idx >= 0;
    }
    while (active > 0) {
        long idx;
        if ((w = crew_take(c, row)) < 0) {
            w = -1 - w;
            fprintf(stderr, "sweep: %s %d ended without its row; a rerun trains its point\n", who, w + 1);
            lost = 1;
            active--;
            continue;
        }
        got++;
        if (!write_failed && line_write(f, row, csv) != 0) write_failed = 1;
        else if (!quiet && !write_failed)
            printf("[%ld/%ld] %s %d: %s\n", got, n_pending, who, w + 1, row), fflush(stdout);
        idx = !write_failed && next < n_pending ? pending[next++] : -1;
        crew_give(c, w, idx);
        active -= idx < 0;
    }
    return write_failed || lost;
}

static void pipe_close(const int fd[2])
{
    close(fd[0]);
    close(fd[1]);
}

/* Forks n workers (fewer if a pipe or fork fails part-way, after a message); 0 when at least one
   runs. */
static int crew_fork(crew *c, int n, const grid *g, long total)
{
    pid_t self = getpid();
    int w, k, err = 0;
    signal(SIGPIPE, SIG_IGN); /* a dead worker's pipe is an error to read, not a signal that kills */
    fflush(NULL);             /* else each child would write the buffered output again */
    c->n = 0;
    c->over_mpi = 0;
    for (w = 0; w < n; w++) {
        int work[2], rows[2];
        pid_t pid;
        if (pipe(work) != 0) { err = errno; break; }
        if (pipe(rows) != 0) { err = errno; pipe_close(work); break; }
        if ((pid = fork()) < 0) { err = errno; pipe_close(work); pipe_close(rows); break; }
        if (pid == 0) {
            /* the earlier workers' pipes: held here, they would not close when the coordinator's do */
            for (k = 0; k < w; k++) { close(c->work_fd[k]); close(c->row_fd[k]); }
            close(work[1]);
            close(rows[0]);
            c->my_work = work[0];
            c->my_row = rows[1];
            coordinator = self;
            crew_work(c, g, total);
            _exit(0);
        }
        close(work[0]);
        close(rows[1]);
        c->work_fd[w] = work[1];
        c->row_fd[w] = rows[0];
        c->pid[w] = pid;
        c->busy[w] = 0;
        c->n = w + 1;
    }
    if (err) fprintf(stderr, "sweep: starting job %d: %s; %d job%s\n", c->n + 1, strerror(err), c->n, c->n == 1 ? "" : "s");
    return c->n > 0 ? 0 : -1;
}

static void crew_close(crew *c)
{
    int w;
    for (w = 0; w < c->n; w++) {
        close(c->work_fd[w]);
        close(c->row_fd[w]);
        while (waitpid(c->pid[w], NULL, 0) < 0 && errno == EINTR) {}
    }
}

/* ----- driver */

/* The online cores, at least 1 and at most 64 (grok.h's most threads). */
static int cores_online(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (int)n;
}

static const char *const about =
    "Trains every point of a grid and draws its grokking phase diagram. The grid is the product of the\n"
    "values of every axis: --grid FILE's, replaced by those given on the command line.";

int main(int argc, char **argv)
{
    static grid g;
    static char row[ROW_MAX], key[KEY_MAX];
    char header[ROW_MAX], csv[4096];
    static char axis_names[N_AXES][32], axis_helps[N_AXES][320];
    const char *out = "runs/sweep", *grid_path = NULL, *x_name = "wd", *y_name = "frac", *axis_text[N_AXES];
    int rank = 0, size = 1, local = 1, threads = 0, jobs = 0, share, report_only = 0, quiet = 0, ax, ay, a, i, rc = 0;
    opt options[N_OPTIONS];
    long total = 1, n_pending = 0, *pending = NULL, k;
    table done;
    crew c;
    FILE *f = NULL;
#ifdef GROK_MPI
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    {
        MPI_Comm node;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
    }
#define SWEEP_EXIT(code) do { MPI_Finalize(); return (code); } while (0)
#else
#define SWEEP_EXIT(code) return (code)
#endif
    for (a = 0; a < N_AXES; a++) { /* an option per axis: --p, --data-seed, .. */
        char range[256], *c;
        snprintf(axis_names[a], sizeof axis_names[a], "--%s", axes[a].alias);
        for (c = axis_names[a]; *c; c++) if (*c == '_') *c = '-';
        axis_range(range, sizeof range, a);
        snprintf(axis_helps[a], sizeof axis_helps[a], "%s values, separated by commas: %s", axes[a].col, range);
        axis_text[a] = axes[a].def;
        options[a] = opt_text(axis_names[a], &axis_text[a], "LIST", axis_helps[a]);
        if (axis_set(&g, a, axes[a].def) != 0) SWEEP_EXIT(1);
    }
    options[N_AXES] = opt_default(opt_text("--grid", &grid_path, "FILE", "axes from a file, one a line: \"wd 0.1, 0.3, 1\" or "
                                           "\"wd = 0.1,0.3,1\" (# comments;\n- and _ alike)"), "none");
    options[N_AXES + 1] = opt_text("--out", &out, "DIR", "results.csv, phase.svg, epochs.svg, sweep.html");
    options[N_AXES + 2] = opt_default(opt_int("--threads", &threads, 1, 64, "threads per run"),
                                      "GROK_THREADS, else SLURM_CPUS_PER_TASK, else the cores / the jobs (MPI: / the ranks on the node)");
    options[N_AXES + 3] = opt_default(opt_int("--jobs", &jobs, 1, MAX_JOBS, "points trained at once, each in a worker process of its own "
                                              "(refused with more than\none MPI rank: the ranks are the jobs)"),
                                      "the cores / the threads per run where given, else the cores; at most the points to run");
    options[N_AXES + 4] = opt_text("--x", &x_name, "AXIS", "the phase diagram's x axis (- and _ alike)");
    options[N_AXES + 5] = opt_text("--y", &y_name, "AXIS", "the phase diagram's y axis");
    options[N_AXES + 6] = opt_flag("--report-only", &report_only, "only redraw the diagram and sweep.html from results.csv");
    options[N_AXES + 7] = opt_flag("--quiet", &quiet, "no line per finished run");
#ifdef GROK_MPI
    if (rank == 0) rc = opt_parse("sweep", about, options, N_OPTIONS, argc, argv); /* one message, one --help */
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank > 0 && rc < 0) rc = opt_parse("sweep", about, options, N_OPTIONS, argc, argv);
#else
    rc = opt_parse("sweep", about, options, N_OPTIONS, argc, argv);
#endif
    if (rc >= 0) SWEEP_EXIT(rc);
    rc = 0;
    if (grid_path && grid_file(&g, grid_path) != 0) SWEEP_EXIT(2);
    for (a = 0; a < N_AXES; a++)
        if (options[a].given && axis_set(&g, a, axis_text[a]) != 0) SWEEP_EXIT(2);
    if ((ax = axis_find(x_name)) < 0 || (ay = axis_find(y_name)) < 0) {
        if (rank == 0) fprintf(stderr, "sweep: --%c %s is not an axis\n", ax < 0 ? 'x' : 'y', ax < 0 ? x_name : y_name);
        SWEEP_EXIT(2);
    }
    for (i = 0; i < g.n[A_D_MODEL] * g.n[A_N_HEADS]; i++)
        if (value_u64(g.v[A_D_MODEL][i / g.n[A_N_HEADS]]) % value_u64(g.v[A_N_HEADS][i % g.n[A_N_HEADS]])) {
            if (rank == 0) fprintf(stderr, "sweep: every n_heads must divide every d_model\n");
            SWEEP_EXIT(2);
        }
    for (a = 0; a < N_AXES; a++) { /* checked before each product, which therefore cannot overflow */
        if (total > MAX_POINTS / g.n[a]) {
            if (rank == 0) fprintf(stderr, "sweep: the grid has more than %ld points\n", MAX_POINTS);
            SWEEP_EXIT(2);
        }
        total *= g.n[a];
    }
    if (size > 1 && jobs > 1) {
        if (rank == 0) fprintf(stderr, "sweep: --jobs %d under MPI: the ranks are the jobs (mpirun -n)\n", jobs);
        SWEEP_EXIT(2);
    }
    if (threads == 0 && getenv("GROK_THREADS")) {
        grok_threads_set(0);
        threads = grok_threads_get();
    } else if (threads == 0 && getenv("SLURM_CPUS_PER_TASK")) {
        unsigned long long cpus;
        const char *why = opt_read_integer(getenv("SLURM_CPUS_PER_TASK"), 1, 64, &cpus);
        if (why) {
            if (rank == 0) fprintf(stderr, "sweep: SLURM_CPUS_PER_TASK '%s': %s\n", getenv("SLURM_CPUS_PER_TASK"), why);
            SWEEP_EXIT(2);
        }
        threads = (int)cpus;
    }
    share = cores_online() / local > 1 ? cores_online() / local : 1; /* this rank's cores */
    if (size > 1) grok_threads_set(threads > 0 ? threads : share);
    header[0] = 0;
    for (a = 0; a < N_AXES; a++) { strcat(header, axes[a].col); strcat(header, ","); }
    strcat(header, result_cols);
    snprintf(csv, sizeof csv, "%s/results.csv", out);

    if (rank == 0 && !report_only) { /* resume: the points not yet in results.csv */
        if (grok_dir_make(out) != GROK_OK) { fprintf(stderr, "sweep: %s\n", grok_last_error()); rc = 1; }
        else if (table_load(&done, csv, header) != 0) rc = 1;
        else if (!(pending = (long *)malloc(sizeof(long) * (size_t)total))) rc = 1;
        else {
            int n_done = 0;
            for (i = 0; i < done.n; i++) { /* a row that does not parse counts for nothing: its point runs again */
                char why[256];
                if (row_check(why, sizeof why, done.rows[i]) == 0) done.rows[n_done++] = done.rows[i];
                else {
                    fprintf(stderr, "sweep: %s: line %d %s; not counted as done\n", csv, i + 2, why);
                    free(done.rows[i]);
                }
            }
            done.n = n_done;
            for (k = 0; k < total; k++) {
                int seen = 0;
                size_t kl;
                point_key(key, sizeof key, &g, k);
                kl = strlen(key);
                for (i = 0; i < done.n && !seen; i++) seen = !strncmp(done.rows[i], key, kl) && done.rows[i][kl] == ',';
                if (!seen) pending[n_pending++] = k;
            }
            if (size == 1) {
                if (jobs == 0) jobs = share / (threads > 0 ? threads : 1);
                if (jobs > n_pending) jobs = (int)n_pending; /* a job more would only sit idle */
                if (jobs < 1) jobs = 1;
                if (threads == 0) threads = share / jobs > 1 ? share / jobs : 1;
                grok_threads_set(threads);
            }
            printf("sweep: %ld points, %d rows already in %s, %ld to run ", total, done.n, csv, n_pending);
            if (size > 1) printf("on %d rank%s (rank 0 hands out points)", size - 1, size > 2 ? "s" : "");
            else if (jobs > 1) printf("in %d jobs (worker processes)", jobs);
            else printf("serially");
            printf(", %d thread%s each\n", grok_threads_get(), grok_threads_get() > 1 ? "s" : "");
            fflush(stdout);
            table_free(&done);
            if (!(f = fopen(csv, "a"))) { fprintf(stderr, "sweep: cannot open %s: %s\n", csv, strerror(errno)); rc = 1; }
            else if (fseek(f, 0, SEEK_END) == 0 && ftell(f) == 0 && line_write(f, header, csv) != 0) rc = 1;
        }
        if (rc) n_pending = 0;
    }

    memset(&c, 0, sizeof c);
    if (!report_only && rank == 0 && size == 1 && jobs <= 1) {
        for (k = 0; k < n_pending && f && rc == 0; k++) {
            run_point(row, &g, pending[k]);
            if (line_write(f, row, csv) != 0) rc = 1;
            else if (!quiet) printf("[%ld/%ld] %s\n", k + 1, n_pending, row), fflush(stdout);
        }
    } else if (!report_only && rank == 0 && size == 1) {
        if (crew_fork(&c, jobs, &g, total) != 0) rc = 1;
        else {
            rc = crew_serve(&c, pending, n_pending, f, csv, quiet);
            crew_close(&c);
        }
    }
#ifdef GROK_MPI
    if (!report_only && size > 1) {
        MPI_Request rq;
        int fin = 0;
        c.n = size - 1;
        c.over_mpi = 1;
        if (rank > 0) crew_work(&c, &g, total);
        else if (crew_serve(&c, pending, n_pending, f, csv, quiet) != 0) rc = 1;
        /* the ranks that finish first wait here asleep rather than spinning in MPI_Finalize */
        MPI_Ibarrier(MPI_COMM_WORLD, &rq);
        while (!fin) {
            MPI_Test(&rq, &fin, MPI_STATUS_IGNORE);
            if (!fin) nap();
        }
    }
#endif
    if (f && fclose(f) != 0) { fprintf(stderr, "sweep: writing %s failed\n", csv); rc = 1; }
    free(pending);
    if (rank == 0 && rc == 0 && report_write(out, csv, header, ax, ay) != 0) rc = 1;
    SWEEP_EXIT(rc);
}
