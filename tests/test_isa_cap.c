/* bf16 precision on a machine without AVX512-BF16: ONEDNN_MAX_CPU_ISA=AVX2 is
 * set before oneDNN's first call, which makes this CPU look like an AVX2-only
 * one (AMD Zen 3, ...) to oneDNN. ug_model_set_precision must refuse UG_BF16
 * with a one-line error naming AVX512-BF16 (not oneDNN's "unimplemented" on
 * the first convolution), leave the model fp32, and fp32 must still run; the
 * program must refuse --precision bf16 the same way. Our own Winograd
 * kernels follow the same cap: their widest path is AVX2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ugatit.h>

#include "backend/cpu/winograd.h"
#include "check.h"
#include "cli.h"

int main(void)
{
    if (setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1) != 0) {
        perror("setenv");
        return 2;
    }
    char dir[] = "/tmp/ugatit_isa_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    CHECK(ug_wino_isa_best() != UG_WINO_AVX512, "our Winograd runs AVX-512 under the cap");
    ug_error err = {{0}};
    ug_model *m = NULL;
    ug_config c = {2, 1, 32, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0};
    CHECK(ug_model_new(&m, &c, 1, &err) == 0, "%s", err.msg);
    if (m) {
        err.msg[0] = 0;
        int rc = ug_model_set_precision(m, UG_BF16, &err);
        CHECK(rc == -1, "bf16 accepted under ONEDNN_MAX_CPU_ISA=AVX2");
        CHECK(strstr(err.msg, "AVX512-BF16") != NULL && strchr(err.msg, '\n') == NULL,
              "error does not name AVX512-BF16 in one line: '%s'", err.msg);
        /* This CPU may lack it anyway; when it has it, the cap is the reason given. */
        CHECK(strstr(err.msg, "ONEDNN_MAX_CPU_ISA=AVX2") || strstr(err.msg, "this one lacks"),
              "error names neither the cap nor the CPU: '%s'", err.msg);
        printf("refused: %s\n", err.msg);

        enum { S = 32 };
        static float in[3 * S * S], out[3 * S * S];
        for (int i = 0; i < 3 * S * S; i++)
            in[i] = (float)((i % 17) - 8) / 8.0f;
        CHECK(ug_model_translate(m, UG_A2B, in, 1, out, NULL, NULL, &err) == 0,
              "fp32 translate after the refusal: %s", err.msg);
        CHECK(ug_model_set_precision(m, UG_FP32, &err) == 0, "fp32: %s", err.msg);

        /* The program: exit status 1 and the library's line, no oneDNN status. */
        char model[300], args[1024], msg[4096];
        snprintf(model, sizeof model, "%s/m.safetensors", dir);
        CHECK(ug_model_save(m, model, &err) == 0, "%s", err.msg);
        snprintf(args, sizeof args, "make-shapes --out %s/shapes --n 1 --size 32", dir);
        CHECK(run_cli(dir, args, 0, msg, sizeof msg) == 0, "make-shapes: %s", msg);
        snprintf(args, sizeof args,
                 "translate --model %s --input %s/shapes/testA --output %s/out "
                 "--precision bf16", model, dir, dir);
        rc = run_cli(dir, args, 0, msg, sizeof msg);
        CHECK(rc == 1 && strstr(msg, "AVX512-BF16") && !strstr(msg, "status"),
              "ugatit translate --precision bf16 under the cap: exit %d, '%s'", rc, msg);
        char *nl = strchr(msg, '\n');
        CHECK(nl && nl[1] == 0, "not one line: '%s'", msg);
        ug_model_free(m);
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
