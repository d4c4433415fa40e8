/* aekit: the dispatcher. Picks the subcommand and hands it the rest of argv. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const arg_command *spec;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    { &train_command,       cmd_train },
    { &eval_command,        cmd_eval },
    { &reconstruct_command, cmd_reconstruct },
    { &info_command,        cmd_info },
    { &denoise_command,     cmd_denoise },
    { &upscale_command,     cmd_upscale },
    { &encode_command,      cmd_encode },
    { &decode_command,      cmd_decode },
    { &sample_command,      cmd_sample },
    { &fit_latent_command,  cmd_fit_latent },
    { &manifold_command,    cmd_manifold },
    { &scatter_command,     cmd_scatter },
    { &perturb_command,     cmd_perturb },
    { &interpolate_command, cmd_interpolate },
    { &pca_command,         cmd_pca },
    { &compare_command,     cmd_compare },
    { &serve_command,       cmd_serve },
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static const command *find_command(const char *name)
{
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].spec->name, name) == 0) return &commands[i];
    return NULL;
}

static void print_main_help(FILE *out)
{
    fprintf(out,
            "aekit %s: train autoencoders on images\n\n"
            "usage: aekit COMMAND [flags]\n"
            "       aekit COMMAND --help     flags of one command, with defaults\n"
            "       aekit --version\n\ncommands:\n", AEKIT_VERSION);
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].spec->name, commands[i].spec->summary);
    fprintf(out, "\nmodel presets:");
    for (const char *const *p = ae_model_presets(); p && *p; p++) fprintf(out, " %s", *p);
    fprintf(out,
            "\n\nexit codes: 0 success, 2 usage error, 1 any other error "
            "(one line on stderr)\n\n"
            "example:\n"
            "  aekit train --model conv --data mnist --out runs/conv\n"
            "  aekit eval runs/conv/model.safetensors\n");
}

/* "did you mean 'train'? " for a mistyped command, or "". */
static const char *command_hint(char *buf, size_t size, const char *word)
{
    const char *names[NCOMMANDS + 1];
    for (int i = 0; i < NCOMMANDS; i++) names[i] = commands[i].spec->name;
    names[NCOMMANDS] = "help";
    return cli_did_you_mean(buf, size, "", word, strlen(word), names, NCOMMANDS + 1);
}

static int command_names(char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < NCOMMANDS; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? ", " : "", commands[i].spec->name);
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* a file over the size limit (ulimit -f) fails its write with EFBIG,
     * reported like a full disk, instead of killing the process */
    signal(SIGXFSZ, SIG_IGN);
    char names[512];
    command_names(names, sizeof names);
    if (argc < 2)
        return cli_fail(EXIT_USAGE, NULL, "missing command (one of %s; see aekit --help)", names);

    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
        print_main_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(word, "--version") == 0) {
        printf("aekit %s\n", AEKIT_VERSION);
        return EXIT_OK;
    }
    if (strcmp(word, "help") == 0) {           /* aekit help [COMMAND] */
        if (argc < 3) { print_main_help(stdout); return EXIT_OK; }
        const command *c = find_command(argv[2]);
        char hint[128];
        if (!c)
            return cli_fail(EXIT_USAGE, NULL, "unknown command '%s' (%sone of %s)", argv[2],
                            command_hint(hint, sizeof hint, argv[2]), names);
        args_print_help(c->spec, stdout);
        return EXIT_OK;
    }
    char hint[128];
    if (word[0] == '-') {
        static const char *const top_flags[] = { "help", "version" };
        const char *bare = word + strspn(word, "-");
        return cli_fail(EXIT_USAGE, NULL, "unknown flag '%s' (%sgive a command first; see aekit --help)", word,
                        cli_did_you_mean(hint, sizeof hint, "--", bare, strlen(bare), top_flags, 2));
    }

    const command *c = find_command(word);
    if (!c)
        return cli_fail(EXIT_USAGE, NULL, "unknown command '%s' (%sone of %s; see aekit --help)", word,
                        command_hint(hint, sizeof hint, word), names);
    int rc = c->run(argc - 2, argv + 2);
    if (rc == EXIT_OK) args_print_notes();     /* a command that did not print its notes itself */
    if (fflush(stdout) != 0 && rc == EXIT_OK)
        return cli_fail(EXIT_ERROR, c->spec->name, "cannot write to standard output");
    return rc;
}
