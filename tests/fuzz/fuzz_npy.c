/* libFuzzer target: grok.h's .npy reader (grok_npy_load, the conversions, and the modular-
   addition split from an index file). Built and run by `make fuzz`. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include "fuzz_model.h"
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    grok_array a;
    grok_data tr, te;
    const char *path = grok_fuzz_file(data, size, ".npy");
    (void)grok_fuzz_config; /* shared with the other targets */
    if (grok_npy_load(&a, path) == GROK_OK) {
        int64_t n = grok_array_numel(&a);
        if (n >= 0 && n <= (1 << 20)) {
            float *f = (float *)malloc(sizeof(float) * (size_t)(n ? n : 1));
            int64_t *q = (int64_t *)malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
            (void)grok_array_to_f32(f, n, &a);
            (void)grok_array_to_i64(q, n, &a);
            free(f); free(q);
        }
        grok_array_free(&a);
    }
    if (grok_task_modadd_from_npy(&tr, &te, 5, path, NULL) == GROK_OK) {
        grok_data_free(&tr);
        grok_data_free(&te);
    }
    return 0;
}
