/* Compiled by tests/run.sh as C99, C11 and C++ with gcc and clang, with and without
   GROK_STATIC, and as two translation units (implementation in one, declarations only in
   the other): the header must build warning-free every way. */
#ifndef DECLARATIONS_ONLY
#define GROK_IMPLEMENTATION
#endif
#include "../grok.h"

#ifdef DECLARATIONS_ONLY
int compile_check_other(void);
int compile_check_other(void)
{
    grok_config c = grok_config_modadd(7);
    return c.d_vocab == 8 ? 0 : 1;
}
#else
#ifdef TWO_UNITS
int compile_check_other(void);
#endif
int main(void)
{
    grok_config c = grok_config_modadd(7);
    grok_model m;
    int tokens[3] = {1, 2, 7}, targets[3] = {-1, -1, 3};
    double loss = 0.0;
    if (grok_model_init(&m, &c, 1) != GROK_OK) return 1;
    if (grok_model_forward(&m, tokens, targets, 1, &loss, NULL, NULL) != GROK_OK) return 1;
    grok_model_free(&m);
#ifdef TWO_UNITS
    if (compile_check_other() != 0) return 1;
#endif
    return loss > 0.0 ? 0 : 1;
}
#endif
