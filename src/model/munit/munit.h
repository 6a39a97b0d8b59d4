/* The MUNIT family (Huang et al., ECCV 2018, as NVlabs/MUNIT master trains
 * it): per domain an AdaINGen (a style encoder, a content encoder, and a
 * decoder whose residual blocks take their AdaIN affine from an MLP of the
 * style code), two multi-scale LSGAN discriminators, image, style, content
 * and (optionally) cycle reconstruction losses, Adam with weight decay and
 * a step learning-rate decay. The content encoder is UNIT's encoder and the
 * discriminators are UNIT's (src/model/unit: NVIDIA's networks.py is one
 * file for both). The decoder and the MLP are one network, group "a" (its
 * parameters dec.* and mlp.*), so that the groups "a.enc_style",
 * "a.enc_content", "a" make the keys those of the official gen_*.pt
 * ({'a': gen_a.state_dict(), ...}). family.c is its table. */
#ifndef UG_MODEL_MUNIT_H
#define UG_MODEL_MUNIT_H

#include "model/family.h"
#include "nn/build.h"

/* The networks, in checkpoint order (the official state_dict's). */
enum {
    MU_STYLE_A, MU_CONTENT_A, MU_GEN_A, MU_STYLE_B, MU_CONTENT_B, MU_GEN_B, MU_DIS_A, MU_DIS_B,
    MU_N_NETS
};
#define MU_GENERATORS                                                                      \
    ((1u << MU_STYLE_A) | (1u << MU_CONTENT_A) | (1u << MU_GEN_A) | (1u << MU_STYLE_B) |   \
     (1u << MU_CONTENT_B) | (1u << MU_GEN_B))
#define MU_DISCRIMINATORS ((1u << MU_DIS_A) | (1u << MU_DIS_B))

/* The loss terms of a step (the official names), then the two totals. */
enum {
    MU_LOSS_D_A, MU_LOSS_D_B,
    MU_LOSS_GAN_A, MU_LOSS_GAN_B,
    MU_LOSS_RECON_X_A, MU_LOSS_RECON_X_B,
    MU_LOSS_RECON_S_A, MU_LOSS_RECON_S_B,
    MU_LOSS_RECON_C_A, MU_LOSS_RECON_C_B,
    MU_LOSS_CYC_X_A, MU_LOSS_CYC_X_B,
    MU_LOSS_D, MU_LOSS_G, MU_N_LOSSES
};

/* The official configuration (configs/edges2shoes_folder.yaml and the
 * others): gen dim 64, style_dim 8, mlp_dim 256, 4 residual blocks, 2
 * down-samplings in the content encoder and 4 in the style encoder. */
#define MU_STYLE_DIM 8
#define MU_MLP_DIM 256
#define MU_STYLE_DOWN 4
#define MU_MLP_LAYERS 3

extern const ug_family ug_family_munit;

/* generator.c: the style encoder (image -> style code "image", style_dim x
 * 1 x 1) and the decoder with its MLP (inputs "image", the content code,
 * and "style"). */
int mu_build_style_encoder(ug_net *net, const ug_config *c, ug_error *err);
int mu_build_decoder(ug_net *net, const ug_config *c, ug_error *err);

/* config.c */
void mu_config_default(ug_config *c, int img_size);
void mu_config_write(ug_ckpt_writer *w, const ug_config *c);
int mu_config_read(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   ug_error *err);
unsigned mu_nets_in_file(const ug_st_file *f);
void mu_train_defaults(ug_train_config *tc);

/* official.c: the official checkpoint folder (gen_*.pt, dis_*.pt). */
int mu_open_folder(ug_st_file **f, const char *dir, ug_error *err);
int mu_write_folder(const ug_st_file *f, const char *path, const char *dir, ug_error *err);

/* styles.c: the style codes of training as training state (family.h): the
 * generator of UNIT's latent noise, with room for a batch of codes. */
int mu_styles_new(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err);

/* translate.c: translation with given or drawn style codes (family.h). */
int mu_translate(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                 float *cam_logit, float *heatmap, ug_error *err);
int mu_translate_style(ug_model *m, ug_direction dir, const float *images, int N,
                       const float *styles, float *out, ug_error *err);
int mu_encode_style(ug_model *m, ug_direction dir, const float *images, int N, float *styles,
                    ug_error *err);

/* step.c */
int mu_step(ug_step *s, const float *real_A, const float *real_B, float *losses);

#endif
