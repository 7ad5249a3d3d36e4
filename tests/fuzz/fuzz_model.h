/* The small model that the fuzz targets and tests/test_corpus load files into (with p = 5's
   modular-addition shape: 1 layer, n_ctx 3, d_vocab 6, d_vocab_out 5). Include after grok.h. */
#ifndef GROK_FUZZ_MODEL_H
#define GROK_FUZZ_MODEL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static grok_config grok_fuzz_config(void)
{
    grok_config c;
    memset(&c, 0, sizeof c);
    c.n_layers = 1; c.n_heads = 2; c.d_model = 8; c.d_head = 4; c.d_mlp = 16;
    c.d_vocab = 6; c.d_vocab_out = 5; c.n_ctx = 3; c.seed = 3;
    return c;
}

#ifndef GROK_FUZZ_CONFIG_ONLY
/* The fuzz input as a file that the loaders can open: one per process, rewritten per input. */
static const char *grok_fuzz_file(const uint8_t *data, size_t size, const char *ext)
{
    static char path[256];
    FILE *f;
    if (!path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/grok_fuzz_%ld%s", t && *t ? t : "/tmp", (long)getpid(), ext);
    }
    f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    return path;
}
#endif
#endif
