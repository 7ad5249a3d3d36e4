/* libFuzzer target: grok.h's checkpoint reader (grok_checkpoint_config, grok_checkpoint_load into
   the fuzz model, and into a model of the file's own config when that config is small). A failed
   load must leave the model unchanged. Each input is tried as it is and with its last 8 bytes
   replaced by the right FNV-1a checksum, so that mutations reach the checks behind it. Built and
   run by `make fuzz`. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include "fuzz_model.h"
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_file(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_file(data, size);
    if (size >= 16) {
        uint8_t *fixed = (uint8_t *)malloc(size);
        uint64_t h = 0xCBF29CE484222325ull;
        size_t i;
        memcpy(fixed, data, size);
        for (i = 0; i < size - 8; i++) h = (h ^ fixed[i]) * 0x100000001B3ull;
        for (i = 0; i < 8; i++) fixed[size - 8 + i] = (uint8_t)(h >> (8 * i));
        try_file(fixed, size);
        free(fixed);
    }
    return 0;
}

static void try_file(const uint8_t *data, size_t size)
{
    static grok_model m;
    static float *before;
    grok_config c = grok_fuzz_config(), fc;
    const char *path = grok_fuzz_file(data, size, ".grok");
    if (!m.weights) {
        if (grok_model_init(&m, &c, 2) != GROK_OK) abort();
        before = (float *)malloc(m.num_parameters * sizeof(float));
    }
    memcpy(before, m.weights, m.num_parameters * sizeof(float));
    if (grok_checkpoint_load(&m, path) != GROK_OK && memcmp(before, m.weights, m.num_parameters * sizeof(float)) != 0)
        abort(); /* a refused file changed the model */
    if (grok_checkpoint_config(&fc, path) == GROK_OK && fc.n_layers <= 2 && fc.d_model <= 32 && fc.d_mlp <= 64 &&
        (long)fc.n_heads * fc.d_head <= 32 && fc.d_vocab <= 64 && fc.d_vocab_out <= 64 && fc.n_ctx <= 8) {
        grok_model o;
        if (grok_model_init(&o, &fc, 1) == GROK_OK) {
            (void)grok_checkpoint_load(&o, path);
            grok_model_free(&o);
        }
    }
}
