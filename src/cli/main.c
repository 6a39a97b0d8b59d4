/* ugatit: the command-line program. Dispatches to one verb per file. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/program.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} verbs[] = {
    {"demo", cmd_demo, "make a small data set, train on it for a few minutes, test, report"},
    {"train", cmd_train, "train a translator on two folders of images"},
    {"test", cmd_test, "write the release's 7-row test strips for every test image"},
    {"translate", cmd_translate, "translate an image, or a folder of them, with a trained generator"},
    {"serve", cmd_serve, "a local web page (and JSON endpoint) that translates uploaded photos"},
    {"rho", cmd_rho, "print the learned rho (AdaLIN/ILN mixing weights) of a checkpoint"},
    {"convert", cmd_convert, "convert a checkpoint between PyTorch .pt and safetensors"},
    {"export", cmd_export, "write a trained generator as an ONNX model"},
    {"kid", cmd_kid, "Kernel Inception Distance between two folders of images"},
    {"eval", cmd_eval, "KID of a model's translations of both test sets: a row of the paper's tables"},
    {"make-shapes", cmd_make_shapes, "write the demo's discs-and-squares data set"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ugatit COMMAND [options]\n\n"
                 "U-GAT-IT unpaired image-to-image translation.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].help);
    fprintf(out, "\n'ugatit COMMAND --help' shows the options of a command.\n");
}

int main(int argc, char **argv)
{
    ug_program_init(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ugatit: unknown command '%s' (see ugatit --help)\n", argv[1]);
    return 2;
}
