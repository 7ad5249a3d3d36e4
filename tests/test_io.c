/* Tests of grok.h's interchange formats: .npy, safetensors (generic and TransformerLens state
   dicts), data splits from files and the run summary. Round trips are compared bit for bit;
   malformed and hostile files must be rejected with GROK_ERR_FORMAT and leave the model as it
   was. The last line is "N passed, N failed"; the exit status is nonzero when anything failed. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>

static char dir[256];

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) { printf("cannot write %s\n", path); exit(2); }
    fclose(f);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long len;
    if (!f) { printf("cannot read %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (unsigned char *)malloc((size_t)len + 1);
    if (fread(b, 1, (size_t)len, f) != (size_t)len) { printf("short read %s\n", path); exit(2); }
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* A safetensors file from a header string and data bytes. */
static void write_st(const char *path, const char *header, const void *data, size_t n)
{
    size_t h = strlen(header), i;
    unsigned char *b = (unsigned char *)malloc(8 + h + n + 1);
    for (i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    if (n) memcpy(b + 8 + h, data, n);
    write_bytes(path, b, 8 + h + n);
    free(b);
}

/* ------------------------------------------------------------------ .npy */

static void test_npy(void)
{
    float f[24], back[24];
    double d[5] = {1.0, -2.5, 1e-300, 3.141592653589793, -0.0};
    int64_t q[6] = {0, -1, (int64_t)1 << 40, 7, 113 * 113 - 1, INT64_MIN};
    int32_t r[3] = {1, -2, 3};
    grok_array a, b;
    int i, shape3[3] = {2, 3, 4};
    grok_tensor t, s;
    size_t n;
    unsigned char *raw;
    for (i = 0; i < 24; i++) f[i] = (float)sin(i * 1.7) * 1e3f;
    /* F32 (2,3,4) through a tensor, bitwise, and numpy's layout: version 1.0, data at a multiple of 64 */
    t = grok_tensor_make(f, 3, shape3);
    CHECK(grok_npy_save_tensor(tpath("f.npy"), &t) == GROK_OK, "save f32");
    CHECK(grok_npy_load(&a, tpath("f.npy")) == GROK_OK, "load f32");
    CHECK(a.dtype == GROK_DT_F32 && a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 4, "f32 shape");
    CHECK(a.data && memcmp(a.data, f, sizeof f) == 0, "f32 bits");
    grok_array_free(&a);
    raw = read_bytes(tpath("f.npy"), &n);
    CHECK(n == 128 + sizeof f && raw[6] == 1 && raw[7] == 0 && raw[127] == '\n' &&
          memcmp(raw + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }", 62 - 10 - 1) == 0,
          "numpy's header layout");
    free(raw);
    /* a non-contiguous view (t[:, 1:3, :]) is packed */
    CHECK(grok_tensor_slice(&s, &t, 1, 1, 2) == GROK_OK, "slice");
    CHECK(grok_npy_save_tensor(tpath("s.npy"), &s) == GROK_OK, "save strided");
    CHECK(grok_npy_load(&a, tpath("s.npy")) == GROK_OK && a.ndim == 3 && a.shape[1] == 2, "load strided");
    if (a.data) {
        int ok = 1, x, y, z;
        for (x = 0; x < 2; x++) for (y = 0; y < 2; y++) for (z = 0; z < 4; z++)
            ok &= ((float *)a.data)[(x * 2 + y) * 4 + z] == f[(x * 3 + y + 1) * 4 + z];
        CHECK(ok, "strided values");
    }
    grok_array_free(&a);
    /* F64 1-D, I64, I32, and a scalar */
    memset(&b, 0, sizeof b);
    b.dtype = GROK_DT_F64; b.ndim = 1; b.shape[0] = 5; b.data = d;
    CHECK(grok_npy_save(tpath("d.npy"), &b) == GROK_OK && grok_npy_load(&a, tpath("d.npy")) == GROK_OK, "f64 round trip");
    CHECK(a.dtype == GROK_DT_F64 && a.ndim == 1 && a.shape[0] == 5 && memcmp(a.data, d, sizeof d) == 0, "f64 bits");
    raw = read_bytes(tpath("d.npy"), &n);
    CHECK(strstr((char *)raw + 10, "'shape': (5,), }") != NULL, "1-D shape written as (5,)");
    free(raw);
    CHECK(grok_array_to_f32(back, 5, &a) == GROK_OK && back[1] == -2.5f && back[3] == (float)d[3], "f64 -> f32");
    CHECK(grok_array_to_f32(back, 4, &a) == GROK_ERR_ARG, "count mismatch refused");
    grok_array_free(&a);
    b.dtype = GROK_DT_I64; b.ndim = 2; b.shape[0] = 2; b.shape[1] = 3; b.data = q;
    CHECK(grok_npy_save(tpath("q.npy"), &b) == GROK_OK && grok_npy_load(&a, tpath("q.npy")) == GROK_OK &&
          a.dtype == GROK_DT_I64 && memcmp(a.data, q, sizeof q) == 0, "i64 round trip");
    grok_array_free(&a);
    b.dtype = GROK_DT_I32; b.ndim = 1; b.shape[0] = 3; b.data = r;
    CHECK(grok_npy_save(tpath("r.npy"), &b) == GROK_OK && grok_npy_load(&a, tpath("r.npy")) == GROK_OK &&
          a.dtype == GROK_DT_I32 && memcmp(a.data, r, sizeof r) == 0, "i32 round trip");
    grok_array_free(&a);
    b.dtype = GROK_DT_F64; b.ndim = 0; b.data = d + 3;
    CHECK(grok_npy_save(tpath("z.npy"), &b) == GROK_OK && grok_npy_load(&a, tpath("z.npy")) == GROK_OK &&
          a.ndim == 0 && ((double *)a.data)[0] == d[3], "0-d round trip");
    grok_array_free(&a);
    b.ndim = 2; b.shape[0] = 0; b.shape[1] = 7;
    CHECK(grok_npy_save(tpath("e.npy"), &b) == GROK_OK && grok_npy_load(&a, tpath("e.npy")) == GROK_OK &&
          a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 7, "empty array round trip");
    grok_array_free(&a);
    b.dtype = GROK_DT_BOOL;
    CHECK(grok_npy_save(tpath("x.npy"), &b) == GROK_ERR_ARG, "unsupported dtype refused by the writer");
}

/* Handwritten .npy files: numpy's variants accepted, malformed ones refused. */
static void npy_file(const char *path, int major, const char *dict, const void *data, size_t n)
{
    unsigned char b[1024];
    size_t h = strlen(dict), pre = major == 1 ? 10 : 12;
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major; b[7] = 0;
    b[8] = (unsigned char)(h & 0xff); b[9] = (unsigned char)(h >> 8);
    if (major != 1) { b[10] = 0; b[11] = 0; }
    memcpy(b + pre, dict, h);
    if (n) memcpy(b + pre + h, data, n);
    write_bytes(path, b, pre + h + n);
}

static void test_npy_strict(void)
{
    float v[3] = {1.5f, -2.0f, 3.25f};
    unsigned char be[12];
    grok_array a;
    int i, k;
    static const char *bad[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }\n",       /* (3) is not a tuple */
        "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }\n",       /* Fortran order */
        "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }\n",      /* complex */
        "{'descr': '<f4', 'shape': (3,), }\n",                              /* key missing */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}\n", /* extra key */
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}\n", /* repeated */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",        /* no newline */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (03,), }\n",     /* leading zero */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }\n",     /* negative */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,) }} \n",     /* trailing junk */
        "{'descr': '<f4, 'fortran_order': False, 'shape': (3,), }\n",       /* bad quote */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",      /* 12 bytes of data for 8 */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n",      /* 12 bytes of data for 16 */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }\n", /* overflow */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n",  /* too big */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,3), }\n",     /* 9 dims */
    };
    /* numpy's own variants: double quotes, no trailing comma, version 2.0, big-endian data */
    npy_file(tpath("ok1.npy"), 1, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}  \n", v, sizeof v);
    CHECK(grok_npy_load(&a, tpath("ok1.npy")) == GROK_OK && memcmp(a.data, v, sizeof v) == 0, "double quotes");
    grok_array_free(&a);
    npy_file(tpath("ok2.npy"), 2, "{'shape': (3,), 'fortran_order': False, 'descr': '<f4', }\n", v, sizeof v);
    CHECK(grok_npy_load(&a, tpath("ok2.npy")) == GROK_OK && memcmp(a.data, v, sizeof v) == 0, "version 2.0, keys in any order");
    grok_array_free(&a);
    for (i = 0; i < 3; i++) for (k = 0; k < 4; k++) be[4 * i + k] = ((unsigned char *)&v[i])[grok__little_endian() ? 3 - k : k];
    npy_file(tpath("ok3.npy"), 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 3), }\n", be, sizeof be);
    CHECK(grok_npy_load(&a, tpath("ok3.npy")) == GROK_OK && a.ndim == 2 && memcmp(a.data, v, sizeof v) == 0, "big-endian data");
    grok_array_free(&a);
    for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        npy_file(tpath("bad.npy"), 1, bad[i], v, sizeof v);
        CHECK(grok_npy_load(&a, tpath("bad.npy")) == GROK_ERR_FORMAT && a.data == NULL, "bad header %d refused: %s", i, bad[i]);
    }
    /* header length past the end of the file, bad magic, unknown version, truncated */
    npy_file(tpath("bad.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", v, sizeof v);
    {
        size_t n;
        unsigned char *raw = read_bytes(tpath("bad.npy"), &n);
        raw[8] = 0xff; raw[9] = 0xff;
        write_bytes(tpath("bad2.npy"), raw, n);
        CHECK(grok_npy_load(&a, tpath("bad2.npy")) == GROK_ERR_FORMAT, "header length past the end");
        raw[8] = (unsigned char)(n - 10 - 12); raw[9] = 0; raw[0] = 'X';
        write_bytes(tpath("bad2.npy"), raw, n);
        CHECK(grok_npy_load(&a, tpath("bad2.npy")) == GROK_ERR_FORMAT, "bad magic");
        raw[0] = 0x93; raw[6] = 4;
        write_bytes(tpath("bad2.npy"), raw, n);
        CHECK(grok_npy_load(&a, tpath("bad2.npy")) == GROK_ERR_FORMAT, "version 4.0");
        raw[6] = 1;
        for (k = 0; k < (int)n; k++) {
            write_bytes(tpath("bad2.npy"), raw, (size_t)k);
            if (grok_npy_load(&a, tpath("bad2.npy")) != GROK_ERR_FORMAT) break;
        }
        CHECK(k == (int)n, "every truncation refused (first accepted at %d of %d bytes)", k, (int)n);
        write_bytes(tpath("bad2.npy"), raw, n);
        CHECK(grok_npy_load(&a, tpath("bad2.npy")) == GROK_OK, "the untruncated file loads");
        grok_array_free(&a);
        free(raw);
    }
    CHECK(grok_npy_load(&a, tpath("does_not_exist.npy")) == GROK_ERR_IO, "missing file");
}

/* ------------------------------------------------------------ safetensors */

static void test_st_generic(void)
{
    float f[6] = {1, 2, 3, 4, 5, 6};
    double d[3] = {0.1, -0.2, 1e300};
    int64_t q[2] = {-5, (int64_t)1 << 50};
    unsigned char u[3] = {1, 0, 1};
    grok_array in[4], *o;
    grok_safetensors st;
    const char *mk[2] = {"note", "quote\"and\\\n\xc3\xa9"}, *mv[2] = {"hello", "\xe2\x82\xac value"};
    size_t n;
    unsigned char *raw;
    uint64_t hl = 0;
    int i;
    memset(in, 0, sizeof in);
    in[0].name = "blocks.0.hook_resid_post"; in[0].dtype = GROK_DT_F32; in[0].ndim = 2; in[0].shape[0] = 2; in[0].shape[1] = 3; in[0].data = f;
    in[1].name = "d"; in[1].dtype = GROK_DT_F64; in[1].ndim = 1; in[1].shape[0] = 3; in[1].data = d;
    in[2].name = "q\xe2\x82\xac"; in[2].dtype = GROK_DT_I64; in[2].ndim = 0; in[2].data = q + 1;
    in[3].name = "mask"; in[3].dtype = GROK_DT_BOOL; in[3].ndim = 1; in[3].shape[0] = 3; in[3].data = u;
    CHECK(grok_safetensors_save(tpath("g.safetensors"), in, 4, mk, mv, 2) == GROK_OK, "save generic");
    CHECK(grok_safetensors_load(&st, tpath("g.safetensors")) == GROK_OK, "load generic");
    CHECK(st.n == 4 && st.n_meta == 2, "counts %d %d", st.n, st.n_meta);
    for (i = 0; i < 4 && st.n == 4; i++) {
        o = &st.arrays[i];
        CHECK(strcmp(o->name, in[i].name) == 0 && o->dtype == in[i].dtype && o->ndim == in[i].ndim &&
              memcmp(o->shape, in[i].shape, sizeof o->shape) == 0, "array %d header", i);
        CHECK(memcmp(o->data, in[i].data, (size_t)grok_array_numel(o) * grok_dtype_size(o->dtype)) == 0, "array %d bits", i);
        CHECK(((uintptr_t)o->data & 7) == 0, "array %d aligned", i);
    }
    CHECK(grok_safetensors_get(&st, "d") == &st.arrays[1] && grok_safetensors_get(&st, "nope") == NULL, "get");
    CHECK(grok_safetensors_meta(&st, "note") && strcmp(grok_safetensors_meta(&st, "note"), "hello") == 0, "meta");
    CHECK(grok_safetensors_meta(&st, mk[1]) && strcmp(grok_safetensors_meta(&st, mk[1]), mv[1]) == 0, "meta with escapes");
    grok_safetensors_free(&st);
    raw = read_bytes(tpath("g.safetensors"), &n);
    for (i = 7; i >= 0; i--) hl = hl << 8 | raw[i];
    CHECK(hl % 8 == 0 && raw[8] == '{', "header padded to 8 bytes");
    free(raw);
    /* an empty file of tensors is valid */
    CHECK(grok_safetensors_save(tpath("empty.safetensors"), NULL, 0, NULL, NULL, 0) == GROK_OK &&
          grok_safetensors_load(&st, tpath("empty.safetensors")) == GROK_OK && st.n == 0, "no tensors");
    grok_safetensors_free(&st);
    /* the writer refuses duplicates and the reserved name */
    in[1].name = in[0].name;
    CHECK(grok_safetensors_save(tpath("x.safetensors"), in, 2, NULL, NULL, 0) == GROK_ERR_ARG, "duplicate names refused");
    in[1].name = "__metadata__";
    CHECK(grok_safetensors_save(tpath("x.safetensors"), in, 2, NULL, NULL, 0) == GROK_ERR_ARG, "__metadata__ refused");
}

/* Hand-built headers over 16 bytes of data (four F32). */
static void test_st_strict(void)
{
    float data[4] = {1, 2, 3, 4};
    grok_safetensors st;
    int i;
    static const char *good[] = {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
        " {\"a\" : {\"shape\" : [2, 2], \"data_offsets\" : [0, 16], \"dtype\" : \"F32\"} , \"__metadata__\":{}}   ",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        "{\"\\u00e9\\ud83d\\ude00\\/\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
        "{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"BF16\",\"shape\":[8],\"data_offsets\":[0,16]}}",
    };
    static const char *bad[] = {
        "",                                                                      /* empty */
        "[]",                                                                    /* not an object */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}",     /* unclosed */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},}",   /* trailing comma */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],}}",   /* trailing comma */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4,],\"data_offsets\":[0,16]}}",   /* trailing comma */
        "{'a':{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",      /* single quotes */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}x",   /* junk after */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4.0],\"data_offsets\":[0,16]}}",  /* float */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4e0],\"data_offsets\":[0,16]}}",  /* exponent */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}",   /* negative */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[04],\"data_offsets\":[0,16]}}",   /* leading zero */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16,0]}}",  /* three offsets */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4]}}",                             /* no offsets */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],\"x\":1}}", /* unknown field */
        "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", /* repeated field */
        "{\"a\":{\"dtype\":\"F33\",\"shape\":[4],\"data_offsets\":[0,16]}}",    /* unknown dtype */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,32]}}",    /* past the end */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}",    /* begin > end */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}",    /* size != numel * 4 */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",     /* gap at the end */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", /* overlap */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", /* duplicate */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,16]}}", /* overflow */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,99999999999999999999]}}",   /* > 2^63 */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,4],\"data_offsets\":[0,16]}}",      /* 9 dims */
        "{\"a\\x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", /* bad escape */
        "{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", /* lone surrogate */
        "{\"a\\u0000\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", /* NUL */
        "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", /* invalid UTF-8 */
        "{\"a\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", /* overlong */
        "{\"a\n\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",  /* raw control char */
        "{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", /* meta not a string */
        "{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"},\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", /* dup meta */
        "{\"__metadata__\":{},\"__metadata__\":{},\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}\x01", /* control char after */
    };
    for (i = 0; i < (int)(sizeof good / sizeof good[0]); i++) {
        write_st(tpath("h.safetensors"), good[i], data, sizeof data);
        CHECK(grok_safetensors_load(&st, tpath("h.safetensors")) == GROK_OK, "good header %d: %s", i, good[i]);
        grok_safetensors_free(&st);
    }
    write_st(tpath("h.safetensors"), good[3], data, sizeof data);
    CHECK(grok_safetensors_load(&st, tpath("h.safetensors")) == GROK_OK && st.n == 1 &&
          strcmp(st.arrays[0].name, "\xc3\xa9\xf0\x9f\x98\x80/") == 0, "\\u escapes and surrogate pairs decoded");
    grok_safetensors_free(&st);
    for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        write_st(tpath("h.safetensors"), bad[i], data, sizeof data);
        memset(&st, 0x55, sizeof st);
        CHECK(grok_safetensors_load(&st, tpath("h.safetensors")) == GROK_ERR_FORMAT && st.arrays == NULL,
              "bad header %d refused: %s", i, bad[i]);
    }
    {   /* header lengths past the end of the file and past 100 MB */
        unsigned char b[24];
        memset(b, 0, sizeof b);
        b[0] = 100;
        write_bytes(tpath("h.safetensors"), b, sizeof b);
        CHECK(grok_safetensors_load(&st, tpath("h.safetensors")) == GROK_ERR_FORMAT, "header length past the end");
        memset(b, 0xff, 8);
        write_bytes(tpath("h.safetensors"), b, sizeof b);
        CHECK(grok_safetensors_load(&st, tpath("h.safetensors")) == GROK_ERR_FORMAT, "header length 2^64-1");
        write_bytes(tpath("h.safetensors"), b, 5);
        CHECK(grok_safetensors_load(&st, tpath("h.safetensors")) == GROK_ERR_FORMAT, "5-byte file");
    }
}

/* --------------------------------------------------------------- models */

static grok_config small_config(int layers, int ln, int gelu)
{
    grok_config c;
    memset(&c, 0, sizeof c);
    c.n_layers = layers; c.n_heads = 2; c.d_model = 8; c.d_head = 4; c.d_mlp = 16;
    c.d_vocab = 7; c.d_vocab_out = 5; c.n_ctx = 3;
    c.act_fn = gelu ? GROK_ACT_GELU : GROK_ACT_RELU;
    c.normalization = ln ? GROK_NORM_LN : GROK_NORM_NONE;
    c.seed = 11;
    c.train_biases = 1;
    return c;
}

static void randomize(grok_model *m, uint64_t seed)
{
    grok_rng r;
    size_t i;
    grok_rng_seed(&r, seed);
    for (i = 0; i < m->num_parameters; i++) m->weights[i] = (float)grok_rng_normal(&r);
}

/* A TransformerLens-style state dict: F64 weights in state_dict order, attn.mask (BOOL) and
   attn.IGNORE (F32 scalar) buffers, no metadata; extra (name, header) entries may be added. */
static void write_tl(const char *path, const grok_model *m, double scale, const char *skip, const char *extra_json,
                     const char *dtype_of, const char *dtype)
{
    char *h = (char *)malloc(1 << 16);
    unsigned char *data = (unsigned char *)malloc(1 << 20);
    size_t pos = 0, hp = 0, k;
    int i, l;
    hp += (size_t)sprintf(h + hp, "{");
    for (i = 0; i < m->n_params; i++) {
        const grok_param *p = &m->params[i];
        int d, is64 = !(dtype_of && strcmp(dtype_of, p->name) == 0) || strcmp(dtype, "F64") == 0;
        size_t es = is64 ? 8 : 4;
        if (skip && strcmp(skip, p->name) == 0) continue;
        hp += (size_t)sprintf(h + hp, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", hp > 1 ? "," : "", p->name,
                              dtype_of && strcmp(dtype_of, p->name) == 0 ? dtype : "F64");
        for (d = 0; d < p->ndim; d++) hp += (size_t)sprintf(h + hp, "%s%d", d ? "," : "", p->shape[d]);
        hp += (size_t)sprintf(h + hp, "],\"data_offsets\":[%lu,%lu]}", (unsigned long)pos, (unsigned long)(pos + p->numel * es));
        for (k = 0; k < p->numel; k++) {
            double v = (double)m->weights[p->offset + k] * scale + 1e-9 * (double)k;
            if (is64) memcpy(data + pos + 8 * k, &v, 8);
            else { int32_t q = (int32_t)k; memcpy(data + pos + 4 * k, &q, 4); }
        }
        pos += p->numel * es;
    }
    for (l = 0; l < m->cfg.n_layers; l++) {
        int T = m->cfg.n_ctx, a, b;
        float ignore = -1e5f;
        hp += (size_t)sprintf(h + hp, ",\"blocks.%d.attn.mask\":{\"dtype\":\"BOOL\",\"shape\":[%d,%d],\"data_offsets\":[%lu,%lu]}",
                              l, T, T, (unsigned long)pos, (unsigned long)(pos + (size_t)(T * T)));
        for (a = 0; a < T; a++) for (b = 0; b < T; b++) data[pos++] = (unsigned char)(b <= a);
        hp += (size_t)sprintf(h + hp, ",\"blocks.%d.attn.IGNORE\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[%lu,%lu]}",
                              l, (unsigned long)pos, (unsigned long)(pos + 4));
        memcpy(data + pos, &ignore, 4);
        pos += 4;
    }
    if (extra_json) hp += (size_t)sprintf(h + hp, ",%s", extra_json);
    sprintf(h + hp, "}");
    write_st(path, h, data, pos);
    free(h);
    free(data);
}

static void test_models(void)
{
    int layers, ln, gelu, i;
    for (layers = 1; layers <= 2; layers++)
        for (ln = 0; ln <= 1; ln++)
            for (gelu = 0; gelu <= 1; gelu++) {
                grok_config c = small_config(layers, ln, gelu), c2;
                grok_model a, b;
                grok_safetensors st;
                int ok = 1;
                if (grok_model_init(&a, &c, 4) != GROK_OK || grok_model_init(&b, &c, 4) != GROK_OK) {
                    CHECK(0, "model init"); return;
                }
                randomize(&a, 1); randomize(&b, 2);
                for (i = 0; i < (int)a.num_parameters; i++) a.grads[i] = (float)i;
                a.step = 12; a.epoch = 34;
                CHECK(grok_model_save_safetensors(&a, tpath("m.safetensors"), NULL) == GROK_OK, "save model");
                CHECK(grok_model_load_safetensors(&b, tpath("m.safetensors")) == GROK_OK, "load model %d %d %d", layers, ln, gelu);
                for (i = 0; i < a.n_params; i++)
                    ok &= memcmp(a.weights + a.params[i].offset, b.weights + b.params[i].offset, a.params[i].numel * 4) == 0;
                CHECK(ok, "weights bitwise equal after the round trip");
                CHECK(grok_safetensors_config(&c2, tpath("m.safetensors")) == GROK_OK && c2.n_layers == c.n_layers &&
                      c2.n_heads == 2 && c2.d_model == 8 && c2.d_head == 4 && c2.d_mlp == 16 && c2.d_vocab == 7 &&
                      c2.d_vocab_out == 5 && c2.n_ctx == 3 && c2.act_fn == c.act_fn && c2.normalization == c.normalization &&
                      c2.seed == 11 && c2.ln_eps == 1e-5 && c2.init_range == a.cfg.init_range, "config from the file");
                CHECK(grok_safetensors_load(&st, tpath("m.safetensors")) == GROK_OK, "load as generic");
                {
                    const grok_array *q = grok_safetensors_get(&st, "blocks.0.attn.W_Q");
                    const grok_array *o = grok_safetensors_get(&st, "blocks.0.attn.W_O");
                    CHECK(st.n == a.n_params && q && q->ndim == 3 && q->shape[0] == 2 && q->shape[1] == 8 && q->shape[2] == 4 &&
                          o && o->shape[0] == 2 && o->shape[1] == 4 && o->shape[2] == 8, "TransformerLens shapes");
                    CHECK(grok_safetensors_meta(&st, "act_fn") && strcmp(grok_safetensors_meta(&st, "act_fn"), gelu ? "gelu" : "relu") == 0 &&
                          strcmp(grok_safetensors_meta(&st, "normalization_type"), ln ? "LN" : "None") == 0 &&
                          strcmp(grok_safetensors_meta(&st, "step"), "12") == 0, "config metadata");
                    for (i = 0; i < st.n; i++) CHECK(strcmp(st.arrays[i].name, a.params[i].name) == 0, "state_dict order");
                }
                grok_safetensors_free(&st);
                /* another buffer of the same layout */
                CHECK(grok_model_save_safetensors(&a, tpath("g.safetensors"), a.grads) == GROK_OK &&
                      grok_safetensors_load(&st, tpath("g.safetensors")) == GROK_OK, "save grads");
                {
                    const grok_array *u = grok_safetensors_get(&st, "unembed.b_U");
                    const grok_param *p = grok_model_param(&a, "unembed.b_U");
                    CHECK(u && memcmp(u->data, a.grads + p->offset, p->numel * 4) == 0, "grads written");
                }
                grok_safetensors_free(&st);
                grok_model_free(&a);
                grok_model_free(&b);
            }
}

/* A TransformerLens state dict (F64, with mask and IGNORE buffers) and everything wrong with one. */
static void test_tl_load(void)
{
    grok_config c = small_config(2, 1, 1), c2;
    grok_model src, m;
    float *before;
    int i, ok = 1;
    const grok_param *p;
    char extra[256];
    if (grok_model_init(&src, &c, 4) != GROK_OK || grok_model_init(&m, &c, 4) != GROK_OK) { CHECK(0, "init"); return; }
    randomize(&src, 5);
    write_tl(tpath("tl.safetensors"), &src, 1.0, NULL, NULL, NULL, NULL);
    CHECK(grok_model_load_safetensors(&m, tpath("tl.safetensors")) == GROK_OK, "TransformerLens state dict loads");
    for (i = 0; i < m.n_params; i++) {
        size_t k;
        p = &m.params[i];
        for (k = 0; k < p->numel; k++)
            ok &= m.weights[p->offset + k] == (float)((double)src.weights[p->offset + k] + 1e-9 * (double)k);
    }
    CHECK(ok, "F64 converted to F32 exactly as a cast");
    CHECK(grok_safetensors_config(&c2, tpath("tl.safetensors")) == GROK_OK && c2.n_layers == 2 && c2.normalization == GROK_NORM_LN &&
          c2.act_fn == GROK_ACT_RELU && c2.d_vocab_out == 5, "config inferred from shapes (act_fn relu without metadata)");
    before = (float *)malloc(m.num_parameters * sizeof(float));
    memcpy(before, m.weights, m.num_parameters * sizeof(float));
#define REFUSED(what) CHECK(grok_model_load_safetensors(&m, tpath("tl.safetensors")) == GROK_ERR_FORMAT && \
                            memcmp(before, m.weights, m.num_parameters * sizeof(float)) == 0, "%s refused, model unchanged", what)
    write_tl(tpath("tl.safetensors"), &src, 2.0, "blocks.1.mlp.W_out", NULL, NULL, NULL);
    REFUSED("a missing parameter");
    write_tl(tpath("tl.safetensors"), &src, 2.0, NULL, NULL, "blocks.1.attn.b_O", "I32");
    REFUSED("an I32 parameter");
    write_tl(tpath("tl.safetensors"), &src, 2.0, "blocks.0.attn.W_K", "\"blocks.0.attn.W_K\":{\"dtype\":\"F32\",\"shape\":[8,2,4],\"data_offsets\":[0,0]}", NULL, NULL);
    REFUSED("a mis-shaped parameter (and bad offsets)");
    {   /* mis-shaped with valid offsets: W_K (2, 8, 4) written as (8, 2, 4) at the end */
        size_t n;
        unsigned char *raw;
        grok_safetensors st;
        write_tl(tpath("tl.safetensors"), &src, 2.0, "blocks.0.attn.W_K", NULL, NULL, NULL);
        CHECK(grok_safetensors_load(&st, tpath("tl.safetensors")) == GROK_OK, "reload");
        raw = read_bytes(tpath("tl.safetensors"), &n);
        {
            uint64_t hl = 0, dsz;
            int k;
            char *h;
            for (k = 7; k >= 0; k--) hl = hl << 8 | raw[k];
            dsz = n - 8 - hl;
            h = (char *)malloc(hl + 256);
            memcpy(h, raw + 8, hl);
            snprintf(h + hl - 1, 256, ",\"blocks.0.attn.W_K\":{\"dtype\":\"F32\",\"shape\":[8,2,4],\"data_offsets\":[%lu,%lu]}}",
                     (unsigned long)dsz, (unsigned long)(dsz + 256));
            {
                unsigned char *d2 = (unsigned char *)calloc(dsz + 256, 1);
                memcpy(d2, raw + 8 + hl, dsz);
                write_st(tpath("tl.safetensors"), h, d2, dsz + 256);
                free(d2);
            }
            free(h);
        }
        free(raw);
        grok_safetensors_free(&st);
        REFUSED("a transposed W_K (8, 2, 4)");
    }
    write_tl(tpath("tl.safetensors"), &src, 2.0, NULL, "\"__metadata__\":{\"act_fn\":\"relu\"}", NULL, NULL);
    REFUSED("act_fn relu into a gelu model");
    write_tl(tpath("tl.safetensors"), &src, 2.0, NULL, "\"__metadata__\":{\"normalization_type\":\"None\"}", NULL, NULL);
    REFUSED("normalization_type None into an LN model");
    snprintf(extra, sizeof extra, "\"blocks.0.attn.W_Q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}");
    write_tl(tpath("tl.safetensors"), &src, 2.0, NULL, extra, NULL, NULL);
    REFUSED("a duplicate name");
    {   /* truncations and random corruption of a valid file: never out of bounds, model unchanged */
        size_t n, k;
        unsigned char *raw;
        grok_rng r;
        int bad_trunc = 0, changed = 0, st, t;
        write_tl(tpath("tl.safetensors"), &src, 3.0, NULL, NULL, NULL, NULL);
        raw = read_bytes(tpath("tl.safetensors"), &n);
        for (k = 0; k < n; k += (k < 4096 ? 1 : 97)) {
            write_bytes(tpath("cut.safetensors"), raw, k);
            if (grok_model_load_safetensors(&m, tpath("cut.safetensors")) != GROK_ERR_FORMAT) bad_trunc++;
        }
        CHECK(bad_trunc == 0 && memcmp(before, m.weights, m.num_parameters * sizeof(float)) == 0,
              "every truncation refused (%d accepted), model unchanged", bad_trunc);
        grok_rng_seed(&r, 77);
        for (t = 0; t < 3000; t++) {
            unsigned char *mut = (unsigned char *)malloc(n);
            uint64_t hl = 0;
            int j, flips = 1 + (int)grok_rng_below(&r, 3);
            memcpy(mut, raw, n);
            for (j = 7; j >= 0; j--) hl = hl << 8 | raw[j];
            for (j = 0; j < flips; j++) { /* mostly inside the header, where structure lives */
                size_t at = grok_rng_below(&r, 4) ? (size_t)grok_rng_below(&r, hl + 8) : (size_t)grok_rng_below(&r, n);
                mut[at] = grok_rng_below(&r, 2) ? (unsigned char)grok_rng_below(&r, 256) : (unsigned char)"{}[],:\"0123456789 \\"[grok_rng_below(&r, 20)];
            }
            write_bytes(tpath("mut.safetensors"), mut, n);
            st = grok_model_load_safetensors(&m, tpath("mut.safetensors"));
            if (st != GROK_OK && memcmp(before, m.weights, m.num_parameters * sizeof(float)) != 0) changed++;
            if (st == GROK_OK) memcpy(m.weights, before, m.num_parameters * sizeof(float));
            if (st != GROK_OK && st != GROK_ERR_FORMAT) changed++;
            free(mut);
        }
        CHECK(changed == 0, "3000 corrupted files: failures leave the model unchanged (%d did not)", changed);
        free(raw);
    }
#undef REFUSED
    {   /* a model without LayerNorm refuses a file with LayerNorm weights */
        grok_config cn = small_config(2, 0, 1);
        grok_model n;
        if (grok_model_init(&n, &cn, 4) == GROK_OK) {
            write_tl(tpath("tl.safetensors"), &src, 1.0, NULL, NULL, NULL, NULL);
            CHECK(grok_model_load_safetensors(&n, tpath("tl.safetensors")) == GROK_ERR_FORMAT, "LN weights into a model without LN refused");
            grok_model_free(&n);
        }
    }
    free(before);
    grok_model_free(&src);
    grok_model_free(&m);
}


/* The trainable flags of m as a string of 0/1, one per parameter. */
static void flags_of(char *out, const grok_model *m)
{
    int i;
    for (i = 0; i < m->n_params; i++) out[i] = (char)('0' + m->params[i].trainable);
    out[m->n_params] = '\0';
}

/* A state dict without bias tensors (a PyTorch model built without them) loads with zero frozen
   biases; grok.h's files carry the trainable flags (__metadata__ frozen) and give them back. */
static void test_no_bias(void)
{
    grok_config c = small_config(2, 1, 0), c2;
    grok_model a, b;
    grok_array arr[64];
    grok_safetensors st;
    grok_tensor w_out;
    char fa[64], fb[64], want[64];
    float *before;
    int i, n = 0, zeroed = -1, ok = 1;
    if (grok_model_init(&a, &c, 4) != GROK_OK || grok_model_init(&b, &c, 4) != GROK_OK) { CHECK(0, "init"); return; }
    randomize(&a, 21); randomize(&b, 22);
    for (i = 0; i < a.n_params; i++) {
        grok_tensor t = grok_model_tensor(&a, a.weights, &a.params[i]);
        if (!strstr(a.params[i].name, ".b_")) arr[n++] = grok_array_of_tensor(a.params[i].name, &t);
    }
    CHECK(grok_safetensors_save(tpath("nb.safetensors"), arr, n, NULL, NULL, 0) == GROK_OK, "save a state dict without biases");
    CHECK(grok_model_load_safetensors_ex(&b, tpath("nb.safetensors"), &zeroed) == GROK_OK, "a state dict without biases loads");
    CHECK(zeroed == 2 * 6 + 1, "absent biases reported: %d, want 13", zeroed);
    for (i = 0; i < b.n_params; i++) {
        const grok_param *p = &b.params[i];
        int bias = strstr(p->name, ".b_") != NULL;
        size_t k;
        for (k = 0; k < p->numel; k++) ok &= b.weights[p->offset + k] == (bias ? 0.0f : a.weights[p->offset + k]);
        ok &= p->trainable == !bias;
    }
    CHECK(ok, "biases zero and frozen, every other tensor the file's and trainable");
    CHECK(grok_safetensors_config(&c2, tpath("nb.safetensors")) == GROK_OK && c2.train_biases == 0,
          "config of a file without biases: train_biases 0 (%d)", c2.train_biases);

    /* the flags round trip through grok.h's own files */
    CHECK(grok_model_save_safetensors(&a, tpath("fr.safetensors"), NULL) == GROK_OK &&
          grok_safetensors_config(&c2, tpath("fr.safetensors")) == GROK_OK && c2.train_biases == 1, "every tensor trains: train_biases 1");
    CHECK(grok_safetensors_load(&st, tpath("fr.safetensors")) == GROK_OK && grok_safetensors_meta(&st, "frozen") &&
          strcmp(grok_safetensors_meta(&st, "frozen"), "") == 0, "frozen \"\" when every tensor trains");
    grok_safetensors_free(&st);
    CHECK(grok_model_set_trainable(&a, "b_", 0) == 13 && grok_model_set_trainable(&a, "pos_embed.W_pos", 0) == 1, "freeze");
    CHECK(grok_model_save_safetensors(&a, tpath("fr.safetensors"), NULL) == GROK_OK &&
          grok_safetensors_config(&c2, tpath("fr.safetensors")) == GROK_OK && c2.train_biases == 0,
          "frozen biases: train_biases 0 (%d)", c2.train_biases);
    grok_model_set_trainable(&b, "", 1);
    CHECK(grok_model_load_safetensors_ex(&b, tpath("fr.safetensors"), &zeroed) == GROK_OK && zeroed == 0, "load the frozen file");
    flags_of(fa, &a); flags_of(fb, &b);
    CHECK(strcmp(fa, fb) == 0, "trainable flags round trip: %s, want %s", fb, fa);
    grok_model_set_trainable(&a, "", 1);
    CHECK(grok_model_save_safetensors(&a, tpath("fr.safetensors"), NULL) == GROK_OK &&
          grok_model_load_safetensors(&b, tpath("fr.safetensors")) == GROK_OK, "reload with every tensor trainable");
    flags_of(fb, &b);
    CHECK(strspn(fb, "1") == strlen(fb), "the file's flags replace the model's: %s", fb);

    /* failures leave weights and flags as they were */
    grok_model_set_trainable(&b, "W_U", 0);
    flags_of(want, &b);
    before = (float *)malloc(b.num_parameters * sizeof(float));
    memcpy(before, b.weights, b.num_parameters * sizeof(float));
    n = 0;
    w_out = grok_model_tensor(&a, a.weights, grok_model_param(&a, "blocks.1.mlp.W_out"));
    for (i = 0; i < a.n_params; i++) {
        grok_tensor t = grok_model_tensor(&a, a.weights, &a.params[i]);
        if (!strstr(a.params[i].name, ".b_") && strcmp(a.params[i].name, "blocks.1.mlp.W_out"))
            arr[n++] = grok_array_of_tensor(a.params[i].name, &t);
    }
    CHECK(grok_safetensors_save(tpath("nb2.safetensors"), arr, n, NULL, NULL, 0) == GROK_OK, "save without W_out");
    CHECK(grok_model_load_safetensors_ex(&b, tpath("nb2.safetensors"), &zeroed) == GROK_ERR_FORMAT && zeroed == 0,
          "a missing weight (not a bias) refused");
    {
        static const char *const key[1] = {"frozen"}, *const bad[1] = {"embed.W_E,blocks.0.attn.W_X"};
        arr[n++] = grok_array_of_tensor("blocks.1.mlp.W_out", &w_out);
        CHECK(grok_safetensors_save(tpath("nb3.safetensors"), arr, n, key, bad, 1) == GROK_OK, "save frozen with an unknown name");
        CHECK(grok_model_load_safetensors(&b, tpath("nb3.safetensors")) == GROK_ERR_FORMAT &&
              strstr(grok_last_error(), "blocks.0.attn.W_X") != NULL, "frozen naming no parameter refused: %s", grok_last_error());
    }
    flags_of(fb, &b);
    CHECK(strcmp(fb, want) == 0 && memcmp(before, b.weights, b.num_parameters * sizeof(float)) == 0,
          "failed loads leave weights and flags unchanged");
    free(before);
    grok_model_free(&a);
    grok_model_free(&b);
}

/* ------------------------------------------------------- splits, summary */

/* ------------------------------------------------------------------ seed 003's nets */

/* net's weights as a state dict: F64 when f64, without the tensor named drop, with the first
   dimension of the tensor named grow one larger, an extra tensor "b_U" when extra, and a
   __metadata__ model when model is not NULL. */
static void write_net(const char *path, const grok_net *net, int f64, const char *drop, const char *grow, int extra,
                      const char *model)
{
    grok_array a[5];
    double *d = (double *)calloc(net->num_parameters + 64, sizeof(double));
    float *f = (float *)calloc(net->num_parameters + 64, sizeof(float));
    const char *mk[1] = {"model"}, *mv[1];
    int i, n = 0;
    size_t k;
    for (k = 0; k < net->num_parameters; k++) { d[k] = (double)net->weights[k] + 1e-9 * (double)k; f[k] = net->weights[k]; }
    for (i = 0; i < net->n_params; i++) {
        const grok_param *p = &net->params[i];
        if (drop && !strcmp(drop, p->name)) continue;
        memset(&a[n], 0, sizeof a[n]);
        a[n].name = p->name; a[n].dtype = f64 ? GROK_DT_F64 : GROK_DT_F32; a[n].ndim = 2;
        a[n].shape[0] = p->shape[0] + (grow && !strcmp(grow, p->name)); a[n].shape[1] = p->shape[1];
        a[n].data = f64 ? (void *)(d + p->offset) : (void *)(f + p->offset); /* the padding covers a grown one */
        n++;
    }
    if (extra) {
        memset(&a[n], 0, sizeof a[n]);
        a[n].name = "b_U"; a[n].dtype = GROK_DT_F32; a[n].ndim = 1; a[n].shape[0] = net->cfg.n; a[n].data = f;
        n++;
    }
    mv[0] = model;
    if (grok_safetensors_save(path, a, n, mk, mv, model ? 1 : 0) != GROK_OK) { printf("cannot write %s\n", path); exit(2); }
    free(d); free(f);
}

static void test_net_load(void)
{
    grok_net_config cm, cb, c;
    grok_net mlp, mlp2, bil, bil2;
    float *before;
    size_t k;
    int ok = 1, i;
    memset(&cm, 0, sizeof cm);
    cm.kind = GROK_NET_MLP; cm.n = 6; cm.embed_dim = 4; cm.hidden_dim = 5; cm.seed = 11;
    cb = cm; cb.kind = GROK_NET_BILINEAR; cb.hidden_dim = 0;
    if (grok_net_init(&mlp, &cm, 4) != GROK_OK || grok_net_init(&bil, &cb, 4) != GROK_OK) { CHECK(0, "net init"); return; }
    cm.seed = cb.seed = 12;
    if (grok_net_init(&mlp2, &cm, 4) != GROK_OK || grok_net_init(&bil2, &cb, 4) != GROK_OK) { CHECK(0, "net init"); return; }

    /* round trip through grok_net_save_safetensors, both kinds */
    CHECK(grok_net_save_safetensors(&mlp, tpath("mlp.safetensors"), NULL) == GROK_OK, "MLP saved");
    CHECK(grok_net_save_safetensors(&bil, tpath("bil.safetensors"), NULL) == GROK_OK, "bilinear saved");
    CHECK(grok_net_safetensors_config(&c, tpath("mlp.safetensors")) == GROK_OK && c.kind == GROK_NET_MLP && c.n == 6 &&
          c.embed_dim == 4 && c.hidden_dim == 5 && c.seed == 11, "MLP config: kind, shapes and seed");
    CHECK(grok_net_safetensors_config(&c, tpath("bil.safetensors")) == GROK_OK && c.kind == GROK_NET_BILINEAR && c.n == 6 &&
          c.embed_dim == 4 && c.hidden_dim == 0, "bilinear config: no W, so BilinearNet");
    CHECK(grok_net_load_safetensors(&mlp2, tpath("mlp.safetensors")) == GROK_OK &&
          memcmp(mlp2.weights, mlp.weights, mlp.num_parameters * sizeof(float)) == 0, "MLP round trip, bit for bit");
    CHECK(grok_net_load_safetensors(&bil2, tpath("bil.safetensors")) == GROK_OK &&
          memcmp(bil2.weights, bil.weights, bil.num_parameters * sizeof(float)) == 0, "bilinear round trip, bit for bit");

    /* a state dict as python writes it: F64, no metadata */
    write_net(tpath("mlp64.safetensors"), &mlp, 1, NULL, NULL, 0, NULL);
    mlp2.weights[0] += 1.0f;
    CHECK(grok_net_load_safetensors(&mlp2, tpath("mlp64.safetensors")) == GROK_OK, "F64 state dict loads");
    for (i = 0; i < mlp.n_params; i++)
        for (k = mlp.params[i].offset; k < mlp.params[i].offset + mlp.params[i].numel; k++)
            ok &= mlp2.weights[k] == (float)((double)mlp.weights[k] + 1e-9 * (double)k);
    CHECK(ok, "F64 converted as a cast");
    CHECK(grok_net_safetensors_config(&c, tpath("mlp64.safetensors")) == GROK_OK && c.seed == 0, "no metadata: seed 0");

    before = (float *)malloc(mlp2.num_parameters * sizeof(float));
    memcpy(before, mlp2.weights, mlp2.num_parameters * sizeof(float));
#define NET_REFUSED(file, what) CHECK(grok_net_load_safetensors(&mlp2, tpath(file)) == GROK_ERR_FORMAT && \
                                      memcmp(before, mlp2.weights, mlp2.num_parameters * sizeof(float)) == 0, \
                                      "%s refused, net unchanged", what)
    write_net(tpath("shape.safetensors"), &mlp, 0, NULL, "W", 0, NULL);
    NET_REFUSED("shape.safetensors", "W of shape (9, 5)");
    CHECK(grok_net_safetensors_config(&c, tpath("shape.safetensors")) == GROK_ERR_FORMAT &&
          strstr(grok_last_error(), "W has shape (9, 5)"), "config of a wrong shape refused, naming it");
    write_net(tpath("shape2.safetensors"), &mlp, 0, NULL, "W_E_b", 0, NULL);
    NET_REFUSED("shape2.safetensors", "W_E_b of shape (7, 4)");
    write_net(tpath("shape3.safetensors"), &mlp, 0, NULL, "W_U", 0, NULL);
    NET_REFUSED("shape3.safetensors", "W_U of shape (6, 6)");
    CHECK(grok_net_safetensors_config(&c, tpath("shape3.safetensors")) == GROK_ERR_FORMAT, "config of a wrong W_U refused");
    write_net(tpath("missing.safetensors"), &mlp, 0, "W_E_b", NULL, 0, NULL);
    NET_REFUSED("missing.safetensors", "no W_E_b");
    CHECK(strstr(grok_last_error(), "no tensor W_E_b") != NULL, "the missing tensor is named: %s", grok_last_error());
    write_net(tpath("missing_u.safetensors"), &mlp, 0, "W_U", NULL, 0, NULL);
    NET_REFUSED("missing_u.safetensors", "no W_U");
    write_net(tpath("extra.safetensors"), &mlp, 0, NULL, NULL, 1, NULL);
    NET_REFUSED("extra.safetensors", "an extra tensor b_U");
    write_net(tpath("meta.safetensors"), &mlp, 0, NULL, NULL, 0, "BilinearNet");
    NET_REFUSED("meta.safetensors", "metadata BilinearNet with W");
    NET_REFUSED("bil.safetensors", "a BilinearNet file into a OneLayerMLP");
    memcpy(before, bil2.weights, bil2.num_parameters * sizeof(float));
    CHECK(grok_net_load_safetensors(&bil2, tpath("mlp.safetensors")) == GROK_ERR_FORMAT &&
          memcmp(before, bil2.weights, bil2.num_parameters * sizeof(float)) == 0, "a OneLayerMLP file into a BilinearNet refused");
    grok_net_free(&mlp2);
    cm.hidden_dim = 6;
    if (grok_net_init(&mlp2, &cm, 4) == GROK_OK) {
        free(before);
        before = (float *)malloc(mlp2.num_parameters * sizeof(float));
        memcpy(before, mlp2.weights, mlp2.num_parameters * sizeof(float));
        NET_REFUSED("mlp.safetensors", "a hidden_dim 5 file into a hidden_dim 6 net");
    }
#undef NET_REFUSED
    CHECK(grok_net_load_safetensors(NULL, tpath("mlp.safetensors")) == GROK_ERR_ARG, "NULL net refused");
    CHECK(grok_net_safetensors_config(&c, tpath("absent.safetensors")) != GROK_OK, "absent file refused");
    free(before);
    grok_net_free(&mlp); grok_net_free(&mlp2); grok_net_free(&bil); grok_net_free(&bil2);
}

static void test_split(void)
{
    grok_data tr, te, tr2, te2;
    int64_t *idx, *tidx;
    grok_array a;
    int p = 23, i, ok;
    long n = (long)p * p;
    CHECK(grok_task_modadd(&tr, &te, p, 0.3, 598) == GROK_OK, "modadd");
    idx = (int64_t *)malloc(sizeof(int64_t) * (size_t)n);
    tidx = (int64_t *)malloc(sizeof(int64_t) * (size_t)n);
    for (i = 0; i < tr.n; i++) idx[i] = (int64_t)tr.tokens[3 * i] * p + tr.tokens[3 * i + 1];
    for (i = 0; i < te.n; i++) tidx[i] = (int64_t)te.tokens[3 * i] * p + te.tokens[3 * i + 1];
    CHECK(grok_task_modadd_from_indices(&tr2, &te2, p, idx, tr.n, tidx, te.n) == GROK_OK, "from indices");
    CHECK(tr2.n == tr.n && te2.n == te.n && memcmp(tr.tokens, tr2.tokens, sizeof(int) * 6 * (size_t)tr.n) == 0 &&
          memcmp(te.tokens, te2.tokens, sizeof(int) * 6 * (size_t)te.n) == 0, "the same data, bit for bit");
    grok_data_free(&tr2); grok_data_free(&te2);
    /* through .npy files, as np.save writes them, and with the complement for test */
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_I64; a.ndim = 1; a.shape[0] = tr.n; a.data = idx;
    CHECK(grok_npy_save(tpath("train_idx.npy"), &a) == GROK_OK, "save indices");
    a.shape[0] = te.n; a.data = tidx;
    CHECK(grok_npy_save(tpath("test_idx.npy"), &a) == GROK_OK, "save test indices");
    CHECK(grok_task_modadd_from_npy(&tr2, &te2, p, tpath("train_idx.npy"), tpath("test_idx.npy")) == GROK_OK &&
          memcmp(te.tokens, te2.tokens, sizeof(int) * 6 * (size_t)te.n) == 0 &&
          memcmp(tr.tokens, tr2.tokens, sizeof(int) * 6 * (size_t)tr.n) == 0, "from .npy");
    grok_data_free(&tr2); grok_data_free(&te2);
    CHECK(grok_task_modadd_from_npy(&tr2, &te2, p, tpath("train_idx.npy"), NULL) == GROK_OK && te2.n == te.n, "complement");
    ok = 1;
    for (i = 1; i < te2.n; i++) ok &= te2.tokens[3 * i] * p + te2.tokens[3 * i + 1] > te2.tokens[3 * i - 3] * p + te2.tokens[3 * i - 2];
    for (i = 0; i < te2.n; i++) ok &= te2.targets[3 * i + 2] == (te2.tokens[3 * i] + te2.tokens[3 * i + 1]) % p && te2.tokens[3 * i + 2] == p;
    CHECK(ok, "complement ascending, labels (a+b) mod p");
    grok_data_free(&tr2); grok_data_free(&te2);
    /* refusals */
    idx[3] = n;
    CHECK(grok_task_modadd_from_indices(&tr2, &te2, p, idx, tr.n, tidx, te.n) == GROK_ERR_ARG && tr2.tokens == NULL, "index p*p refused");
    idx[3] = -1;
    CHECK(grok_task_modadd_from_indices(&tr2, &te2, p, idx, tr.n, NULL, 0) == GROK_ERR_ARG, "negative index refused");
    idx[3] = idx[4];
    CHECK(grok_task_modadd_from_indices(&tr2, &te2, p, idx, tr.n, NULL, 0) == GROK_ERR_ARG, "repeated index refused");
    idx[3] = tidx[0];
    CHECK(grok_task_modadd_from_indices(&tr2, &te2, p, idx, tr.n, tidx, te.n) == GROK_ERR_ARG, "train/test overlap refused");
    a.dtype = GROK_DT_F64;
    {
        double dv[2] = {1, 2};
        a.shape[0] = 2; a.data = dv;
        CHECK(grok_npy_save(tpath("f_idx.npy"), &a) == GROK_OK &&
              grok_task_modadd_from_npy(&tr2, &te2, p, tpath("f_idx.npy"), NULL) == GROK_ERR_FORMAT, "float indices refused");
    }
    free(idx); free(tidx);
    grok_data_free(&tr); grok_data_free(&te);
}

static void test_summary(void)
{
    grok_config c = small_config(1, 0, 0);
    grok_model m;
    grok_run_info info;
    const char *keys[3] = {"task", "p", "note"}, *vals[3] = {"modadd", "113", "say \"hi\"\n"};
    size_t n;
    char *txt;
    if (grok_model_init(&m, &c, 4) != GROK_OK) { CHECK(0, "init"); return; }
    m.epoch = 25000; m.step = 25000;
    m.metrics.train_loss = 9.6e-8; m.metrics.test_loss = 5.6e-6; m.metrics.train_acc = 1; m.metrics.test_acc = 1;
    memset(&info, 0, sizeof info);
    info.first_epoch_test_acc_50 = 5500; info.first_epoch_test_acc_99 = -1;
    info.seconds = 1222.75; info.n_train = 3830; info.n_test = -1;
    info.n_extra = 3; info.extra_keys = keys; info.extra_values = vals;
    CHECK(grok_run_summary_save(tpath("summary.json"), &m, &info) == GROK_OK, "summary written");
    txt = (char *)read_bytes(tpath("summary.json"), &n);
    txt[n] = '\0';
    CHECK(strstr(txt, "\"first_epoch_test_acc_50\": 5500") && strstr(txt, "\"first_epoch_test_acc_99\": null") &&
          strstr(txt, "\"seconds\": 1222.75") && strstr(txt, "\"n_train\": 3830") && strstr(txt, "\"n_test\": null") &&
          strstr(txt, "\"p\": 113") && strstr(txt, "\"task\": \"modadd\"") && strstr(txt, "\"note\": \"say \\\"hi\\\"\\u000a\"") &&
          strstr(txt, "\"test_loss\": 5.6e-06") && strstr(txt, "\"act_fn\": \"relu\"") &&
          strstr(txt, "\"epoch\": 25000"), "summary content:\n%s", txt);
    free(txt);
    grok_model_free(&m);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/grok_test_io_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) { printf("cannot create a temporary directory\n"); return 2; }
    test_npy();
    test_npy_strict();
    test_st_generic();
    test_st_strict();
    test_models();
    test_tl_load();
    test_no_bias();
    test_net_load();
    test_split();
    test_summary();
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
    }
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
