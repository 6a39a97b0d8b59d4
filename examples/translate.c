/* Translates an image from domain A to B through libugatit's public API only.
 * Images are binary PPM (P6, maxval 255, no comments) of the model's side
 * (img_size): this example does not resize. Against the installed library:
 *
 *   cc translate.c -o translate $(pkg-config --cflags --libs ugatit)
 *   ./translate model.safetensors in.ppm out.ppm */
#include <stdio.h>
#include <stdlib.h>

#include <ugatit.h>

int main(int argc, char **argv)
{
    ug_error err;
    ug_model *m;
    if (argc != 4) {
        fprintf(stderr, "usage: translate MODEL IN.ppm OUT.ppm\n");
        return 2;
    }
    if (ug_model_load(&m, argv[1], NULL, 0, &err) < 0) {
        fprintf(stderr, "translate: %s\n", err.msg);
        return 1;
    }
    int S = ug_model_config(m)->img_size, n = S * S, w = 0, h = 0, max = 0, rc = 1;
    unsigned char *pix = malloc(3 * (size_t)n);
    float *img = malloc(sizeof(float) * 6 * n); /* the image, then its translation */
    FILE *f = fopen(argv[2], "rb");
    int ok = pix && img && f && fscanf(f, "P6 %d %d %d", &w, &h, &max) == 3 && w == S &&
             h == S && max == 255 && fgetc(f) != EOF && fread(pix, 3, n, f) == (size_t)n;
    if (f)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "translate: %s: cannot read it as a binary PPM (P6, maxval 255) of "
                        "%dx%d pixels, the model's img_size\n", argv[2], S, S);
        goto done;
    }
    for (int i = 0; i < 3 * n; i++) /* interleaved RGB bytes to planar floats in [-1, 1] */
        img[i % 3 * n + i / 3] = pix[i] / 127.5f - 1;
    float *out = img + 3 * n;
    if (ug_model_translate(m, UG_A2B, img, 1, out, NULL, NULL, &err) < 0) {
        fprintf(stderr, "translate: %s\n", err.msg);
        goto done;
    }
    for (int i = 0; i < 3 * n; i++) {
        float v = (out[i % 3 * n + i / 3] + 1) * 127.5f + 0.5f;
        pix[i] = v < 0 ? 0 : v > 255 ? 255 : (unsigned char)v;
    }
    f = fopen(argv[3], "wb");
    ok = f && fprintf(f, "P6\n%d %d\n255\n", S, S) > 0 && fwrite(pix, 3, n, f) == (size_t)n;
    if ((f && fclose(f) != 0) || !ok)
        fprintf(stderr, "translate: %s: cannot write it\n", argv[3]);
    else
        rc = 0;
done:
    free(pix);
    free(img);
    ug_model_free(m);
    return rc;
}
