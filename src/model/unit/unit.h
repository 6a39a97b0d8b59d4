/* The UNIT family (Liu et al., NIPS 2017, as the official master branch,
 * mingyuliutw/UNIT, trains it): two independent VAE generators (an encoder
 * and a decoder per domain, no shared weights), two multi-scale LSGAN
 * discriminators, image, cycle and KL losses, Adam with weight decay and a
 * step learning-rate decay. The encoders and decoders are separate networks
 * because a translation crosses domains (enc_a then dec_b); their groups
 * "a.enc", "a.dec", ... make the parameter names those of the official
 * gen_*.pt files ({'a': gen_a.state_dict(), ...}). family.c is its table. */
#ifndef UG_MODEL_UNIT_H
#define UG_MODEL_UNIT_H

#include "model/family.h"
#include "model/step.h"
#include "nn/build.h"

/* The networks, in checkpoint order. */
enum { UN_ENC_A, UN_DEC_A, UN_ENC_B, UN_DEC_B, UN_DIS_A, UN_DIS_B, UN_N_NETS };
#define UN_GENERATORS ((1u << UN_ENC_A) | (1u << UN_DEC_A) | (1u << UN_ENC_B) | (1u << UN_DEC_B))
#define UN_DISCRIMINATORS ((1u << UN_DIS_A) | (1u << UN_DIS_B))

/* The loss terms of a step (the official names), then the two totals. */
enum {
    UN_LOSS_D_A, UN_LOSS_D_B,
    UN_LOSS_GAN_A, UN_LOSS_GAN_B,
    UN_LOSS_RECON_X_A, UN_LOSS_RECON_X_B,
    UN_LOSS_RECON_KL_A, UN_LOSS_RECON_KL_B,
    UN_LOSS_CYC_X_A, UN_LOSS_CYC_X_B,
    UN_LOSS_CYC_KL_A, UN_LOSS_CYC_KL_B,
    UN_LOSS_D, UN_LOSS_G, UN_N_LOSSES
};

/* The official configuration (configs/unit_*.yaml): gen and dis dim 64,
 * 2 down-samplings, 4 residual blocks, a discriminator of 4 layers at 3
 * scales. ug_config holds ch (dim of both), n_res, img_size, dis_global
 * (n_layer) and dis_local (num_scales); the down-samplings are fixed. */
#define UN_DIM 64
#define UN_N_RES 4
#define UN_N_DOWNSAMPLE 2
#define UN_N_LAYER 4
#define UN_NUM_SCALES 3
#define UN_MAX_SCALES 4 /* a network's outputs (UG_NET_PORTS) */
#define UN_DIS_INIT_STD 0.02

extern const ug_family ug_family_unit;
/* The official data pipelines (data.c), MUNIT's too. */
extern const ug_pipeline un_pipeline;

/* generator.c: VAEGen's encoder (image -> latent "image", 4 ch x img/4)
 * and decoder (latent "image" -> image). MUNIT's content encoder is the
 * same encoder, and its decoder the same decoder with AdaIN residual blocks:
 * the blocks below are NVIDIA's networks.py, shared with src/model/munit. */
int un_build_encoder(ug_net *net, const ug_config *c, ug_error *err);
int un_build_decoder(ug_net *net, const ug_config *c, ug_error *err);
/* The generators' checks of c (sizes). */
int un_check_gen(const ug_config *c, ug_error *err);
/* Conv2dBlock PREFIX: its conv.weight (Kaiming-normal) and conv.bias (0),
 * and its reflection-padded convolution. */
void un_conv_params(ug_builder *b, const char *prefix, int64_t out, int64_t in, int k);
int un_conv(ug_builder *b, int x, const char *prefix, int k, int stride, int pad);
/* ResBlocks PREFIX of n blocks of C channels; adain: AdaIN norms (with
 * their unused running_mean/var buffers) instead of InstanceNorm, the graph
 * taking their affine from node adain (un_res_blocks with adain < 0: IN). */
void un_res_params(ug_builder *b, const char *prefix, int n, int64_t C, int adain);
int un_res_blocks(ug_builder *b, int x, const char *prefix, int n, int C, int adain);
/* The decoder's parameters and graph on x under PREFIX ("" or "dec."). */
void un_dec_params(ug_builder *b, const ug_config *c, const char *prefix, int adain);
int un_dec_graph(ug_builder *b, const ug_config *c, int x, const char *prefix, int adain);
/* discriminator.c: MsImageDis, outputs "scale0", "scale1", ... */
int un_build_discriminator(ug_net *net, const ug_config *c, ug_error *err);
const char *un_scale_output(int s);

/* config.c */
void un_config_default(ug_config *c, int img_size);
void un_config_write(ug_ckpt_writer *w, const ug_config *c);
int un_config_read(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   ug_error *err);
unsigned un_nets_in_file(const ug_st_file *f);
/* The layers and scales of discriminator dis_a into c, when f has it. */
void un_count_dis(const ug_st_file *f, ug_config *c);

/* official.c: the official code's checkpoint folder (gen_*.pt, dis_*.pt),
 * UNIT's and MUNIT's: what tells them apart. */
typedef struct un_official {
    const char *title;      /* "UNIT" */
    const char *gen_key;    /* a key both generators have, after 'a.', 'b.' */
    const char *keep_stats; /* running statistics kept under 'a.KEEP', 'b.KEEP' (NULL: none) */
    unsigned (*nets_in_file)(const ug_st_file *f);
    unsigned generators;    /* the family's generator networks */
    const char *gen_names;  /* their groups, for messages */
} un_official;
int un_open_official(ug_st_file **f, const char *dir, const un_official *o, ug_error *err);
int un_write_official(const ug_st_file *f, const char *path, const char *dir,
                      const un_official *o, ug_error *err);
int un_open_folder(ug_st_file **f, const char *dir, ug_error *err);
int un_write_folder(const ug_st_file *f, const char *path, const char *dir, ug_error *err);

/* schedule.c: the official training configuration and lr_policy step. */
void un_train_defaults(ug_train_config *tc);
double un_lr(const ug_train_config *tc, long step);

/* noise.c: the generator of the latent noise as training state (family.h). */
int un_noise_new(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err);
/* The same with room for cap floats per draw, seeded with seed. */
int un_noise_new_n(void **state, size_t cap, uint64_t seed, ug_error *err);
void un_noise_free(void *state);
void un_noise_save(const void *state, ug_ckpt_writer *w);
int un_noise_load(void *state, const ug_st_file *f, const char *path, ug_error *err);
/* This rank's n floats of N(0, 1) in host memory (valid until the next
 * draw of slot): the draw is of n for each of c's ranks, in rank order (one
 * process's draw for the global batch); NULL when that is over the room. */
const float *un_noise_draw(void *state, int slot, size_t n, const ug_comm *c);

/* step.c, MUNIT's too: the multi-scale LSGAN term of tape d (w * the sum over
 * the scales of mean((D_s - target)^2), its gradient seeded; returns the
 * unweighted sum), and calc_dis_loss of discriminator dis on a fake and a
 * real image, weighted gan_w. */
float un_ms_mse(ug_step *s, ug_tape *d, float target, float w);
float un_dis_loss(ug_step *s, int dis, const float *fake, const float *real);
#define UN_NOISE_SLOTS 4

/* step.c */
int un_step(ug_step *s, const float *real_A, const float *real_B, float *losses);

#endif
