/* The command-line flag parser shared by the subcommands.
 *
 * A command declares its flags in a table; args_parse accepts "--flag value"
 * and "--flag=value", positional arguments anywhere, and "--" to end the
 * flags. Every problem (unknown flag, missing value, repeated flag, wrong
 * number of positional arguments, malformed value) is reported as one line on
 * stderr and the function returns 2, the usage-error exit code, so commands
 * simply `return` what a parser call returns when it is not 0.            */
#ifndef AEKIT_CLI_ARGS_H
#define AEKIT_CLI_ARGS_H

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define ARGS_MAX_FLAGS      32
#define ARGS_MAX_POSITIONAL 8

typedef struct {
    const char *name;     /* without the leading "--", e.g. "epochs"         */
    const char *metavar;  /* "N", "DIR", ...; NULL for a switch (no value)  */
    const char *fallback; /* default shown in the help; NULL = none         */
    const char *help;     /* one line                                       */
    int         required; /* shown as "(required)"; see args_required       */
    double      min, max; /* a number flag (args_int, args_number): the
                             values it takes, shown in the help. Both 0
                             for other flags.                              */
} arg_flag;

/* The maximum of a flag read with args_u64 (0 to UINT64_MAX; as a double
 * it is 2^64, shown as UINT64_MAX). */
#define ARGS_MAX_U64 18446744073709551615.0

/* The --threads row every threaded command shares (read with args_threads). */
#define ARGS_FLAG_THREADS \
    { "threads", "N", "0 = all cores", "threads to use (more than 4 per core are capped)", 0, 0, INT_MAX }

typedef struct {
    const char     *name;        /* "train"                                  */
    const char     *summary;     /* one line: what the command does          */
    const char     *usage;       /* "aekit train --model ... [options]"      */
    const char     *positional;  /* "MODEL", or NULL when none is taken      */
    int             min_positional, max_positional; /* how many; both 0 =
                                    exactly 1 when positional is set     */
    const arg_flag *flags;       /* terminated by an entry with name NULL    */
    const char     *examples;    /* lines shown under "examples:", or NULL   */
    void          (*more_help)(FILE *out); /* extra help lines, or NULL      */
    void          (*prepare)(void);        /* fills `flags` at run time (rows
                                    from the library's tables), or NULL;
                                    args_parse and args_print_help call it */
} arg_command;

typedef struct {
    const arg_command *cmd;
    const char *value[ARGS_MAX_FLAGS];  /* NULL when the flag was not given */
    const char *positional[ARGS_MAX_POSITIONAL];
    int         npositional;
    int         help;                   /* --help or -h was given           */
} args;

/* Parses argv[0..argc) (the words after the command name). Returns 0, or 2
 * after printing the usage error. With --help, sets a->help and returns 0
 * without checking anything else. Exactly one positional argument is
 * required when cmd->positional is set (min_positional..max_positional
 * when those are set), none otherwise. */
int  args_parse(args *a, const arg_command *cmd, int argc, char **argv);
void args_print_help(const arg_command *cmd, FILE *out);

/* Typed getters. Each returns 0 with *out set (to `fallback` when the flag
 * was not given), or 2 after printing which flag and value are wrong.
 * args_int and args_number check the value against the flag's min..max
 * (a flag without a range is a bug: they abort), before anything is
 * created, and the message gives the range and the value as written. */
int args_string(const args *a, const char *name, const char *fallback, const char **out);
int args_required(const args *a, const char *name, const char **out);
int args_int(const args *a, const char *name, int fallback, int *out);
int args_number(const args *a, const char *name, double fallback, double *out);
/* --threads N (0 = all cores): a count above ae_threads_max() is lowered to
 * it, with a one-line note ("--threads 100000: capped at 8 (4 x the 2
 * cores)") held back for args_print_notes. The flag's table range is 0 to
 * INT_MAX. */
int args_threads(const args *a, int fallback, int *out);
/* Prints the notes the getters held back: a command calls it when its
 * checks are done, just before its work (main prints what is left after a
 * command that succeeded). An error (cli_fail) drops them, so that a
 * refusal stays one line. */
void args_print_notes(void);
void args_drop_notes(void);
/* A 64-bit integer flag (--seed), its range 0 to ARGS_MAX_U64. */
int args_u64(const args *a, const char *name, uint64_t fallback, uint64_t *out);
/* The one integer syntax of every flag: decimal digits, after an optional
 * '-' (no spaces, '+', hex or exponent). Reads it at the start of s into
 * *out (its magnitude, up to UINT64_MAX; *negative for '-') and returns
 * where it ends, or NULL when s does not start with one or it is larger. */
const char *args_scan_integer(const char *s, int *negative, uint64_t *out);
/* choices is NULL-terminated; *out is the index of the chosen one. */
int args_choice(const args *a, const char *name, const char *const *choices,
                int fallback, int *out);
/* 1 when the switch (or the valued flag) was given. */
int args_given(const args *a, const char *name);

#endif
