/* Element-wise activations. The backward passes read the forward output,
 * which determines the local derivative for all three (for LeakyReLU with a
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
