/* modadd - the canonical grokking run of seed 000: a one-layer transformer learns
   (a + b) mod p from 30% of all pairs, memorises, then generalises long after.

   Usage: modadd [--p 113] [--frac 0.3] [--lr 1e-3] [--wd 1] [--epochs 25000] [--every 100]
                 [--seed 999] [--data-seed 598] [--threads N] [--out runs/modadd] [--no-measures]
                 [--history] [--init FILE] [--split FILE.npy] [--resume | --force]
                 [--grokfast ema|ma [--grokfast-alpha X] [--grokfast-lamb X] [--grokfast-window N]
                 [--grokfast-no-warmup]] [--stablemax] [--orthograd] [--fixed-norm X] [--monitors]
                 [--early-stop ACC [--early-stop-evals N]] [--stall-stop EPOCHS [--memorised ACC]]
                 [--general-path] [--help]
   Writes OUT/run.args (the flags that define the run), OUT/metrics.csv (every --every epochs)
   and OUT/latest.grok (weights + AdamW state, every --every epochs), and, only when training
   ended well, OUT/summary.json (the run summary), OUT/model.safetensors (the weights under
   TransformerLens names, for PyTorch) and OUT/report.html; the last line on stdout is one
   summary for scripts. --resume continues a run killed or stopped on the way, to the bits an
   uninterrupted run ends with (run_dir.h). --history also keeps every checkpoint as
   OUT/ckpt_EPOCH.grok, for examples/analyze --history. The levers of grokking research: Grokfast's
   gradient filters, StableMax cross-entropy and the orthogonal gradient, training at a fixed
   weight norm, the stability monitors (metrics.csv's softmax_collapse and grad_weight_cos) and
   early stopping (metrics.csv's stop column, summary.json's "stop"). --general-path trains on the
   general forward (every position and activation) instead of the folded one the canonical model
   takes: the same function, rounded another way (bench/fidelity.py compares the two). */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "options.h"
#include "run_dir.h"

/* Every file of a run, and those written only when training ended well. */
static const char *const run_files[] = {"run.args", "metrics.csv", "latest.grok", "summary.json", "model.safetensors",
                                        "report.html", NULL};
static const char *const final_files[] = {"summary.json", "model.safetensors", "report.html", NULL};

static const char *const grokfast_names[] = {"none", "ema", "ma", NULL}; /* grok_filter_kind's order */

/* A flag that only means something with another, given without it: exit 2. */
static int needs(const opt *options, int n, const char *flag, int with, const char *what)
{
    if (!opt_given(options, n, flag) || with) return 0;
    fprintf(stderr, "modadd: %s needs %s\n", flag, what);
    return 1;
}

static const char *const about =
    "Trains seed 000's transformer on (a + b) mod p and reports when it groks.\n"
    "Writes OUT/run.args (the flags that define the run) at the start, OUT/metrics.csv and OUT/latest.grok\n"
    "every --every epochs, and, when training ended well, OUT/summary.json, OUT/model.safetensors and\n"
    "OUT/report.html. An OUT that holds a run is refused unless --resume or --force.";

int main(int argc, char **argv)
{
    int p = 113, n_zeroed = 0, threads = 0, no_measures = 0, history = 0, resume = 0, force = 0, rc, st, kind;
    int gf_window = 100, gf_no_warmup = 0, stablemax = 0, orthograd = 0, monitors = 0, general_path = 0;
    double frac = 0.3, lr = 1e-3, wd = 1.0, seconds, gf_alpha = 0.98, gf_lamb = 0.0, fixed_norm = 0.0;
    double early_stop = 0.0, memorised = 0.99;
    long epochs = 25000, every = 100, start_epoch, early_stop_evals = 3, stall_stop = 0;
    const char *grokfast = "none";
    unsigned long long seed = 999, data_seed = 598;
    const char *out = "runs/modadd", *init = NULL, *split = NULL;
    opt options[] = {
        opt_run(opt_int("--p", &p, 2, 46340, "modulus")),
        opt_run(opt_real("--frac", &frac, 0, 1, OPT_OPEN_MIN | OPT_OPEN_MAX, "fraction of the p*p pairs used for training")),
        opt_run(opt_real("--lr", &lr, 0, 100, OPT_OPEN_MIN, "AdamW learning rate")),
        opt_run(opt_real("--wd", &wd, 0, 100, 0, "AdamW weight decay; betas are (0.9, 0.98)")),
        opt_long("--epochs", &epochs, 1, 1000000000, "full-batch epochs to train to (with --resume: to continue to)"),
        opt_run(opt_long("--every", &every, 1, 1000000000, "evaluate and checkpoint every N epochs")),
        opt_run(opt_u64("--seed", &seed, "model initialisation seed")),
        opt_run(opt_u64("--data-seed", &data_seed, "train/test split seed")),
        opt_default(opt_int("--threads", &threads, 1, 64, "worker threads"), "GROK_THREADS, else all cores"),
        opt_text("--out", &out, "DIR", "output directory"),
        opt_run(opt_flag("--no-measures", &no_measures,
                         "skip the progress measures (restricted/excluded loss, Gini, sum of squared\n"
                         "weights) that metrics.csv and report.html otherwise carry")),
        opt_flag("--resume", &resume, "continue the run in OUT from OUT/latest.grok to --epochs; the other flags\n"
                                      "must be the run's (OUT/run.args)"),
        opt_run(opt_flag("--history", &history,
                         "keep every checkpoint as OUT/ckpt_EPOCH.grok (weights only, for analyze --history);\n"
                         "0.91 MB each for the canonical p = 113 model: 227 MB over 25000 epochs at --every 100")),
        opt_flag("--force", &force, "start over in an OUT that holds a run, removing its files"),
        opt_run(opt_default(opt_text("--init", &init, "FILE",
                                     "weights to start from: a safetensors state dict (TransformerLens names; absent\n"
                                     "biases are zero and frozen) or a grok.h checkpoint, of this model's config; its\n"
                                     "optimizer state and epoch are not taken (AdamW starts afresh at epoch 0)"),
                            "none: grok.h's initialisation from --seed")),
        opt_run(opt_default(opt_text("--split", &split, "FILE.npy",
                                     "the training pairs as indices a*p + b (np.save of a notebook's train_indices);\n"
                                     "the test set is the rest. Replaces --frac and --data-seed"),
                            "none: --frac and --data-seed")),
        opt_run(opt_choice("--grokfast", &grokfast, grokfast_names,
                           "Grokfast's low-pass filter on the gradient before AdamW (Lee et al. 2024): ema, an\n"
                           "exponential moving average, or ma, the mean of the last --grokfast-window gradients")),
        opt_run(opt_real("--grokfast-alpha", &gf_alpha, 0, 1, OPT_OPEN_MIN | OPT_OPEN_MAX, "the EMA filter's alpha")),
        opt_run(opt_default(opt_real("--grokfast-lamb", &gf_lamb, 0, 1000, OPT_OPEN_MIN,
                                     "the filter's amplification: g + lamb * the filtered gradient"), "2 (ema), 5 (ma)")),
        opt_run(opt_int("--grokfast-window", &gf_window, 1, 1000000,
                        "the MA filter's window; it keeps WINDOW gradients (0.9 MB each at p = 113)")),
        opt_run(opt_flag("--grokfast-no-warmup", &gf_no_warmup, "filter with the MA from the first step, not once the window is full")),
        opt_run(opt_flag("--stablemax", &stablemax, "StableMax cross-entropy in place of softmax's (Prieto et al. 2025)")),
        opt_run(opt_flag("--orthograd", &orthograd, "the orthogonal gradient: each tensor's gradient without its component\n"
                                                     "along the weights, rescaled to its norm (Prieto et al. 2025)")),
        opt_run(opt_default(opt_real("--fixed-norm", &fixed_norm, 0, 1e6, OPT_OPEN_MIN,
                                     "after each step, scale the trainable weights to this total L2 norm (Omnigrok)"),
                            "off")),
        opt_run(opt_flag("--monitors", &monitors, "add softmax_collapse (the share of training rows whose float32 softmax\n"
                                                  "has collapsed) and grad_weight_cos to metrics.csv")),
        opt_run(opt_default(opt_real("--early-stop", &early_stop, 0, 1, OPT_OPEN_MIN,
                                     "stop once test accuracy has stayed at or above ACC for --early-stop-evals evaluations"),
                            "off")),
        opt_run(opt_long("--early-stop-evals", &early_stop_evals, 1, 1000000000, "evaluations in a row for --early-stop")),
        opt_run(opt_default(opt_long("--stall-stop", &stall_stop, 1, 1000000000,
                                     "stop a run that has memorised (train accuracy >= --memorised) and set no new best\n"
                                     "test accuracy for this many epochs"), "off")),
        opt_run(opt_real("--memorised", &memorised, 0, 1, OPT_OPEN_MIN, "train accuracy at which --stall-stop counts a run as memorised")),
        opt_run(opt_flag("--general-path", &general_path,
                         "train and evaluate on the general forward (every position and activation) rather than\n"
                         "the folded one: the same function, rounded another way")),
    };
    run_dir run;
    grok_config cfg;
    grok_data train, test;
    grok_model m;
    grok_train_opts opts = grok_train_opts_default();
    run_milestones ms = {-1, -1, -1};
    struct timespec t0, t1;
    struct rusage ru;
    char first50[32], first99[32], path[4096], written[8192] = "";

    if ((rc = opt_parse("modadd", about, options, OPT_COUNT(options), argc, argv)) >= 0) return rc;
    if (resume && force) { fprintf(stderr, "modadd: --resume continues a run, --force starts over: give one\n"); return 2; }
    kind = !strcmp(grokfast, "ema") ? GROK_FILTER_EMA : !strcmp(grokfast, "ma") ? GROK_FILTER_MA : GROK_FILTER_NONE;
    if (needs(options, OPT_COUNT(options), "--grokfast-alpha", kind == GROK_FILTER_EMA, "--grokfast ema") ||
        needs(options, OPT_COUNT(options), "--grokfast-lamb", kind != GROK_FILTER_NONE, "--grokfast ema or ma") ||
        needs(options, OPT_COUNT(options), "--grokfast-window", kind == GROK_FILTER_MA, "--grokfast ma") ||
        needs(options, OPT_COUNT(options), "--grokfast-no-warmup", kind == GROK_FILTER_MA, "--grokfast ma") ||
        needs(options, OPT_COUNT(options), "--early-stop-evals", early_stop > 0, "--early-stop") ||
        needs(options, OPT_COUNT(options), "--memorised", stall_stop > 0, "--stall-stop"))
        return 2;
    if (threads) grok_threads_set(threads);
    run.prog = "modadd"; run.out = out; run.files = run_files; run.finals = final_files;
    run.history = "ckpt_"; run.history_ext = ".grok";

    if (split && (opt_given(options, OPT_COUNT(options), "--frac") || opt_given(options, OPT_COUNT(options), "--data-seed"))) {
        fprintf(stderr, "modadd: --split gives the split: --frac and --data-seed do not go with it\n");
        return 2;
    }
    if (split) {
        if ((rc = run_split_load(&train, &test, "modadd", split, p, GROK_OP_ADD, 0, 0, NULL)) >= 0) return rc;
    } else if ((st = grok_task_modadd(&train, &test, p, frac, data_seed)) != GROK_OK) { /* e.g. a --frac that leaves no pair */
        fprintf(stderr, "modadd: %s\n", grok_last_error());
        return st == GROK_ERR_ARG ? 2 : 1;
    }
    cfg = grok_config_modadd(p);
    cfg.seed = seed;
    if (grok_model_init(&m, &cfg, train.n) != GROK_OK) {
        fprintf(stderr, "modadd: %s\n", grok_last_error());
        grok_data_free(&train); grok_data_free(&test);
        return 1;
    }
    m.opt.lr = lr;
    m.opt.weight_decay = wd;
    m.opt.orthogonal = orthograd;
    m.opt.fixed_norm = fixed_norm;
    m.loss = stablemax ? GROK_LOSS_STABLEMAX : GROK_LOSS_SOFTMAX;
    m.general_path = general_path;
    if (init && !resume && (rc = run_weights_load(&m, "modadd", init, &n_zeroed)) >= 0) {
        grok_model_free(&m); grok_data_free(&train); grok_data_free(&test);
        return rc;
    }
    rc = resume ? run_resume(&run, options, OPT_COUNT(options), &m, epochs, test.n, &ms) : run_start(&run, force, 1);
    if (rc < 0 && !resume) rc = run_args_save(&run, options, OPT_COUNT(options));
    if (rc >= 0) {
        grok_model_free(&m); grok_data_free(&train); grok_data_free(&test);
        return rc;
    }
    start_epoch = m.epoch;
    opts.epochs = epochs;
    opts.eval_every = every;
    opts.checkpoint_every = every;
    opts.out_dir = out;
    opts.keep_history = history;
    opts.on_eval = run_on_eval;
    opts.on_eval_ctx = &ms;
    opts.progress_measures = !no_measures;
    opts.grokfast = grok_gradfilter_default(kind);
    if (kind == GROK_FILTER_EMA) opts.grokfast.alpha = gf_alpha;
    if (kind == GROK_FILTER_MA) { opts.grokfast.window = gf_window; opts.grokfast.warmup = !gf_no_warmup; }
    if (gf_lamb > 0) opts.grokfast.lamb = gf_lamb;
    opts.stability_monitors = monitors;
    opts.early_stop.acc = early_stop;
    opts.early_stop.evals = early_stop_evals;
    opts.early_stop.stall_epochs = stall_stop;
    opts.early_stop.memorised = memorised;
    printf("modadd: p=%d frac=%.3g (%d train, %d test) lr=%g wd=%g epochs=%ld seed=%llu data_seed=%llu\n",
           p, frac, train.n, test.n, lr, wd, epochs, seed, data_seed);
    if (split) printf("split: the training indices of %s, the test set the rest\n", split);
    if (init) printf("weights: %s%s\n", init, resume ? " (the run's start; resumed from latest.grok)" : "");
    if (n_zeroed) printf("  %d bias tensors absent from it: zero and frozen\n", n_zeroed);
    if (kind != GROK_FILTER_NONE || stablemax || orthograd || fixed_norm > 0 || early_stop > 0 || stall_stop > 0)
        printf("levers: grokfast %s%s, loss %s, orthograd %s, fixed norm %g, early stop %g x %ld, stall stop %ld at %g\n", grokfast,
               kind == GROK_FILTER_MA ? (gf_no_warmup ? " (no warm-up)" : " (warm-up)") : "", stablemax ? "stablemax" : "softmax",
               orthograd ? "on" : "off", fixed_norm, early_stop, early_stop_evals, stall_stop, memorised);
    if (kind != GROK_FILTER_NONE)
        printf("  the filter's state: %.1f MiB\n", (double)m.num_parameters * (kind == GROK_FILTER_MA ? gf_window : 1) * 4 / 1048576.0);
    if (resume) printf("resuming %s/latest.grok at epoch %ld\n", out, start_epoch);
    printf("model: %zu parameters (%d tensors), %d threads, GEMM kernel %s, %.1f MiB in one arena\n",
           m.num_parameters, m.n_params, grok_threads_get(), grok_gemm_kernel_name(), (double)m.arena.size / 1048576.0);
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = grok_train(&m, &opts, &train, &test);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    getrusage(RUSAGE_SELF, &ru);
    run_fmt_epoch(first50, sizeof first50, ms.first_50);
    run_fmt_epoch(first99, sizeof first99, ms.first_99);
    printf("test accuracy first >= 50%% at epoch %s, >= 99%% at epoch %s; %.1f s (%.2f ms/epoch); peak RSS %.1f MiB\n",
           first50, first99, seconds, 1000.0 * seconds / (double)(m.epoch > start_epoch ? m.epoch - start_epoch : 1),
           ru.ru_maxrss / 1024.0);
    if (m.stop.reason != GROK_STOP_NONE) printf("stopped early at epoch %ld: %s\n", m.epoch, grok_stop_reason_name(m.stop.reason));
    if (st != GROK_OK) {
        fprintf(stderr, "modadd: training stopped at epoch %ld: %s\n", m.epoch, grok_last_error());
        run_kept(&run, "latest.grok", ms.checkpoint);
    } else {
        static const char *const keys[5] = {"task", "p", "frac_train", "data_seed", "stop"};
        char pbuf[32], fbuf[32], sbuf[32], title[128], mpath[4096];
        const char *values[5];
        grok_run_info info;
        snprintf(pbuf, sizeof pbuf, "%d", p);
        snprintf(fbuf, sizeof fbuf, "%.17g", frac);
        snprintf(sbuf, sizeof sbuf, "%llu", data_seed);
        values[0] = "modadd"; values[1] = pbuf; values[2] = fbuf; values[3] = sbuf;
        values[4] = grok_stop_reason_name(m.stop.reason);
        memset(&info, 0, sizeof info);
        info.first_epoch_test_acc_50 = ms.first_50;
        info.first_epoch_test_acc_99 = ms.first_99;
        info.seconds = seconds;
        info.n_train = train.n;
        info.n_test = test.n;
        info.n_extra = early_stop > 0 || stall_stop > 0 ? 5 : 4; /* "stop" only where a run could stop early */
        info.extra_keys = keys;
        info.extra_values = values;
        run_output(written, sizeof written, &run, "metrics.csv");
        run_output(written, sizeof written, &run, "latest.grok");
        if (history) {
            char kept[64];
            snprintf(kept, sizeof kept, "ckpt_EPOCH.grok (%d kept)", run_history_scan(&run, 0, NULL, 0));
            run_output(written, sizeof written, &run, kept);
        }
        snprintf(path, sizeof path, "%s/summary.json", out);
        if (grok_run_summary_save(path, &m, &info) == GROK_OK) run_output(written, sizeof written, &run, "summary.json");
        else { st = GROK_ERR_IO; fprintf(stderr, "modadd: %s\n", grok_last_error()); }
        snprintf(path, sizeof path, "%s/model.safetensors", out);
        if (grok_model_save_safetensors(&m, path, m.weights) == GROK_OK)
            run_output(written, sizeof written, &run, "model.safetensors (TransformerLens names)");
        else { st = GROK_ERR_IO; fprintf(stderr, "modadd: %s\n", grok_last_error()); }
        snprintf(mpath, sizeof mpath, "%s/metrics.csv", out);
        snprintf(path, sizeof path, "%s/report.html", out);
        snprintf(title, sizeof title, "modadd p=%d, frac %.3g, seed %llu", p, frac, seed);
        if (grok_modadd_report(path, &m, mpath, title) == GROK_OK) run_output(written, sizeof written, &run, "report.html");
        else { st = GROK_ERR_IO; fprintf(stderr, "modadd: %s\n", grok_last_error()); }
        printf("outputs: %s\n", written);
    }
    printf("final epoch=%ld train_loss=%.6g test_loss=%.6g train_acc=%.4f test_acc=%.4f first_test_acc_99=%s seconds=%.1f\n",
           m.epoch, m.metrics.train_loss, m.metrics.test_loss, m.metrics.train_acc, m.metrics.test_acc, first99, seconds);
    grok_model_free(&m);
    grok_data_free(&train);
    grok_data_free(&test);
    return st == GROK_OK ? 0 : 1;
}
