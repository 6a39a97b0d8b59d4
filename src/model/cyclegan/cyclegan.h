/* The CycleGAN family (Zhu et al., ICCV 2017, and the official PyTorch code,
 * junyanz/pytorch-CycleGAN-and-pix2pix, at its defaults): two ResNet
 * generators and two 70x70 PatchGAN discriminators, trained with LSGAN,
 * cycle and identity losses and a 50-image history pool per domain.
 * Networks are named as the official checkpoint files (latest_net_G_A.pth,
 * ...), parameters as their state_dict keys, so those files load as they
 * are. family.c is its table. */
#ifndef UG_MODEL_CYCLEGAN_H
#define UG_MODEL_CYCLEGAN_H

#include "dist/comm.h"
#include "model/family.h"

/* The networks, in checkpoint order: G_A translates A to B, G_B B to A,
 * D_A judges domain B (real B against G_A's fakes), D_B domain A. */
enum { CG_G_A, CG_G_B, CG_D_A, CG_D_B, CG_N_NETS };
#define CG_GENERATORS ((1u << CG_G_A) | (1u << CG_G_B))

/* The loss terms of a step, named and weighted as the official code prints
 * them, then the two totals. */
enum {
    CG_LOSS_D_A, CG_LOSS_G_A, CG_LOSS_CYCLE_A, CG_LOSS_IDT_A,
    CG_LOSS_D_B, CG_LOSS_G_B, CG_LOSS_CYCLE_B, CG_LOSS_IDT_B,
    CG_LOSS_D, CG_LOSS_G, CG_N_LOSSES
};

/* The official defaults: 64 filters, PatchGAN with 3 layers; 9 residual
 * blocks from 256 pixels up, 6 below (its resnet_9blocks/resnet_6blocks). */
#define CG_NGF 64
#define CG_N_LAYERS_D 3
#define CG_HISTORY 50 /* the image pool's size */
#define CG_INIT_STD 0.02

extern const ug_family ug_family_cyclegan;
/* The official data pipelines (data.c). */
extern const ug_pipeline cg_pipeline;

/* ResnetGenerator of c: c->ch filters, c->n_res blocks, c->img_size input
 * (a multiple of 4); the state_dict keys model.1.weight, ... */
int cg_build_generator(ug_net *net, const ug_config *c, ug_error *err);
/* NLayerDiscriminator of c: c->ch filters, c->dis_global layers. */
int cg_build_discriminator(ug_net *net, const ug_config *c, ug_error *err);

/* config.c */
void cg_config_default(ug_config *c, int img_size);
void cg_config_write(ug_ckpt_writer *w, const ug_config *c);
int cg_config_read(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   ug_error *err);
unsigned cg_nets_in_file(const ug_st_file *f);

/* official.c: the official code's files. */
const char *cg_single_group(const char *path);
int cg_open_folder(ug_st_file **f, const char *dir, ug_error *err);
int cg_write_folder(const ug_st_file *f, const char *path, const char *dir, ug_error *err);

/* schedule.c: the official training configuration and learning rate. */
void cg_train_defaults(ug_train_config *tc);
double cg_lr(const ug_train_config *tc, long step);

/* pool.c: the two image pools as training state (family.h). */
int cg_pools_new(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err);
void cg_pools_free(void *state);
void cg_pools_save(const void *state, ug_ckpt_writer *w);
int cg_pools_load(void *state, const ug_st_file *f, const char *path, ug_error *err);
/* Pool d's answer (0: fake A, 1: fake B) to this rank's batch of fakes in
 * be's memory, in host memory until the next query of d: with fewer than
 * CG_HISTORY images kept, each fake is kept and returned; after that each
 * is, with probability 1/2, swapped for a random kept one (which is
 * returned) or else returned as it is (the official ImagePool.query, with
 * our generator in place of Python's random). The query runs on the global
 * batch, c's ranks' fakes in rank order (a collective); this rank's share
 * of the answer is returned, NULL with err when the gathering failed. */
const float *cg_pool_query(void *state, int d, ug_comm *c, const ug_backend *be,
                           const float *fakes, ug_error *err);

/* step.c */
int cg_step(ug_step *s, const float *real_A, const float *real_B, float *losses);

#endif
