/* The rho layers of a model: the clamped parameters of its generators
 * (AdaLIN's and ILN's rho). The public ug_model_rho_count and ug_model_rho,
 * and reading the rho values alone from a checkpoint. */
#ifndef UG_MODEL_RHO_H
#define UG_MODEL_RHO_H

#include "model/model.h"

/* The rho values of the safetensors checkpoint at path for the layers of m
 * (a model of the same configuration), read without the rest of the file's
 * data: every layer's channels, one layer after another in the order of
 * ug_model_rho, into out. A missing tensor or another channel count is an
 * error naming the file and the tensor. */
int ug_rho_read(const ug_model *m, const char *path, float *out, ug_error *err);

#endif
