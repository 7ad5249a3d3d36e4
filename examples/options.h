/* options.h - the command-line parser every example shares.

   A program lists its options in a table of opt (opt_int, opt_real, opt_text, ..., each bound
   to the variable that holds its default) and calls opt_parse. The parser is strict, so that a
   typo never becomes a silently different run: every value must parse whole, integers are
   decimal and accept 1e9 or 2.5e3 only when the number is whole, every number is checked
   against its range, an option may be given once, and anything else ends the program with a
   message naming the option, its value and what it accepts (exit status 2). --help prints every
   option with its range and its default (the variable's value before parsing).

   Functions are static inline: a program that uses part of this header gets no warning for
   the rest. Include it after <stdio.h>, as grok.h does. */
#ifndef EXAMPLES_OPTIONS_H
#define EXAMPLES_OPTIONS_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OPT_FLAG, OPT_INT, OPT_LONG, OPT_U64, OPT_REAL, OPT_TEXT, OPT_CHOICE } opt_kind;
enum { OPT_OPEN_MIN = 1, OPT_OPEN_MAX = 2 }; /* a real's range excludes that end */

typedef struct {
    const char *name;                /* "--p" */
    opt_kind kind;
    void *value;                     /* int (OPT_FLAG, OPT_INT), long, unsigned long long, double, const char * */
    const char *arg;                 /* the value's name in --help: N, X, DIR */
    const char *help;                /* one line or more; --help adds the range and the default */
    const char *def;                 /* the default as --help shows it, when the variable's value is a stand-in */
    unsigned long long imin, imax;   /* integer kinds */
    double min, max;                 /* OPT_REAL */
    int open;                        /* OPT_REAL: OPT_OPEN_MIN | OPT_OPEN_MAX */
    const char *const *choices;      /* OPT_CHOICE: NULL-terminated */
    int of_run;                      /* defines the run: --resume checks it against OUT/run.args (run_dir.h) */
    int given;                       /* set by opt_parse */
} opt;

#define OPT_COUNT(table) ((int)(sizeof(table) / sizeof((table)[0])))

static inline opt opt_new(const char *name, opt_kind kind, void *value, const char *arg, const char *help)
{
    opt o;
    memset(&o, 0, sizeof o);
    o.name = name;
    o.kind = kind;
    o.value = value;
    o.arg = arg;
    o.help = help;
    return o;
}

static inline opt opt_flag(const char *name, int *value, const char *help)
{
    return opt_new(name, OPT_FLAG, value, "", help);
}

static inline opt opt_int(const char *name, int *value, int min, int max, const char *help)
{
    opt o = opt_new(name, OPT_INT, value, "N", help);
    o.imin = (unsigned long long)min;
    o.imax = (unsigned long long)max;
    return o;
}

static inline opt opt_long(const char *name, long *value, long min, long max, const char *help)
{
    opt o = opt_new(name, OPT_LONG, value, "N", help);
    o.imin = (unsigned long long)min;
    o.imax = (unsigned long long)max;
    return o;
}

/* Any 64-bit unsigned integer: seeds. */
static inline opt opt_u64(const char *name, unsigned long long *value, const char *help)
{
    opt o = opt_new(name, OPT_U64, value, "N", help);
    o.imax = 18446744073709551615ull;
    return o;
}

static inline opt opt_real(const char *name, double *value, double min, double max, int open, const char *help)
{
    opt o = opt_new(name, OPT_REAL, value, "X", help);
    o.min = min;
    o.max = max;
    o.open = open;
    return o;
}

/* Any text but the empty one (an empty --out would mean the root directory), at most
   OPT_TEXT_MAX characters (it goes into paths of 4096). */
#define OPT_TEXT_MAX 3000
#define OPT_TEXT_MAX_STR "3000"
static inline opt opt_text(const char *name, const char **value, const char *arg, const char *help)
{
    return opt_new(name, OPT_TEXT, value, arg, help);
}

static inline opt opt_choice(const char *name, const char **value, const char *const *choices, const char *help)
{
    opt o = opt_new(name, OPT_CHOICE, value, "NAME", help);
    o.choices = choices;
    return o;
}

/* The option with the default --help shows replaced by text. */
static inline opt opt_default(opt o, const char *text)
{
    o.def = text;
    return o;
}

/* The option marked as one that defines the run (run_dir.h). */
static inline opt opt_run(opt o)
{
    o.of_run = 1;
    return o;
}

/* Whether the option called name was on the command line (0 when opts has no such option). */
static inline int opt_given(const opt *opts, int n, const char *name)
{
    int i;
    for (i = 0; i < n; i++)
        if (!strcmp(opts[i].name, name)) return opts[i].given;
    return 0;
}

/* ---- values */

/* An integer in [min, max] from the whole of s: decimal digits, or a decimal number with a
   fraction and/or an exponent that is whole (1e9, 2.5e3, 10.0). Exact: the digits are shifted,
   never rounded through a double. Returns NULL, or why s is not one. */
static inline const char *opt_read_integer(const char *s, unsigned long long min, unsigned long long max,
                                           unsigned long long *out)
{
    char digits[64];
    const char *p = s, *frac = NULL;
    int n = 0, n_int = 0, n_frac = 0, negative = 0, nonzero = 0, i;
    long exponent = 0, shift;
    unsigned long long v = 0;
    if (*p == '-') { negative = 1; p++; }
    for (; *p >= '0' && *p <= '9'; p++, n_int++) {}
    if (*p == '.') {
        frac = ++p;
        for (; *p >= '0' && *p <= '9'; p++, n_frac++) {}
    }
    if (n_int + n_frac == 0) return "not a number";
    if (*p == 'e' || *p == 'E') {
        int sign = 1, n_exp = 0;
        p++;
        if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
        for (; *p >= '0' && *p <= '9'; p++, n_exp++)
            if (exponent < 100000) exponent = 10 * exponent + (*p - '0');
        if (n_exp == 0) return "not a number";
        exponent *= sign;
    }
    if (*p) return "not a number";
    /* the significant digits (leading zeros dropped) and the power of ten they are scaled by */
    for (i = 0; i < n_int + n_frac; i++) {
        char c = i < n_int ? s[negative + i] : frac[i - n_int];
        if (c != '0') nonzero = 1;
        if (!nonzero) continue;
        if (n == (int)sizeof digits - 1) return "out of range";
        digits[n++] = c;
    }
    shift = exponent - n_frac;
    while (n > 0 && shift < 0) { /* trailing zeros of a fraction */
        if (digits[n - 1] != '0') return "not a whole number";
        n--;
        shift++;
    }
    if (n > 0 && shift < 0) return "not a whole number";
    if (n > 0 && shift > 20) return "out of range";
    for (i = 0; i < n + (n > 0 ? shift : 0); i++) {
        unsigned d = i < n ? (unsigned)(digits[i] - '0') : 0u;
        if (v > (18446744073709551615ull - d) / 10) return "out of range";
        v = 10 * v + d;
    }
    if ((negative && v > 0) || v < min || v > max) return "out of range";
    *out = v;
    return NULL;
}

/* A real in [min, max] (or open at either end) from the whole of s, in decimal notation.
   Returns NULL, or why s is not one. */
static inline const char *opt_read_real(const char *s, double min, double max, int open, double *out)
{
    char *end;
    double v;
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s)) return "not a number";
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end) return "not a number";
    if (errno == ERANGE || !isfinite(v) || v < min || v > max || ((open & OPT_OPEN_MIN) && v == min) ||
        ((open & OPT_OPEN_MAX) && v == max))
        return "out of range";
    *out = v;
    return NULL;
}

/* The shortest %g text that reads back as x: 0.3, not 0.29999999999999999; 100, not 1e+02. */
static inline void opt_real_text(char *buf, size_t cap, double x)
{
    char shorter[32];
    int prec;
    snprintf(buf, cap, "%.17g", x);
    for (prec = 1; prec < 17; prec++) {
        snprintf(shorter, sizeof shorter, "%.*g", prec, x);
        if (strtod(shorter, NULL) == x && strlen(shorter) < strlen(buf)) snprintf(buf, cap, "%s", shorter);
    }
}

/* The option's current value as text: what --help shows as its default and what run.args
   records. */
static inline void opt_value_text(char *buf, size_t cap, const opt *o)
{
    switch (o->kind) {
    case OPT_FLAG: snprintf(buf, cap, "%s", *(const int *)o->value ? "on" : "off"); break;
    case OPT_INT: snprintf(buf, cap, "%d", *(const int *)o->value); break;
    case OPT_LONG: snprintf(buf, cap, "%ld", *(const long *)o->value); break;
    case OPT_U64: snprintf(buf, cap, "%llu", *(const unsigned long long *)o->value); break;
    case OPT_REAL: opt_real_text(buf, cap, *(const double *)o->value); break;
    case OPT_TEXT: case OPT_CHOICE: /* a text without a default is NULL */
        snprintf(buf, cap, "%s", *(const char *const *)o->value ? *(const char *const *)o->value : "none");
        break;
    }
}

/* What the option accepts: "an integer in 1..64", "a number in (0, 1)", "one of mlp, both". */
static inline void opt_range_text(char *buf, size_t cap, const opt *o)
{
    char lo[32], hi[32];
    size_t n;
    int i;
    switch (o->kind) {
    case OPT_FLAG: snprintf(buf, cap, "no value"); break;
    case OPT_INT: case OPT_LONG: case OPT_U64: snprintf(buf, cap, "an integer in %llu..%llu", o->imin, o->imax); break;
    case OPT_REAL:
        opt_real_text(lo, sizeof lo, o->min);
        opt_real_text(hi, sizeof hi, o->max);
        snprintf(buf, cap, "a number in %c%s, %s%c", o->open & OPT_OPEN_MIN ? '(' : '[', lo, hi,
                 o->open & OPT_OPEN_MAX ? ')' : ']');
        break;
    case OPT_TEXT: snprintf(buf, cap, "a non-empty %s", o->arg); break;
    case OPT_CHOICE:
        n = (size_t)snprintf(buf, cap, "one of");
        for (i = 0; o->choices[i] && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s %s", i ? "," : "", o->choices[i]);
        break;
    }
}

/* Stores s as the option's value; NULL, or why not. */
static inline const char *opt_store(opt *o, const char *s)
{
    unsigned long long v;
    const char *why = NULL;
    int i;
    switch (o->kind) {
    case OPT_FLAG: break;
    case OPT_INT: case OPT_LONG: case OPT_U64:
        if ((why = opt_read_integer(s, o->imin, o->imax, &v)) != NULL) break;
        if (o->kind == OPT_INT) *(int *)o->value = (int)v;
        else if (o->kind == OPT_LONG) *(long *)o->value = (long)v;
        else *(unsigned long long *)o->value = v;
        break;
    case OPT_REAL: why = opt_read_real(s, o->min, o->max, o->open, (double *)o->value); break;
    case OPT_TEXT:
        if (!*s) why = "empty";
        else if (strlen(s) > OPT_TEXT_MAX) why = "longer than " OPT_TEXT_MAX_STR " characters";
        else *(const char **)o->value = s;
        break;
    case OPT_CHOICE:
        for (i = 0; o->choices[i] && strcmp(o->choices[i], s); i++) {}
        if (o->choices[i]) *(const char **)o->value = s;
        else why = "not a choice";
        break;
    }
    return why;
}

/* ---- the command line */

static inline void opt_help(FILE *f, const char *prog, const char *about, const opt *opts, int n)
{
    char range[512], def[512], head[64];
    const char *h;
    int i;
    fprintf(f, "usage: %s [options]\n%s\n", prog, about);
    for (i = 0; i < n; i++) {
        const opt *o = &opts[i];
        snprintf(head, sizeof head, "%s%s%s", o->name, *o->arg ? " " : "", o->arg);
        fprintf(f, "  %-16s ", head);
        for (h = o->help; *h; h++) { /* a help of several lines, each indented under the first */
            fputc(*h, f);
            if (*h == '\n') fprintf(f, "%19s", "");
        }
        if (o->def) snprintf(def, sizeof def, "%s", o->def);
        else opt_value_text(def, sizeof def, o);
        if (o->kind == OPT_FLAG) fprintf(f, " (default %s)\n", def);
        else {
            opt_range_text(range, sizeof range, o);
            fprintf(f, "\n%19s%s; default %s\n", "", range, def);
        }
    }
    fprintf(f, "  %-16s this text\n", "--help");
}

/* Parses argv into the options' variables. Returns -1 when the program goes on, else the exit
   status it should end with: 0 after --help, 2 after a message on stderr. */
static inline int opt_parse(const char *prog, const char *about, opt *opts, int n, int argc, char **argv)
{
    char range[512];
    int i, k;
    for (i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            opt_help(stdout, prog, about, opts, n);
            return 0;
        }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *why;
        opt *o = NULL;
        for (k = 0; k < n && !o; k++)
            if (!strcmp(a, opts[k].name)) o = &opts[k];
        if (!o) {
            fprintf(stderr, "%s: bad option %s: %s (%s --help lists them)\n", prog, a,
                    strncmp(a, "--", 2) ? "options start with --" : "there is no such option", prog);
            return 2;
        }
        if (o->given) { fprintf(stderr, "%s: %s given twice\n", prog, a); return 2; }
        o->given = 1;
        if (o->kind == OPT_FLAG) {
            *(int *)o->value = 1;
            continue;
        }
        opt_range_text(range, sizeof range, o);
        if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) {
            fprintf(stderr, "%s: %s needs a value: %s\n", prog, a, range);
            return 2;
        }
        if ((why = opt_store(o, argv[++i])) != NULL) {
            fprintf(stderr, "%s: %s '%s': %s; want %s\n", prog, a, argv[i], why, range);
            return 2;
        }
    }
    return -1;
}

#endif /* EXAMPLES_OPTIONS_H */
