/* libFuzzer target: grok.h's safetensors reader (grok_safetensors_load and every lookup on what
   it returns, grok_safetensors_config, grok_model_load_safetensors into the fuzz model, which a
   failed load must leave unchanged). Built and run by `make fuzz`. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include "fuzz_model.h"
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static grok_model m;
    static float *before;
    grok_config c = grok_fuzz_config();
    grok_safetensors st;
    const char *path = grok_fuzz_file(data, size, ".safetensors");
    volatile unsigned char sink = 0;
    int i;
    if (!m.weights) {
        if (grok_model_init(&m, &c, 2) != GROK_OK) abort();
        before = (float *)malloc(m.num_parameters * sizeof(float));
    }
    if (grok_safetensors_load(&st, path) == GROK_OK) {
        for (i = 0; i < st.n; i++) { /* every byte of every array is readable (ASan checks) */
            const grok_array *a = &st.arrays[i];
            size_t k, bytes = (size_t)grok_array_numel(a) * grok_dtype_size(a->dtype);
            for (k = 0; k < bytes; k++) sink ^= ((const unsigned char *)a->data)[k];
            if (grok_safetensors_get(&st, a->name) == NULL) abort();
        }
        for (i = 0; i < st.n_meta; i++)
            if (grok_safetensors_meta(&st, st.meta_keys[i]) == NULL) abort();
        grok_safetensors_free(&st);
    }
    (void)grok_safetensors_config(&c, path);
    memcpy(before, m.weights, m.num_parameters * sizeof(float));
    if (grok_model_load_safetensors(&m, path) != GROK_OK && memcmp(before, m.weights, m.num_parameters * sizeof(float)) != 0)
        abort();
    (void)sink;
    return 0;
}
