/* Running the ugatit program from a test. */
#ifndef UG_TEST_CLI_H
#define UG_TEST_CLI_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Runs the shell command cmd, which sends its output to file, then reads
 * file into out (n bytes). Returns the exit status, or -1 if it did not exit
 * normally. */
static inline int run_to_file(const char *cmd, const char *file, char *out, size_t n)
{
    int st = system(cmd);
    out[0] = 0;
    FILE *f = fopen(file, "r");
    if (f) {
        size_t got = fread(out, 1, n - 1, f);
        out[got] = 0;
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `ugatit ARGS`, capturing its stderr (and its stdout too when
 * with_stdout) through a file in tmp_dir into out (n bytes). Returns the
 * exit status, or -1 if it did not exit normally. */
static inline int run_cli(const char *tmp_dir, const char *args, int with_stdout, char *out,
                          size_t n)
{
    char cmd[4096], file[512];
    snprintf(file, sizeof file, "%s/cli_output.txt", tmp_dir);
    snprintf(cmd, sizeof cmd, with_stdout ? "%s %s >%s 2>&1" : "%s %s 2>%s >/dev/null",
             UGATIT_CLI, args, file);
    return run_to_file(cmd, file, out, n);
}

#endif
