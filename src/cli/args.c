#include "args.h"
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int flag_count(const arg_command *cmd)
{
    int n = 0;
    while (cmd->flags && cmd->flags[n].name) n++;
    return n;
}

/* Index of flag `name` (length len, not NUL-terminated), or -1. */
static int flag_index(const arg_command *cmd, const char *name, size_t len)
{
    for (int i = 0; cmd->flags && cmd->flags[i].name; i++)
        if (strlen(cmd->flags[i].name) == len && strncmp(cmd->flags[i].name, name, len) == 0)
            return i;
    return -1;
}

static int is_help(const char *word)
{
    return strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0;
}

int args_parse(args *a, const arg_command *cmd, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    if (cmd->prepare) cmd->prepare();
    if (flag_count(cmd) > ARGS_MAX_FLAGS)
        return cli_fail(EXIT_ERROR, cmd->name, "internal error: too many flags");

    /* --help wins over every other problem on the line. */
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (is_help(argv[i])) { a->help = 1; return 0; }

    int only_positional = 0;
    for (int i = 0; i < argc; i++) {
        const char *word = argv[i];
        if (only_positional || word[0] != '-' || strcmp(word, "-") == 0) {
            if (a->npositional == ARGS_MAX_POSITIONAL)
                return cli_fail(EXIT_USAGE, cmd->name, "too many arguments at '%s'", word);
            a->positional[a->npositional++] = word;
            continue;
        }
        if (strcmp(word, "--") == 0) { only_positional = 1; continue; }
        if (word[1] != '-')
            return cli_fail(EXIT_USAGE, cmd->name,
                            "unknown option '%s' (flags are spelt --name; see aekit %s --help)",
                            word, cmd->name);

        const char *name = word + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int f = flag_index(cmd, name, len);
        if (f < 0) {
            const char *names[ARGS_MAX_FLAGS + 1];
            int n = 0;
            for (; cmd->flags && cmd->flags[n].name; n++) names[n] = cmd->flags[n].name;
            names[n++] = "help";
            char hint[128];
            return cli_fail(EXIT_USAGE, cmd->name, "unknown flag '--%.*s' (%ssee aekit %s --help)",
                            (int)len, name, cli_did_you_mean(hint, sizeof hint, "--", name, len, names, n),
                            cmd->name);
        }
        const arg_flag *flag = &cmd->flags[f];
        if (a->value[f])
            return cli_fail(EXIT_USAGE, cmd->name, "--%s: given more than once", flag->name);

        if (!flag->metavar) {                       /* a switch */
            if (eq)
                return cli_fail(EXIT_USAGE, cmd->name, "--%s: takes no value, got '%s'",
                                flag->name, eq + 1);
            a->value[f] = "";
        } else if (eq) {
            if (eq[1] == '\0')
                return cli_fail(EXIT_USAGE, cmd->name, "--%s: missing value (expected %s)",
                                flag->name, flag->metavar);
            a->value[f] = eq + 1;
        } else {
            /* The next word is the value unless it is another flag ("-1" is
             * a value, so that "--lr -1" reports a bad number). */
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0 || argv[i + 1][0] == '\0')
                return cli_fail(EXIT_USAGE, cmd->name, "--%s: missing value (expected %s)",
                                flag->name, flag->metavar);
            a->value[f] = argv[++i];
        }
    }

    int needed = cmd->positional ? (cmd->max_positional > 0 ? cmd->min_positional : 1) : 0;
    int allowed = cmd->positional ? (cmd->max_positional > 0 ? cmd->max_positional : 1) : 0;
    if (a->npositional < needed)
        return cli_fail(EXIT_USAGE, cmd->name, "missing %s (usage: %s)",
                        a->npositional == 0 ? cmd->positional : "arguments", cmd->usage);
    if (a->npositional > allowed)
        return cli_fail(EXIT_USAGE, cmd->name, "unexpected argument '%s' (usage: %s)",
                        a->positional[allowed], cmd->usage);
    return 0;
}

/* ---- number ranges ----------------------------------------------------------- */

static int has_range(const arg_flag *f)
{
    return f->min != 0 || f->max != 0;
}

/* A bound as people write it: 1000000, 1e-6, 1e30 (not %g's 1e+06, 1e-06). */
static void bound_text(double v, char *buf, size_t size)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, size, "%.0f", v);
        return;
    }
    char raw[32];
    snprintf(raw, sizeof raw, "%g", v);
    char *e = strchr(raw, 'e');
    if (!e) { snprintf(buf, size, "%s", raw); return; }
    const char *exp = e + 1, *sign = "";
    if (*exp == '+') exp++;
    else if (*exp == '-') { sign = "-"; exp++; }
    while (exp[0] == '0' && exp[1]) exp++;
    snprintf(buf, size, "%.*se%s%s", (int)(e - raw), raw, sign, exp);
}

/* A flag's maximum as people write it: ARGS_MAX_U64 is UINT64_MAX. */
static void max_text(const arg_flag *f, char *buf, size_t size)
{
    if (f->max == ARGS_MAX_U64) snprintf(buf, size, "%llu", (unsigned long long)UINT64_MAX);
    else                        bound_text(f->max, buf, size);
}

/* "1 to 1000000", or "at least 1" for an int flag whose maximum is the
 * int's. */
static void range_text(const arg_flag *f, char *buf, size_t size)
{
    char lo[32], hi[32];
    bound_text(f->min, lo, sizeof lo);
    if (f->max == INT_MAX) {
        snprintf(buf, size, "at least %s", lo);
        return;
    }
    max_text(f, hi, sizeof hi);
    snprintf(buf, size, "%s to %s", lo, hi);
}

/* ---- help ------------------------------------------------------------------ */

void args_print_help(const arg_command *cmd, FILE *out)
{
    if (cmd->prepare) cmd->prepare();
    fprintf(out, "aekit %s: %s\n\nusage: %s\n", cmd->name, cmd->summary, cmd->usage);
    if (cmd->flags && cmd->flags[0].name) {
        int width = 0;
        for (int i = 0; cmd->flags[i].name; i++) {
            const arg_flag *f = &cmd->flags[i];
            int w = (int)strlen(f->name) + 2 + (f->metavar ? (int)strlen(f->metavar) + 1 : 0);
            if (w > width) width = w;
        }
        fprintf(out, "\nflags:\n");
        for (int i = 0; cmd->flags[i].name; i++) {
            const arg_flag *f = &cmd->flags[i];
            char left[128];
            snprintf(left, sizeof left, "--%s%s%s", f->name, f->metavar ? " " : "",
                     f->metavar ? f->metavar : "");
            fprintf(out, "  %-*s  %s", width, left, f->help);
            char range[96] = "";
            if (has_range(f)) range_text(f, range, sizeof range);
            if (f->required) fprintf(out, " (%s%srequired)", range, *range ? "; " : "");
            else if (f->fallback) fprintf(out, " (%s%sdefault: %s)", range, *range ? "; " : "", f->fallback);
            else if (*range) fprintf(out, " (%s)", range);
            fputc('\n', out);
        }
        fprintf(out, "  %-*s  %s\n", width, "--help", "show this help");
    }
    if (cmd->more_help) {
        fputc('\n', out);
        cmd->more_help(out);
    }
    if (cmd->examples) fprintf(out, "\nexamples:\n%s", cmd->examples);
}

/* ---- getters ---------------------------------------------------------------- */

static int declared_flag(const args *a, const char *name)
{
    int f = flag_index(a->cmd, name, strlen(name));
    if (f < 0) {
        /* A command asked for a flag it does not declare: a bug, not a usage error. */
        fprintf(stderr, "aekit %s: internal error: undeclared flag --%s\n", a->cmd->name, name);
        abort();
    }
    return f;
}

static const char *value_of(const args *a, const char *name)
{
    return a->value[declared_flag(a, name)];
}

/* The table entry of a number flag; a flag without a range is a bug. */
static const arg_flag *number_flag(const args *a, const char *name)
{
    const arg_flag *f = &a->cmd->flags[declared_flag(a, name)];
    if (!has_range(f)) {
        fprintf(stderr, "aekit %s: internal error: --%s has no range in the flag table\n",
                a->cmd->name, name);
        abort();
    }
    return f;
}

int args_given(const args *a, const char *name)
{
    return value_of(a, name) != NULL;
}

int args_string(const args *a, const char *name, const char *fallback, const char **out)
{
    const char *v = value_of(a, name);
    *out = v ? v : fallback;
    return 0;
}

int args_required(const args *a, const char *name, const char **out)
{
    const char *v = value_of(a, name);
    if (!v) {
        int f = flag_index(a->cmd, name, strlen(name));
        return cli_fail(EXIT_USAGE, a->cmd->name, "--%s %s is required (%s)", name,
                        a->cmd->flags[f].metavar, a->cmd->flags[f].help);
    }
    *out = v;
    return 0;
}

const char *args_scan_integer(const char *s, int *negative, uint64_t *out)
{
    *negative = *s == '-';
    if (*negative) s++;
    if (!(*s >= '0' && *s <= '9')) return NULL;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return NULL;
        v = v * 10 + d;
    }
    *out = v;
    return s;
}

/* A whole value in the integer syntax, as a double (exact up to 2^53,
 * enough to compare with any flag's range), with its magnitude in *u;
 * -1 when it is not one. */
static int whole_integer(const char *s, double *x, uint64_t *u)
{
    int negative;
    const char *end = args_scan_integer(s, &negative, u);
    if (!end || *end) return -1;
    *x = negative ? -(double)*u : (double)*u;
    return 0;
}

/* The usage error of an integer flag: its range and the value as given. */
static int integer_error(const args *a, const arg_flag *f, const char *v)
{
    char lo[32], hi[32];
    bound_text(f->min, lo, sizeof lo);
    max_text(f, hi, sizeof hi);
    return cli_fail(EXIT_USAGE, a->cmd->name, "--%s: expected an integer from %s to %s, got '%s'",
                    f->name, lo, hi, v);
}

int args_int(const args *a, const char *name, int fallback, int *out)
{
    const arg_flag *f = number_flag(a, name);
    const char *v = value_of(a, name);
    if (!v) { *out = fallback; return 0; }
    double x;
    uint64_t u;
    if (f->max > INT_MAX) {
        fprintf(stderr, "aekit %s: internal error: --%s is an int, its range goes beyond\n", a->cmd->name, name);
        abort();
    }
    if (whole_integer(v, &x, &u) != 0 || x < f->min || x > f->max) return integer_error(a, f, v);
    *out = (int)x;
    return 0;
}

int args_number(const args *a, const char *name, double fallback, double *out)
{
    const arg_flag *f = number_flag(a, name);
    const char *v = value_of(a, name);
    if (!v) { *out = fallback; return 0; }
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    /* ERANGE: too small (1e-400) or too large for a double */
    if (!*v || *end || errno || !isfinite(x) || x < f->min || x > f->max) {
        char lo[32], hi[32];
        bound_text(f->min, lo, sizeof lo);
        bound_text(f->max, hi, sizeof hi);
        return cli_fail(EXIT_USAGE, a->cmd->name, "--%s: expected a number from %s to %s, got '%s'",
                        name, lo, hi, v);
    }
    *out = x;
    return 0;
}

/* A note held back until the command's checks are done (args_print_notes). */
static char held_note[256];

void args_print_notes(void)
{
    if (held_note[0]) fputs(held_note, stderr);
    held_note[0] = '\0';
}

void args_drop_notes(void)
{
    held_note[0] = '\0';
}

int args_threads(const args *a, int fallback, int *out)
{
    int rc = args_int(a, "threads", fallback, out);
    int cap = ae_threads_max();
    if (rc != 0 || *out <= cap) return rc;
    int cores = cap / AE_THREADS_PER_CORE;
    if (cap == AE_MAX_THREADS) /* the overall limit, not the cores */
        snprintf(held_note, sizeof held_note, "aekit %s: --threads %d: capped at %d (the most aekit runs)\n",
                 a->cmd->name, *out, cap);
    else
        snprintf(held_note, sizeof held_note, "aekit %s: --threads %d: capped at %d (%d x the %d core%s)\n",
                 a->cmd->name, *out, cap, AE_THREADS_PER_CORE, cores, cores == 1 ? "" : "s");
    *out = cap;
    return 0;
}

int args_u64(const args *a, const char *name, uint64_t fallback, uint64_t *out)
{
    const arg_flag *f = number_flag(a, name);
    const char *v = value_of(a, name);
    if (!v) { *out = fallback; return 0; }
    double x;
    uint64_t u;
    if (f->min != 0 || f->max != ARGS_MAX_U64) {
        fprintf(stderr, "aekit %s: internal error: --%s takes 0 to ARGS_MAX_U64\n", a->cmd->name, name);
        abort();
    }
    if (whole_integer(v, &x, &u) != 0 || x < 0) return integer_error(a, f, v);
    *out = u;
    return 0;
}

int args_choice(const args *a, const char *name, const char *const *choices,
                int fallback, int *out)
{
    const char *v = value_of(a, name);
    if (!v) { *out = fallback; return 0; }
    for (int i = 0; choices[i]; i++)
        if (strcmp(v, choices[i]) == 0) { *out = i; return 0; }
    char list[256] = "", hint[128];
    int n = 0;
    for (; choices[n]; n++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", n ? ", " : "", choices[n]);
    }
    cli_did_you_mean(hint, sizeof hint, "", v, strlen(v), choices, n);
    if (hint[0]) hint[strlen(hint) - 1] = '\0';          /* no trailing space */
    return cli_fail(EXIT_USAGE, a->cmd->name, "--%s: expected one of %s, got '%s'%s%s", name, list, v,
                    hint[0] ? "; " : "", hint);
}
