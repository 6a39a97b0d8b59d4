/* The DRIT family (Lee et al., ECCV 2018, as the official master branch,
 * HsinYingLee/DRIT, trains it with its defaults: --concat 1, mode seeking
 * on): a content encoder with a shared last block, a VAE attribute encoder,
 * a generator that concatenates the tiled attribute code to its features,
 * four multi-scale image discriminators and a content discriminator. Each
 * network is one of the official model's modules, so its parameter names are
 * those of the official NNNNN.pth dict's state_dicts. The networks that the
 * official code calls once for both domains (enc_c.forward(a, b), ...) take
 * both domains' inputs in one call. drit.h is the family's inside; family.c
 * its table. */
#ifndef UG_MODEL_DRIT_H
#define UG_MODEL_DRIT_H

#include "model/checkpoint.h"
#include "model/family.h"
#include "model/model.h"
#include "model/step.h"
#include "nn/build.h"

/* The networks, in checkpoint order. */
enum { DR_ENC_C, DR_ENC_A, DR_GEN, DR_DIS_A, DR_DIS_A2, DR_DIS_B, DR_DIS_B2, DR_DIS_C,
       DR_N_NETS };

/* The official architecture: base channels 64 (a configuration's ch, which
 * the tests make small), an attribute code of 8, 3 residual blocks in each
 * domain's content branch, image discriminators of 4 layers at dis_scale 3
 * scales (a configuration's dis_local). Training crops are 216. */
#define DR_CH 64
#define DR_NZ 8
#define DR_N_RES 3
#define DR_DIS_LAYERS 4
#define DR_DIS_SCALE 3
#define DR_MAX_SCALES 4
#define DR_CROP 216
#define DR_RESIZE 256 /* the training and test resize, before the crop */
#define DR_INIT_STD 0.02  /* gaussian_weights_init: every Conv* weight */
#define DR_LRELU 0.01f    /* LeakyReLUConv2d's nn.LeakyReLU() */
#define DR_ATTR_LRELU 0.2f

/* The ports of the networks that take both domains. */
#define DR_IN_IMAGE_A "imageA"
#define DR_IN_IMAGE_B "imageB"
#define DR_IN_NOISE_A "noiseA"
#define DR_IN_NOISE_B "noiseB"
#define DR_OUT_CONTENT_A "contentA"
#define DR_OUT_CONTENT_B "contentB"
#define DR_OUT_MU_A "muA"
#define DR_OUT_LOGVAR_A "logvarA"
#define DR_OUT_MU_B "muB"
#define DR_OUT_LOGVAR_B "logvarB"
#define DR_IN_CONTENT_A "contentA"
#define DR_IN_Z_A "zA"
#define DR_IN_CONTENT_B "contentB"
#define DR_IN_Z_B "zB"
#define DR_OUT_IMAGE_A "imageA"
#define DR_OUT_IMAGE_B "imageB"

/* The loss terms of an iteration (the official loss_* names, shortened),
 * then the two totals. A content-only iteration computes dis_content alone
 * and reports the last full iteration's values for the others. */
enum {
    DR_LOSS_DIS_A, DR_LOSS_DIS_A2, DR_LOSS_DIS_B, DR_LOSS_DIS_B2, DR_LOSS_DIS_CONTENT,
    DR_LOSS_GAN_A_CONTENT, DR_LOSS_GAN_B_CONTENT, DR_LOSS_GAN_A, DR_LOSS_GAN_B,
    DR_LOSS_KL_ZA_A, DR_LOSS_KL_ZA_B, DR_LOSS_KL_ZC_A, DR_LOSS_KL_ZC_B,
    DR_LOSS_L1_CC_A, DR_LOSS_L1_CC_B, DR_LOSS_L1_SELF_A, DR_LOSS_L1_SELF_B,
    DR_LOSS_GAN2_A, DR_LOSS_GAN2_B, DR_LOSS_GAN2_A2, DR_LOSS_GAN2_B2,
    DR_LOSS_Z_L1_A, DR_LOSS_Z_L1_B, DR_LOSS_LZ_AB, DR_LOSS_LZ_BA,
    DR_LOSS_D, DR_LOSS_G, DR_N_LOSSES
};

/* The official loss weights and optimiser settings (model.py hard-codes them). */
#define DR_W_KL 0.01f     /* attribute KL (a sum) and content L2 (a mean) */
#define DR_W_L1 10.0f     /* cross-cycle, self-reconstruction, latent regression */
#define DR_MS_EPS 1e-5f   /* mode seeking: 1 / (lz + eps) */
#define DR_CONTENT_LR 0.4 /* the content discriminator's lr: lr / 2.5 */
#define DR_CLIP_NORM 5.0  /* clip_grad_norm_ of the content discriminator */
#define DR_BATCH 2        /* an "encoded" and a "random" sample per domain */

extern const ug_family ug_family_drit;
/* The official data pipelines (data.c). */
extern const ug_pipeline dr_pipeline;

/* The content code's channels and side at a configuration. */
static inline int dr_content_ch(const ug_config *c) { return 4 * c->ch; }
static inline int dr_content_side(const ug_config *c) { return c->img_size / 4; }

/* blocks.c: the official building blocks' parameters (conv weights
 * N(0, 0.02), biases PyTorch's default) and graphs, by module prefix. */
void dr_conv_params(ug_builder *b, const char *prefix, int64_t out, int64_t in, int k);
int dr_conv(ug_builder *b, int x, const char *prefix, int k, int stride, int pad);
/* The convolution PREFIX.model.1 of a LeakyReLUConv2d or ReLUINSConv2d PREFIX;
 * the first: reflection pad, conv, LeakyReLU 0.01; the second: reflection
 * pad, conv, InstanceNorm, ReLU. */
void dr_block_params(ug_builder *b, const char *prefix, int64_t out, int64_t in, int k);
int dr_lrelu_conv(ug_builder *b, int x, const char *prefix, int k, int stride, int pad);
int dr_ins_conv(ug_builder *b, int x, const char *prefix, int k, int stride, int pad);
/* INSResBlock PREFIX of C channels. */
void dr_res_params(ug_builder *b, const char *prefix, int64_t C);
int dr_res(ug_builder *b, int x, const char *prefix);

/* content.c: E_content (enc_c); attribute.c: E_attr_concat (enc_a);
 * generator.c: G_concat (gen); discriminator.c: MultiScaleDis (disA, ...),
 * outputs "scale0", ..., and Dis_content (disContent), output "image". */
int dr_build_content(ug_net *net, const ug_config *c, ug_error *err);
int dr_build_attribute(ug_net *net, const ug_config *c, ug_error *err);
int dr_build_generator(ug_net *net, const ug_config *c, ug_error *err);
int dr_build_discriminator(ug_net *net, const ug_config *c, ug_error *err);
int dr_build_content_dis(ug_net *net, const ug_config *c, ug_error *err);
const char *dr_scale_output(int s);
/* The configuration's checks common to the builders. */
int dr_check(const ug_config *c, ug_error *err);

/* config.c */
void dr_config_default(ug_config *c, int img_size);
void dr_config_write(ug_ckpt_writer *w, const ug_config *c);
int dr_config_read(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   ug_error *err);
unsigned dr_nets_in_file(const ug_st_file *f);

/* schedule.c: the official training configuration; lr_policy lambda; which
 * iterations are full ones (the others update the content D only). */
void dr_train_defaults(ug_train_config *tc);
double dr_lr(const ug_train_config *tc, long step);
int dr_full_iteration(const ug_train_config *tc, long step);

/* state.c: the trainer's random draws (our generator on the trainer's seed:
 * the content noise, eps of the reparameterisations, z_random, z_random2),
 * each network's Adam update count (the networks are updated at different
 * rates), and the last full iteration's losses (the mean over the ranks);
 * training state saved in checkpoints, so a resumed run draws and reports
 * what the uninterrupted one would have. The same on every rank. */
typedef struct dr_state {
    ug_rng rng;
    long adam_count[DR_N_NETS];
    float last[DR_N_LOSSES];
} dr_state;
int dr_state_new(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err);
void dr_state_free(void *state);
void dr_state_save(const void *state, ug_ckpt_writer *w);
int dr_state_load(void *state, const ug_st_file *f, const char *path, ug_error *err);
/* This rank's n values of N(0, 1) into host memory dst: the draw is of n
 * for each of c's ranks, in rank order (one draw for the global batch). */
void dr_draw(dr_state *st, const ug_comm *c, float *dst, size_t n);

/* step.c */
int dr_step(ug_step *s, const float *real_A, const float *real_B, float *losses);

/* translate.c: evaluation-mode translation (no content noise) of N images
 * in direction dir with attribute codes z (N x 8, host memory) into out. */
int dr_translate_codes(ug_model *m, ug_direction dir, const float *images, int N,
                       const float *z, float *out, ug_error *err);
/* The attribute encoder's mean (no sampling) of each of N example images of
 * dir's target domain, N x DR_NZ floats into styles (the family's
 * encode_style: translate --style_from). */
int dr_encode_style(ug_model *m, ug_direction dir, const float *images, int N, float *styles,
                    ug_error *err);

#endif
