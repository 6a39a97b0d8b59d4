/* ugatit: U-GAT-IT unsupervised image-to-image translation (Kim et al., ICLR
 * 2020), numerically the same network and training step as the authors'
 * PyTorch release. This is the public interface of libugatit.
 *
 * Images are float arrays N x 3 x S x S (planar RGB, values in [-1, 1]) where S
 * is the model's img_size. A model holds the six networks of the release:
 * generators A2B and B2A, and global and local discriminators for A and B. */
#ifndef UGATIT_H
#define UGATIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every function that can fail returns 0 on success and -1 on failure, with a
 * one-line message in the ug_error the caller passed (which may be NULL).
 *
 * Threads. A model is not thread-safe: ug_model_translate (like a training
 * step) writes the model's activation arena, its oneDNN stream, primitive
 * cache, scratchpad and scratch buffers, so no two calls that take the same
 * model, or a trainer of it, may run at the same time, not even two
 * ug_model_translate; serialise them (a mutex per model), or give each thread
 * its own model (ug_model_load the file once per thread). A model may be used
 * by different threads one after the other (its oneDNN primitives use the
 * model's own scratchpad, not oneDNN's per-thread one). Different models may
 * be used in different threads at the same time: each owns its arena, oneDNN
 * engine, stream, primitive cache and scratchpad, the library keeps no other
 * mutable global state, and oneDNN's process-wide primitive cache is
 * thread-safe. Functions without a model or trainer argument
 * (ug_config_default, ug_checkpoint_meta, ug_loss_name, ...) may be called
 * from any thread. Each call parallelises itself with OpenMP (OMP_NUM_THREADS
 * threads), so k models translating at once use k times as many threads; give
 * each fewer where cores are few. */
typedef struct ug_error {
    char msg[512];
} ug_error;

typedef struct ug_config {
    int ch;           /* base channels (release default 64) */
    int n_res;        /* residual blocks in encoder and decoder (4) */
    int img_size;     /* image side, a multiple of 4 (256) */
    int light;        /* 1: the light model; 0: the full (paper) model */
    int dis_global;   /* layers of the global discriminators (7) */
    int dis_local;    /* layers of the local discriminators (5) */
} ug_config;

/* The release's defaults. */
void ug_config_default(ug_config *c);

typedef struct ug_model ug_model;

/* A new model initialised like PyTorch's defaults from seed. Invalid
 * configurations (ch < 1, a size not divisible by 4, an image too small for the
 * discriminators) are refused with an error. */
int ug_model_new(ug_model **out, const ug_config *c, uint64_t seed, ug_error *err);
void ug_model_free(ug_model *m);
const ug_config *ug_model_config(const ug_model *m);

/* The learned rho of every adaILN and ILN layer of both generators (how much
 * instance versus layer normalisation each keeps): ug_model_rho_count()
 * layers; layer i's name ("genA2B.UpBlock1_1.norm1.rho") and its mean, min
 * and max over channels. */
int ug_model_rho_count(const ug_model *m);
void ug_model_rho(const ug_model *m, int i, const char **name_group, const char **name,
                  float *mean, float *min, float *max);

/* Loads a checkpoint: safetensors (ours or any with the release's keys) or
 * the release's PyTorch .pt, told apart by their first bytes. The
 * configuration comes from the file's metadata or, without it, from the
 * tensor shapes; img_size_hint (0 for 256) gives the side of a light model
 * that has no metadata. need_discriminators == 0 accepts a file with only the
 * generators, or only genA2B (a single state_dict), enough to translate. */
int ug_model_load(ug_model **out, const char *path, int img_size_hint, int need_discriminators,
                  ug_error *err);
/* Writes every network's parameters and spectral-norm buffers, with the
 * configuration in the metadata, atomically. */
int ug_model_save(const ug_model *m, const char *path, ug_error *err);

/* Copies the metadata value of key in a checkpoint into out (n bytes);
 * returns 1 when the file has no such key. */
int ug_checkpoint_meta(const char *path, const char *key, char *out, int n, ug_error *err);

typedef enum { UG_A2B = 0, UG_B2A = 1 } ug_direction;

/* Runs a generator in evaluation mode on N images. out: N x 3 x S x S;
 * cam_logit: N x 2 or NULL; heatmap: N x (S/4) x (S/4) or NULL. */
int ug_model_translate(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                       float *cam_logit, float *heatmap, ug_error *err);

/* Arithmetic of the generators' convolutions in ug_model_translate.
 * UG_BF16 rounds their inputs and weights to bfloat16 and sums in fp32; for
 * inference only: ug_trainer_step refuses a model set to it. The default is
 * UG_FP32. UG_BF16 needs AVX512-BF16: on a CPU without it, or with oneDNN
 * capped below it (ONEDNN_MAX_CPU_ISA=AVX2, ...), it is refused with an error
 * naming the instruction set, and the model stays fp32. */
typedef enum { UG_FP32 = 0, UG_BF16 = 1 } ug_precision;
int ug_model_set_precision(ug_model *m, ug_precision p, ug_error *err);

/* ---- training ---- */

typedef struct ug_train_config {
    long iteration;         /* total steps (1,000,000) */
    int batch_size;         /* 1 */
    double lr;              /* 1e-4 */
    double weight_decay;    /* 1e-4 */
    float adv_weight;       /* 1 */
    float cycle_weight;     /* 10 */
    float identity_weight;  /* 10 */
    float cam_weight;       /* 1000 */
    int decay_flag;         /* 1: linear learning-rate decay over the second half */
} ug_train_config;

void ug_train_config_default(ug_train_config *t);

/* The loss terms of one step, named as in the release. */
typedef enum {
    UG_D_AD_GA, UG_D_AD_CAM_GA, UG_D_AD_LA, UG_D_AD_CAM_LA,
    UG_D_AD_GB, UG_D_AD_CAM_GB, UG_D_AD_LB, UG_D_AD_CAM_LB,
    UG_D_LOSS_A, UG_D_LOSS_B, UG_D_LOSS,
    UG_G_AD_GA, UG_G_AD_CAM_GA, UG_G_AD_LA, UG_G_AD_CAM_LA,
    UG_G_AD_GB, UG_G_AD_CAM_GB, UG_G_AD_LB, UG_G_AD_CAM_LB,
    UG_G_RECON_A, UG_G_RECON_B, UG_G_IDENTITY_A, UG_G_IDENTITY_B,
    UG_G_CAM_A, UG_G_CAM_B, UG_G_LOSS_A, UG_G_LOSS_B, UG_G_LOSS,
    UG_N_LOSSES
} ug_loss_term;

/* "D_ad_loss_GA", ..., "Generator_loss". */
const char *ug_loss_name(ug_loss_term t);

typedef struct ug_trainer ug_trainer;

/* A trainer owns the optimiser state and step count of a model it borrows.
 * A step has no randomness of its own: the caller's batches carry the data
 * order and augmentation (ugatit train derives them from its seed and the
 * step, src/data/loader.h). */
int ug_trainer_new(ug_trainer **out, ug_model *m, const ug_train_config *tc, ug_error *err);
void ug_trainer_free(ug_trainer *t);

/* One training step of the release on a batch (batch_size images per domain):
 * discriminator update, then generator update, then rho clamping. losses
 * (UG_N_LOSSES floats) may be NULL. */
int ug_trainer_step(ug_trainer *t, const float *real_A, const float *real_B, float *losses,
                    ug_error *err);
const ug_train_config *ug_trainer_config(const ug_trainer *t);

/* Steps done so far, and the current learning rates. */
long ug_trainer_step_count(const ug_trainer *t);
double ug_trainer_lr(const ug_trainer *t);

/* Positions a new trainer after `step` steps of a run whose checkpoint held
 * no optimiser state (the release's .pt files): Adam starts afresh and the
 * learning rates are those an uninterrupted run has after `step` steps. */
int ug_trainer_set_step(ug_trainer *t, long step, ug_error *err);

/* A training checkpoint: the model plus Adam moments, step, learning rates,
 * and training configuration; written atomically. extra_meta
 * holds n_extra key/value pairs the caller wants kept (may be NULL). */
int ug_trainer_save(const ug_trainer *t, const char *path, const char *const *extra_meta,
                    int n_extra, ug_error *err);
/* Restores a trainer (and the model it trains, created into *model) from a
 * training checkpoint, bit-exactly. */
int ug_trainer_load(ug_trainer **out, ug_model **model, const char *path, ug_error *err);

#ifdef __cplusplus
}
#endif

#endif
