/* Element-wise add and multiply of two N x C x H x W tensors, or of one and
 * an N x C x 1 x 1 one broadcast over H, W (b, one value per plane); the
 * backward passes sum the broadcast operand's gradient over its plane. */
#include "kernels/kernels.h"

void ug_add_planes_forward(float *out, const float *a, const float *b, size_t planes, size_t HW)
{
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < HW; i++)
            out[p * HW + i] = a[p * HW + i] + b[p];
}

void ug_add_planes_backward(float *da, float *db, const float *dout, size_t planes, size_t HW,
                            int acc_a, int acc_b)
{
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < planes; p++) {
        double s = 0;
        for (size_t i = 0; i < HW; i++) {
            const float g = dout[p * HW + i];
            s += g;
            if (da)
                da[p * HW + i] = acc_a ? da[p * HW + i] + g : g;
        }
        if (db)
            db[p] = acc_b ? db[p] + (float)s : (float)s;
    }
}

void ug_mul_forward(float *out, const float *a, const float *b, size_t planes, size_t HW,
                    int b_planes)
{
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < HW; i++)
            out[p * HW + i] = a[p * HW + i] * b[b_planes ? p : p * HW + i];
}

void ug_mul_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                     size_t planes, size_t HW, int b_planes, int acc_a, int acc_b)
{
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < planes; p++) {
        double s = 0;
        for (size_t i = 0; i < HW; i++) {
            const size_t j = p * HW + i, jb = b_planes ? p : j;
            const float g = dout[j], av = a[j], bv = b[jb];
            if (da)
                da[j] = acc_a ? da[j] + g * bv : g * bv;
            if (db && b_planes)
                s += (double)g * av;
            else if (db)
                db[j] = acc_b ? db[j] + g * av : g * av;
        }
        if (db && b_planes)
            db[p] = acc_b ? db[p] + (float)s : (float)s;
    }
}
