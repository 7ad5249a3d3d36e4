/* Compiled by tests/run.sh as C99, C11 and C++ with gcc and clang, with and without
   GROK_STATIC, with each optional part left out, and as two translation units (implementation
   in one, declarations only in the other): the header must build warning-free every way. A
   part left out takes its declarations with it, and what needs it is refused with a message. */
#ifndef DECLARATIONS_ONLY
#define GROK_IMPLEMENTATION
#endif
#include "../grok.h"

#if defined(GROK_NO_INTEROP) && defined(GROK_ARRAY_MAX_DIMS)
#error "GROK_NO_INTEROP left the interchange declarations in"
#endif
#if defined(GROK_NO_PLOTS) && defined(GROK_PLOT_CBAR_STEPS)
#error "GROK_NO_PLOTS left the plot declarations in"
#endif
#if !defined(GROK_NO_INTEROP) && !defined(GROK_ARRAY_MAX_DIMS)
#error "the interchange declarations are missing"
#endif
#ifdef GROK_NO_ANALYSIS
/* The analysis declarations went with it: their names are free (a typedef of a declared
   function's name would not compile). */
typedef int grok_fftshift2, grok_ifftshift2, grok_neuron_freq_norm, grok_wlogit_cluster_norms,
    grok_modadd_logit_components;
#endif

/* A part left out must take its functions too: these typedefs clash with any declaration of
   the same name that was left in. */
#ifdef GROK_NO_ANALYSIS
typedef int grok_group_fourier_basis, grok_group_fourier_name, grok_net_group_fourier_norms, grok_net_group_neuron_freqs,
    grok_net_group_fourier_logits, grok_net_group_fourier_acts, grok_net_group_wu_cluster_norms,
    grok_net_group_logit_components;
typedef int grok_resid_stack, grok_resid_stack_name, grok_resid_apply_ln, grok_logit_attrs, grok_circuit,
    grok_factored_svd, grok_patch_site_name, grok_patch_shape, grok_act_patch, grok_attr_patch, grok_patch_site;
typedef int grok_irreps, grok_irreps_init, grok_irreps_free, grok_group_classes, grok_irreps_characters,
    grok_irreps_char_table, grok_irreps_fourier, grok_irreps_inverse, grok_irreps_norms, grok_irreps_keys,
    grok_irreps_pair_norms, grok_irreps_pair_project, grok_irreps_trace_sims, grok_irreps_losses,
    grok_net_irreps_metrics, grok_model_irreps_metrics, grok_irreps_learn_order;
typedef int grok_llc_opts, grok_llc_loss_fn, grok_llc_sgld, grok_model_llc;
#if defined(GROK_RESID_HEADS) || defined(GROK_CIRCUIT_QK) || defined(GROK_POS_ALL)
#error "GROK_NO_ANALYSIS left the attribution and circuit constants in"
#endif
#if defined(GROK_IRM_ROWS) || defined(GROK_IRT_N)
#error "GROK_NO_ANALYSIS left the irreps metrics' constants in"
#endif
#endif
#ifdef GROK_NO_INTEROP
typedef int grok_net_load_safetensors, grok_net_safetensors_config;
#endif

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
#ifndef GROK_NO_ANALYSIS
    {   /* the figures' functions are there */
        double z[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        if (grok_fftshift2(z, 2, 2) != GROK_OK || grok_ifftshift2(z, 2, 2) != GROK_OK || z[0] != 1) return 1;
    }
#endif
#ifdef GROK_NO_ANALYSIS
    {   /* the progress measures are part of the analysis */
        grok_data train, test;
        grok_train_opts o = grok_train_opts_default();
        int st;
        o.epochs = 1; o.progress = 0; o.progress_measures = 1;
        if (grok_task_modadd(&train, &test, 7, 0.3, 1) != GROK_OK) return 1;
        grok_model_free(&m);
        if (grok_model_init(&m, &c, train.n) != GROK_OK) return 1;
        st = grok_train(&m, &o, &train, &test);
        grok_data_free(&train); grok_data_free(&test);
        if (st != GROK_ERR_ARG || !strstr(grok_last_error(), "GROK_NO_ANALYSIS")) return 1;
    }
#endif
    grok_model_free(&m);
#ifdef TWO_UNITS
    if (compile_check_other() != 0) return 1;
#endif
    return loss > 0.0 ? 0 : 1;
}
#endif
