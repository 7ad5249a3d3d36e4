/* test_corpus - replays tests/corpus: crafted bad checkpoints, safetensors and .npy files (and
   whatever the fuzzers of tests/fuzz found), each of which must be refused with a clean error
   (GROK_ERR_FORMAT, or GROK_ERR_ARG where the file is well-formed but does not fit the model or
   the task), a message, and the model left unchanged. tests/corpus/README lists the files.
     tests/test_corpus [corpus_dir]          replay (default tests/corpus)
     tests/test_corpus --seeds dir           write valid files of the fuzz model into dir/ckpt,
                                             dir/safetensors, dir/npy (the fuzzers' seeds)
   The last line is "N passed, N failed"; the exit status is nonzero when anything failed. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "check.h"
#define GROK_FUZZ_CONFIG_ONLY
#include "fuzz/fuzz_model.h"
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

static int write_seeds(const char *dir)
{
    grok_model m;
    grok_config c = grok_fuzz_config();
    grok_array a;
    int64_t idx[5] = {0, 3, 7, 11, 24};
    char path[1024];
    if (grok_model_init(&m, &c, 2) != GROK_OK) return 1;
    snprintf(path, sizeof path, "%s/ckpt", dir); mkdir(dir, 0777); mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/ckpt/opt.grok", dir);
    if (grok_checkpoint_save(&m, path, 1) != GROK_OK) return 1;
    snprintf(path, sizeof path, "%s/ckpt/weights.grok", dir);
    if (grok_checkpoint_save(&m, path, 0) != GROK_OK) return 1;
    snprintf(path, sizeof path, "%s/safetensors", dir); mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/safetensors/model.safetensors", dir);
    if (grok_model_save_safetensors(&m, path, NULL) != GROK_OK) return 1;
    snprintf(path, sizeof path, "%s/npy", dir); mkdir(path, 0777);
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_I64; a.ndim = 1; a.shape[0] = 5; a.data = idx;
    snprintf(path, sizeof path, "%s/npy/idx.npy", dir);
    if (grok_npy_save(path, &a) != GROK_OK) return 1;
    a.dtype = GROK_DT_F32; a.ndim = 2; a.shape[0] = 2; a.shape[1] = 4; a.data = m.weights;
    snprintf(path, sizeof path, "%s/npy/f32.npy", dir);
    if (grok_npy_save(path, &a) != GROK_OK) return 1;
    grok_model_free(&m);
    printf("seeds written to %s\n", dir);
    return 0;
}

/* Calls fn on every regular file of dir; returns how many. */
static int each_file(const char *dir, void (*fn)(const char *path, const char *name, grok_model *m), grok_model *m)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[2048];
    int n = 0;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || e->d_name[0] == '.') continue;
        fn(path, e->d_name, m);
        n++;
    }
    closedir(d);
    return n;
}

static float *snapshot(const grok_model *m)
{
    float *s = (float *)malloc(3 * m->num_parameters * sizeof(float));
    memcpy(s, m->weights, m->num_parameters * sizeof(float));
    memcpy(s + m->num_parameters, m->adam_m, m->num_parameters * sizeof(float));
    memcpy(s + 2 * m->num_parameters, m->adam_v, m->num_parameters * sizeof(float));
    return s;
}

static int unchanged(const float *s, const grok_model *m)
{
    return memcmp(s, m->weights, m->num_parameters * sizeof(float)) == 0 &&
           memcmp(s + m->num_parameters, m->adam_m, m->num_parameters * sizeof(float)) == 0 &&
           memcmp(s + 2 * m->num_parameters, m->adam_v, m->num_parameters * sizeof(float)) == 0 && m->step == 5;
}

static int clean_error(int st) { return (st == GROK_ERR_FORMAT || st == GROK_ERR_ARG) && grok_last_error()[0]; }

static void one_ckpt(const char *path, const char *name, grok_model *m)
{
    float *s = snapshot(m);
    grok_config c;
    int st = grok_checkpoint_load(m, path);
    CHECK(clean_error(st) && unchanged(s, m), "%s: load gave %s, model %s", name, grok_status_name(st),
          unchanged(s, m) ? "unchanged" : "CHANGED");
    st = grok_checkpoint_config(&c, path);
    CHECK(st == GROK_OK || clean_error(st), "%s: config gave %s", name, grok_status_name(st));
    free(s);
}

static void one_st(const char *path, const char *name, grok_model *m)
{
    float *s = snapshot(m);
    grok_safetensors st;
    grok_config c;
    int r = grok_model_load_safetensors(m, path);
    CHECK(clean_error(r) && unchanged(s, m), "%s: model load gave %s, model %s", name, grok_status_name(r),
          unchanged(s, m) ? "unchanged" : "CHANGED");
    /* files named model_* are valid safetensors that do not fit the model */
    r = grok_safetensors_load(&st, path);
    CHECK(strncmp(name, "model_", 6) == 0 ? r == GROK_OK : clean_error(r), "%s: generic load gave %s", name, grok_status_name(r));
    grok_safetensors_free(&st);
    r = grok_safetensors_config(&c, path);
    CHECK(r == GROK_OK || clean_error(r), "%s: config gave %s", name, grok_status_name(r));
    free(s);
}

static void one_npy(const char *path, const char *name, grok_model *m)
{
    grok_array a;
    grok_data tr, te;
    int r = grok_npy_load(&a, path);
    (void)m;
    /* files named idx_* are valid .npy files whose indices are not a valid split */
    CHECK(strncmp(name, "idx_", 4) == 0 ? r == GROK_OK : clean_error(r) && a.data == NULL, "%s: load gave %s", name,
          grok_status_name(r));
    grok_array_free(&a);
    r = grok_task_modadd_from_npy(&tr, &te, 5, path, NULL);
    CHECK(clean_error(r) && tr.tokens == NULL && te.tokens == NULL, "%s: split gave %s", name, grok_status_name(r));
    grok_data_free(&tr); grok_data_free(&te);
}

int main(int argc, char **argv)
{
    const char *dir = "tests/corpus";
    char sub[1024];
    grok_model m;
    grok_config c = grok_fuzz_config();
    int n;
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0) return write_seeds(argv[2]);
    if (argc == 2) dir = argv[1];
    if (grok_model_init(&m, &c, 2) != GROK_OK) { printf("init failed\n0 passed, 1 failed\n"); return 1; }
    m.step = 5;
    m.adam_m[3] = 0.25f;
    snprintf(sub, sizeof sub, "%s/ckpt", dir);
    n = each_file(sub, one_ckpt, &m);
    CHECK(n >= 10, "%d checkpoint files in %s", n, sub);
    snprintf(sub, sizeof sub, "%s/safetensors", dir);
    n = each_file(sub, one_st, &m);
    CHECK(n >= 10, "%d safetensors files in %s", n, sub);
    snprintf(sub, sizeof sub, "%s/npy", dir);
    n = each_file(sub, one_npy, &m);
    CHECK(n >= 10, "%d .npy files in %s", n, sub);
    grok_model_free(&m);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
