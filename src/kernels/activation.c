/* Element-wise activations. The backward passes read the forward output,
 * which determines the local derivative for all four (for LeakyReLU with a
 * positive slope, out > 0 exactly when in > 0). */
#include "kernels/kernels.h"

#include <math.h>

void ug_relu_forward(float *out, const float *in, size_t n)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] > 0 ? in[i] : 0.0f;
}

void ug_relu_backward(float *din, const float *dout, const float *out, size_t n, int acc)
{
    if (!din)
        return;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = out[i] > 0 ? dout[i] : 0.0f;
        din[i] = acc ? din[i] + g : g;
    }
}

void ug_lrelu_forward(float *out, const float *in, size_t n, float slope)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] > 0 ? in[i] : in[i] * slope;
}

void ug_lrelu_backward(float *din, const float *dout, const float *out, size_t n, float slope,
                       int acc)
{
    if (!din)
        return;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = out[i] > 0 ? dout[i] : dout[i] * slope;
        din[i] = acc ? din[i] + g : g;
    }
}

void ug_tanh_forward(float *out, const float *in, size_t n)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = tanhf(in[i]);
}

void ug_tanh_backward(float *din, const float *dout, const float *out, size_t n, int acc)
{
    if (!din)
        return;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i] * (1.0f - out[i] * out[i]);
        din[i] = acc ? din[i] + g : g;
    }
}

/* 1 / (1 + e^-x), written so that e^x is taken of a non-positive number only. */
void ug_sigmoid_forward(float *out, const float *in, size_t n)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float x = in[i];
        if (x >= 0) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            const float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
}

void ug_sigmoid_backward(float *din, const float *dout, const float *out, size_t n, int acc)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i] * out[i] * (1.0f - out[i]);
        din[i] = acc ? din[i] + g : g;
    }
}
