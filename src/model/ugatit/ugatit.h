/* The U-GAT-IT family (Kim et al., ICLR 2020, and the authors' PyTorch
 * release): two generators with CAM attention and AdaLIN, four
 * discriminators (global and local per domain), and the paper's ablations.
 * family.c is its table; the builders register parameters with the
 * release's state_dict names and order and how each is initialised
 * (ug_net_init_default does it, so a loaded checkpoint skips it). */
#ifndef UG_MODEL_UGATIT_H
#define UG_MODEL_UGATIT_H

#include "model/family.h"

/* The networks, in checkpoint order. */
enum { UG_GEN_A2B, UG_GEN_B2A, UG_DIS_GA, UG_DIS_GB, UG_DIS_LA, UG_DIS_LB, UG_N_NETS };
#define UG_GENERATORS ((1u << UG_GEN_A2B) | (1u << UG_GEN_B2A))

extern const ug_family ug_family_ugatit;

/* ResnetGenerator of configuration c: ch base channels, n_res residual
 * blocks, img side (divisible by 4), light (global-average-pooled MLP input)
 * or full, and the ablation variant (decoder norm, CAM or not). */
int ug_build_generator(ug_net *net, const ug_config *c, ug_error *err);

/* Discriminator with n_layers layers (the release: 7 global, 5 local), with
 * or without CAM attention. */
int ug_build_discriminator(ug_net *net, int ch, int n_layers, int img, int cam, ug_error *err);

/* The configuration in and out of checkpoint metadata, and inferred from
 * the tensor shapes of a file without it (config.c). */
void ug_ugatit_config_write(ug_ckpt_writer *w, const ug_config *c);
int ug_ugatit_config_read(const ug_st_file *f, const char *path, const ug_config *hint,
                          ug_config *c, ug_error *err);
unsigned ug_ugatit_nets_in_file(const ug_st_file *f);

/* The release's training step (step.c), and its learning rate: constant,
 * and with decay_flag linear to 0 over the second half (see ugatit.h). */
int ug_ugatit_step(ug_step *s, const float *real_A, const float *real_B, float *losses);
double ug_ugatit_lr(const ug_train_config *tc, long step);

#endif
