/* The aekit command-line tool: the subcommands and the few helpers they
 * share. Only the CLI prints, and it chooses the exit codes:
 *   0 success, 2 usage error (command, flag or value), 1 any other error.
 * Every error is one line on stderr: "aekit COMMAND: what went wrong".   */
#ifndef AEKIT_CLI_CLI_H
#define AEKIT_CLI_CLI_H

#include <stddef.h>
#include "aekit.h"
#include "cli/args.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

/* Subcommands: argv holds the words after the command name. */
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_reconstruct(int argc, char **argv);
int cmd_info(int argc, char **argv);

extern const arg_command train_command, eval_command, reconstruct_command, info_command;

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Prints "aekit CMD: message" (or "aekit: message" when cmd is NULL) as one
 * line on stderr (any newline in the message becomes a space) and returns
 * `code`, so callers write `return cli_fail(EXIT_ERROR, "train", ...)`. */
int cli_fail(int code, const char *cmd, const char *fmt, ...) CLI_PRINTF(3, 4);

/* Writes n with thousands separators ("12,345") into buf. */
const char *cli_count(double n, char *buf, size_t size);

/* Loads a model file; prints the error and returns 1 on failure. */
int cli_load_model(const char *cmd, const char *path, ae_model **out);

/* Opens the test split of `data` (limited to the first `limit` images when
 * limit > 0) and checks its image shape against the model's input. */
int cli_open_test_set(const char *cmd, const char *data, int limit,
                      const ae_model *m, ae_dataset **out);

/* Checks that a data set's images have the model's input shape. */
int cli_check_shape(const char *cmd, const char *data, const ae_dataset *ds,
                    const ae_model *m);

/* The data set a model was trained on (its metadata), or NULL. */
const char *cli_model_data(const ae_model *m);

/* Seconds on a monotonic clock. */
double cli_now(void);

#endif
