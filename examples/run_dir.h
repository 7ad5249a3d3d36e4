/* run_dir.h - a run's output directory, as the examples that train share it.

   A directory that already holds a run is not written into unless --force, which removes that
   run's files first, so that two runs never mix. OUT/run.args records the flags that define a
   run (opt_run in options.h); --resume continues a transformer's run from OUT/latest.grok only
   when the command's flags are those, and rebuilds what the run had found so far from
   OUT/metrics.csv, so that the resumed run ends as the uninterrupted one would have. The final
   files are written only after training ended well; after a failure the program says which
   files it kept.

   Include after grok.h and options.h. run_start, run_args_save, run_args_check,
   run_milestones_read and run_resume return -1 when the program goes on, else the exit status
   it should end with (2: the command does not fit the directory, 1: an I/O error), after a
   message on stderr; the file helpers return 0, or -1 (with a message where they say so). */
#ifndef EXAMPLES_RUN_DIR_H
#define EXAMPLES_RUN_DIR_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

typedef struct {
    const char *prog, *out;
    const char *const *files;  /* every file of a run, NULL-terminated, relative to out */
    const char *const *finals; /* those written only when training ended well */
    const char *history;       /* the kept checkpoints history EPOCH history_ext ("ckpt_", ".grok"); NULL: none */
    const char *history_ext;
} run_dir;

/* A milestone epoch for the summary line: the epoch, or "none" (-1: never reached). */
static inline void run_fmt_epoch(char *buf, size_t n, long e)
{
    if (e >= 0) snprintf(buf, n, "%ld", e);
    else snprintf(buf, n, "none");
}


static inline int run_file_exists(const run_dir *r, const char *file)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", r->out, file);
    return lstat(path, &sb) == 0;
}

/* Removes those of files that exist. 0, or -1 after a message. */
static inline int run_remove(const run_dir *r, const char *const *files)
{
    char path[4096];
    int i;
    for (i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", r->out, files[i]);
        if (run_file_exists(r, files[i]) && remove(path) != 0) {
            fprintf(stderr, "%s: cannot remove %s: %s\n", r->prog, path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* The kept checkpoints of a run (r->history EPOCH r->history_ext): their count, each removed when
   do_remove; the first name into first (may be NULL). -1 after a message. */
static inline int run_history_scan(const run_dir *r, int do_remove, char *first, size_t cap)
{
    char path[4096];
    struct dirent *e;
    DIR *d;
    int n = 0;
    size_t lp, le;
    if (!r->history || !r->history_ext) return 0;
    if (!(d = opendir(r->out))) return 0; /* no directory yet: no history */
    lp = strlen(r->history);
    le = strlen(r->history_ext);
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        size_t len = strlen(s), i;
        if (len <= lp + le || strncmp(s, r->history, lp) || strcmp(s + len - le, r->history_ext)) continue;
        for (i = lp; i < len - le && s[i] >= '0' && s[i] <= '9'; i++) {}
        if (i != len - le) continue;
        if (n++ == 0 && first) snprintf(first, cap, "%s", s);
        snprintf(path, sizeof path, "%s/%s", r->out, s);
        if (do_remove && remove(path) != 0) {
            fprintf(stderr, "%s: cannot remove %s: %s\n", r->prog, path, strerror(errno));
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return n;
}

/* A fresh run: creates out; where it already holds a run, refuses unless force, which removes
   that run's files. resumable: the refusal mentions --resume. */
static inline int run_start(const run_dir *r, int force, int resumable)
{
    char kept[256] = "";
    int i, n_kept;
    if (grok_dir_make(r->out) != GROK_OK) {
        fprintf(stderr, "%s: %s\n", r->prog, grok_last_error());
        return 1;
    }
    for (i = 0; r->files[i] && !run_file_exists(r, r->files[i]); i++) {}
    if ((n_kept = run_history_scan(r, 0, kept, sizeof kept)) < 0) return 1;
    if (!r->files[i] && !n_kept) return -1;
    if (!force) {
        fprintf(stderr, "%s: %s already holds a run (%s/%s); %s--force starts over, removing its files\n", r->prog,
                r->out, r->out, r->files[i] ? r->files[i] : kept, resumable ? "--resume continues it, " : "");
        return 2;
    }
    return run_remove(r, r->files) == 0 && run_history_scan(r, 1, NULL, 0) >= 0 ? -1 : 1;
}

/* ---- run.args: the flags that define the run */

/* out/file for writing, as out/file.tmp, which run_commit renames over out/file once whole: no
   one ever finds half a file there. tmp receives the temporary's path. NULL after
   a message. */
#define RUN_TMP_MAX 4200
static inline FILE *run_create(const run_dir *r, const char *file, char tmp[RUN_TMP_MAX])
{
    FILE *f;
    snprintf(tmp, RUN_TMP_MAX, "%s/%s.tmp", r->out, file);
    if (!(f = fopen(tmp, "w"))) fprintf(stderr, "%s: cannot write %s: %s\n", r->prog, tmp, strerror(errno));
    return f;
}

/* Closes f and renames tmp over out/file; 0, or -1 after a message (tmp removed). */
static inline int run_commit(const run_dir *r, FILE *f, const char *tmp, const char *file)
{
    char path[4096];
    int ok = !ferror(f);
    snprintf(path, sizeof path, "%s/%s", r->out, file);
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
        fprintf(stderr, "%s: writing %s failed: %s\n", r->prog, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* Writes out/run.args: a line "program PROG", then one "NAME VALUE" for each option marked
   opt_run, VALUE as opt_value_text gives it. */
static inline int run_args_save(const run_dir *r, const opt *opts, int n)
{
    char tmp[RUN_TMP_MAX], value[512];
    FILE *f = run_create(r, "run.args", tmp);
    int i;
    if (!f) return 1;
    fprintf(f, "program %s\n", r->prog);
    for (i = 0; i < n; i++)
        if (opts[i].of_run) {
            opt_value_text(value, sizeof value, &opts[i]);
            fprintf(f, "%s %s\n", opts[i].name, value);
        }
    return run_commit(r, f, tmp, "run.args") == 0 ? -1 : 1;
}

/* The value of name in a run.args text (each line "NAME VALUE\n", the text starting with a
   newline) into value; 0, or -1 when no line has that name. */
static inline int run_args_value(char *value, size_t cap, const char *text, const char *name)
{
    size_t len = strlen(name);
    const char *s;
    for (s = strchr(text, '\n'); s; s = strchr(s + 1, '\n'))
        if (!strncmp(s + 1, name, len) && s[1 + len] == ' ') {
            s += 2 + len;
            snprintf(value, cap, "%.*s", (int)strcspn(s, "\n"), s);
            return 0;
        }
    return -1;
}

/* Checks the command's flags against out/run.args: the same program, every option marked
   opt_run with the value the run has, and no line for a flag the program does not have. */
static inline int run_args_check(const run_dir *r, const opt *opts, int n)
{
    char path[4096], text[16384], value[512], have[512];
    const char *s;
    size_t len;
    int i;
    FILE *f;
    snprintf(path, sizeof path, "%s/run.args", r->out);
    if (!(f = fopen(path, "r"))) {
        fprintf(stderr, "%s: no run to resume in %s: cannot open %s: %s\n", r->prog, r->out, path, strerror(errno));
        return 2;
    }
    text[0] = '\n';
    len = 1 + fread(text + 1, 1, sizeof text - 2, f);
    text[len] = '\0';
    if (ferror(f) || !feof(f)) {
        fprintf(stderr, "%s: cannot read %s whole (unreadable, or not a run.args)\n", r->prog, path);
        fclose(f);
        return 1;
    }
    fclose(f);
    if (run_args_value(have, sizeof have, text, "program") != 0 || strcmp(have, r->prog)) {
        fprintf(stderr, "%s: %s is not a run of %s\n", r->prog, path, r->prog);
        return 2;
    }
    for (i = 0; i < n; i++) {
        if (!opts[i].of_run) continue;
        opt_value_text(value, sizeof value, &opts[i]);
        if (run_args_value(have, sizeof have, text, opts[i].name) != 0) {
            if (opts[i].kind == OPT_TEXT && !strcmp(value, "none")) continue; /* a file flag not given: older runs lack its line */
            fprintf(stderr, "%s: %s does not record %s\n", r->prog, path, opts[i].name);
            return 2;
        }
        if (strcmp(value, have)) {
            fprintf(stderr, "%s: %s %s differs from the run in %s, which has %s %s (%s); resume with the run's flags, "
                    "or start over with --force\n", r->prog, opts[i].name, value, r->out, opts[i].name, have, path);
            return 2;
        }
    }
    for (s = text; s[1]; s = strchr(s + 1, '\n')) { /* every line names the program or one of its run's flags */
        size_t name_len = strcspn(s + 1, " \n");
        for (i = 0; i < n && !(opts[i].of_run && strlen(opts[i].name) == name_len && !strncmp(opts[i].name, s + 1, name_len)); i++) {}
        if (i == n && strncmp(s + 1, "program ", 8)) {
            fprintf(stderr, "%s: %s: '%.*s' is not a flag of %s's runs\n", r->prog, path, (int)name_len, s + 1, r->prog);
            return 2;
        }
        if (!strchr(s + 1, '\n')) break;
    }
    return -1;
}

/* ---- weights from a file: a grok.h checkpoint or a safetensors state dict (examples' --init, analyze) */

/* 1 if path holds safetensors (after its 8-byte header length the JSON header opens with '{'),
   0 if a grok.h checkpoint (its magic "GROKCKPT"), judged by content; -1 after a message when
   it is neither or cannot be read. */
static inline int run_weights_kind(const char *prog, const char *path)
{
    unsigned char head[9];
    FILE *f = fopen(path, "rb");
    size_t got;
    if (!f) { fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno)); return -1; }
    got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got >= 8 && !memcmp(head, "GROKCKPT", 8)) return 0;
    if (got == 9 && head[8] == '{') return 1;
    fprintf(stderr, "%s: %s is neither a grok.h checkpoint nor a safetensors file\n", prog, path);
    return -1;
}

/* --init FILE: the weights (and trainable flags) of a checkpoint or safetensors file of m's config
   into m; m's optimizer state, step, epoch and metrics stay as they are (a checkpoint's are not
   taken). *n_zeroed: bias tensors a safetensors file lacked (zero and frozen). -1 to go on, else
   the exit status after a message (2: not a file of m's config). */
static inline int run_weights_load(grok_model *m, const char *prog, const char *path, int *n_zeroed)
{
    int kind = run_weights_kind(prog, path), i;
    grok_model c;
    *n_zeroed = 0;
    if (kind < 0) return 2;
    if (kind == 1) {
        if (grok_model_load_safetensors_ex(m, path, n_zeroed) == GROK_OK) return -1;
        fprintf(stderr, "%s: %s\n", prog, grok_last_error());
        return 2;
    }
    if (grok_model_init(&c, &m->cfg, 1) != GROK_OK) { fprintf(stderr, "%s: %s\n", prog, grok_last_error()); return 1; }
    if (grok_checkpoint_load(&c, path) != GROK_OK) {
        fprintf(stderr, "%s: %s\n", prog, grok_last_error());
        grok_model_free(&c);
        return 2;
    }
    memcpy(m->weights, c.weights, sizeof(float) * m->num_parameters);
    for (i = 0; i < m->n_params; i++) m->params[i].trainable = c.params[i].trainable;
    grok_model_free(&c);
    return -1;
}

/* --init FILE for a net (grok_net): the weights of a safetensors state dict of net's class and
   shape (seed 003's names); a grok.h checkpoint holds a transformer and is refused. -1 to go on,
   else the exit status after a message (2: not a file of net's shape). */
static inline int run_net_weights_load(grok_net *net, const char *prog, const char *path)
{
    int kind = run_weights_kind(prog, path), st;
    if (kind < 0) return 2;
    if (kind == 0) {
        fprintf(stderr, "%s: %s is a grok.h checkpoint (a transformer's); a net starts from a safetensors file\n", prog, path);
        return 2;
    }
    if ((st = grok_net_load_safetensors(net, path)) == GROK_OK) return -1;
    fprintf(stderr, "%s: %s\n", prog, grok_last_error());
    return st == GROK_ERR_NOMEM ? 1 : 2;
}

/* --split FILE.npy: a notebook's split, the training rows a*p + b (np.save of train_indices), the
   test set their complement in ascending order, every pair labelled by op (grok_modop_apply), or,
   where g is not NULL, by g's table (p its order; op, em and en unused), in grok_task_group's layout.
   -1 to go on, else the exit status after a message (2: a bad file or a pair op leaves out). */
static inline int run_split_load(grok_data *train, grok_data *test, const char *prog, const char *path, int p, grok_modop op,
                                 int em, int en, const grok_group *g)
{
    int st = grok_task_modadd_from_npy(train, test, p, path, NULL), i, k;
    if (st != GROK_OK) {
        fprintf(stderr, "%s: --split %s: %s\n", prog, path, grok_last_error());
        return st == GROK_ERR_NOMEM ? 1 : 2;
    }
    for (k = 0; k < 2; k++) {
        grok_data *d = k ? test : train;
        for (i = 0; i < d->n; i++) {
            int a = d->tokens[3 * i], b = d->tokens[3 * i + 1];
            int label = g ? g->table[a * p + b] : grok_modop_apply(op, a, b, p, em, en);
            if (label < 0) {
                fprintf(stderr, "%s: --split %s: the pair (%d, %d) has no label under this task\n", prog, path, a, b);
                grok_data_free(train); grok_data_free(test);
                return 2;
            }
            d->targets[3 * i + 2] = label;
        }
    }
    return -1;
}

/* ---- a transformer's run (grok_train, evaluating and checkpointing every --every epochs) */

typedef struct {
    long first_50, first_99; /* the first evaluations with test accuracy >= 50% and >= 99%; -1: none yet */
    long checkpoint;         /* the epoch latest.grok holds; -1: none */
} run_milestones;

/* on_eval: the milestones, and the checkpoint, which the driver writes just before it calls
   on_eval at every evaluation when checkpoint_every == eval_every. */
static inline int run_on_eval(grok_model *m, void *ctx)
{
    run_milestones *ms = (run_milestones *)ctx;
    if (ms->first_50 < 0 && m->metrics.test_acc >= 0.5) ms->first_50 = m->epoch;
    if (ms->first_99 < 0 && m->metrics.test_acc >= 0.99) ms->first_99 = m->epoch;
    ms->checkpoint = m->epoch;
    return 0;
}

/* The milestones of the rows of out/metrics.csv up to epoch `upto` (later ones are the rows the
   resumed run writes again), as on_eval found them. metrics.csv keeps test_acc to 6 decimals:
   the count of right answers it stands for (n_test < 10^6) is recovered and divided as the
   library does, so that the thresholds compare the same double. The row of epoch `upto` must
   be there: latest.grok is written after it. A last line without its newline (a write cut by
   a kill) is not a row. */
static inline int run_milestones_read(const run_dir *r, long upto, int n_test, run_milestones *ms)
{
    char path[4096], line[4096];
    int c_epoch = -1, c_acc = -1, line_no = 0, rc = -1, c;
    long last = -1;
    FILE *f;
    snprintf(path, sizeof path, "%s/metrics.csv", r->out);
    if (!(f = fopen(path, "r"))) {
        fprintf(stderr, "%s: cannot open %s: %s; --resume needs the run's metrics\n", r->prog, path, strerror(errno));
        return 2;
    }
    while (rc < 0 && fgets(line, sizeof line, f) && strchr(line, '\n')) {
        char *field = line, *end;
        long epoch = -1;
        double acc = -1.0;
        line_no++;
        for (c = 0; field; c++) {
            char *comma = strchr(field, ',');
            if (comma) *comma = '\0';
            field[strcspn(field, "\r\n")] = '\0';
            if (line_no == 1) {
                if (!strcmp(field, "epoch")) c_epoch = c;
                if (!strcmp(field, "test_acc")) c_acc = c;
            } else if (c == c_epoch) {
                epoch = strtol(field, &end, 10);
                if (end == field || *end) epoch = -1;
            } else if (c == c_acc) {
                acc = strtod(field, &end);
                if (end == field || *end) acc = -1.0;
            }
            field = comma ? comma + 1 : NULL;
        }
        if (line_no == 1 && (c_epoch < 0 || c_acc < 0)) {
            fprintf(stderr, "%s: %s has no epoch or test_acc column\n", r->prog, path);
            rc = 2;
        } else if (line_no > 1 && (epoch <= last || acc < 0.0 || acc > 1.0)) {
            fprintf(stderr, "%s: %s:%d does not parse as the row after epoch %ld\n", r->prog, path, line_no, last);
            rc = 2;
        } else if (line_no > 1 && epoch <= upto) {
            double right = (double)(long)(acc * n_test + 0.5) / n_test;
            if (ms->first_50 < 0 && right >= 0.5) ms->first_50 = epoch;
            if (ms->first_99 < 0 && right >= 0.99) ms->first_99 = epoch;
            last = epoch;
        } else if (line_no > 1) {
            break;
        }
    }
    fclose(f);
    if (rc < 0 && last != upto) {
        fprintf(stderr, "%s: %s has no row for epoch %ld, the epoch of %s/latest.grok\n", r->prog, path, upto, r->out);
        rc = 2;
    }
    return rc;
}

/* --resume: the command's flags must be the run's (run.args) and its model latest.grok's, which
   m (initialised from the flags, with their lr and weight decay) then holds: weights, AdamW
   state, step and epoch, no later than epochs. The milestones come from metrics.csv; the final
   files, which describe an earlier epoch, are removed. */
static inline int run_resume(const run_dir *r, const opt *opts, int n, grok_model *m, long epochs, int n_test,
                             run_milestones *ms)
{
    char path[4096];
    grok_config ck;
    double lr = m->opt.lr, wd = m->opt.weight_decay;
    int rc;
    if ((rc = run_args_check(r, opts, n)) >= 0) return rc;
    snprintf(path, sizeof path, "%s/latest.grok", r->out);
    if (grok_checkpoint_config(&ck, path) != GROK_OK) {
        fprintf(stderr, "%s: no checkpoint to resume: %s; start over with --force\n", r->prog, grok_last_error());
        return 2;
    }
    if (ck.d_vocab_out != m->cfg.d_vocab_out || ck.seed != m->cfg.seed) {
        fprintf(stderr, "%s: %s holds a model of p = %d, seed %llu; the flags give p = %d, seed %llu\n", r->prog, path,
                ck.d_vocab_out, (unsigned long long)ck.seed, m->cfg.d_vocab_out, (unsigned long long)m->cfg.seed);
        return 2;
    }
    if (grok_checkpoint_load(m, path) != GROK_OK) {
        fprintf(stderr, "%s: %s\n", r->prog, grok_last_error());
        return 2;
    }
    if (m->opt.lr != lr || m->opt.weight_decay != wd) {
        fprintf(stderr, "%s: %s was trained with lr %g, weight decay %g; the flags give %g, %g\n", r->prog, path,
                m->opt.lr, m->opt.weight_decay, lr, wd);
        return 2;
    }
    if (m->epoch > epochs) {
        fprintf(stderr, "%s: %s is at epoch %ld, past --epochs %ld\n", r->prog, path, m->epoch, epochs);
        return 2;
    }
    ms->checkpoint = m->epoch;
    if ((rc = run_milestones_read(r, m->epoch, n_test, ms)) >= 0) return rc;
    return run_remove(r, r->finals) == 0 ? -1 : 1;
}

/* After training failed: which of the run's files are kept, and which final ones were not
   written. checkpoint: the epoch latest.grok holds, or -1 (none; NULL ckpt_name: the run has no
   checkpoint). */
static inline void run_kept(const run_dir *r, const char *ckpt_name, long checkpoint)
{
    int i, k = 0;
    if (ckpt_name && checkpoint >= 0)
        fprintf(stderr, "%s: %s/%s holds epoch %ld, the last good checkpoint: --resume continues from it\n", r->prog,
                r->out, ckpt_name, checkpoint);
    else if (ckpt_name)
        fprintf(stderr, "%s: no checkpoint was written\n", r->prog);
    fprintf(stderr, "%s: kept", r->prog);
    for (i = 0; r->files[i]; i++) {
        int j;
        for (j = 0; r->finals[j] && strcmp(r->finals[j], r->files[i]); j++) {}
        if (!r->finals[j] && run_file_exists(r, r->files[i])) fprintf(stderr, "%s %s/%s", k++ ? "," : "", r->out, r->files[i]);
    }
    fprintf(stderr, "%s; not written, as training did not end well:", k ? "" : " nothing");
    for (i = 0; r->finals[i]; i++) fprintf(stderr, "%s %s/%s", i ? "," : "", r->out, r->finals[i]);
    fprintf(stderr, "\n");
}

/* Appends "OUT/file" to an "outputs:" line of the files actually written. */
static inline void run_output(char *line, size_t cap, const run_dir *r, const char *file)
{
    size_t n = strlen(line);
    snprintf(line + n, cap - n, "%s%s/%s", n ? ", " : "", r->out, file);
}

#endif /* EXAMPLES_RUN_DIR_H */
