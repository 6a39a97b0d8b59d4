/* ugatit: U-GAT-IT unsupervised image-to-image translation (Kim et al., ICLR
 * 2020), numerically the same network and training step as the authors'
 * PyTorch release. This is the public interface of libugatit.
 *
 * Images are float arrays N x 3 x S x S (planar RGB, values in [-1, 1]) where S
 * is the model's img_size. A model holds the six networks of the release:
 * generators A2B and B2A, and global and local discriminators for A and B;
 * or, of the family "cyclegan" (ug_config.family), the official CycleGAN's
 * four: generators G_A (A to B) and G_B, discriminators D_A and D_B. */
#ifndef UGATIT_H
#define UGATIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The functions of libugatit.so: the library is built with hidden symbols
 * (-fvisibility=hidden) and exports only those marked so. */
#if defined(__GNUC__)
#define UG_API __attribute__((visibility("default")))
#else
#define UG_API
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
 * (ug_config_default, ug_checkpoint_meta, ug_norm_name, ...) may be called
 * from any thread. Each call parallelises itself with OpenMP (OMP_NUM_THREADS
 * threads), so k models translating at once use k times as many threads; give
 * each fewer where cores are few. */
typedef struct ug_error {
    char msg[512];
} ug_error;

/* The normalisation of the generator's decoder (the paper's ablation; see
 * the README for the exact definitions of the variants). */
typedef enum {
    UG_NORM_ADALIN, /* the release: adaILN in the residual blocks, ILN in up-sampling */
    UG_NORM_IN,     /* ILN with rho fixed at 1 everywhere; no gamma/beta MLP */
    UG_NORM_LN,     /* ILN with rho fixed at 0 everywhere; no gamma/beta MLP */
    UG_NORM_ADAIN,  /* adaILN with rho fixed at 1 in the residual blocks, IN as above in up-sampling */
    UG_NORM_GN,     /* GroupNorm (up to 32 groups) everywhere; no gamma/beta MLP */
    UG_N_NORMS
} ug_norm;

typedef struct ug_config {
    int ch;           /* base channels (release default 64) */
    int n_res;        /* residual blocks in encoder and decoder (4) */
    int img_size;     /* image side, a multiple of 4 (256) */
    int light;        /* 1: the light model; 0: the full (paper) model */
    int dis_global;   /* layers of the global discriminators (7) */
    int dis_local;    /* layers of the local discriminators (5) */
    ug_norm norm;     /* decoder normalisation (UG_NORM_ADALIN) */
    int no_cam_g;     /* 1: generators without CAM attention (the ablation) */
    int no_cam_d;     /* 1: discriminators without CAM attention (the ablation) */
    const char *family; /* the model family: NULL or "ugatit" (U-GAT-IT), or "cyclegan",
                           which uses ch (ngf = ndf), n_res (ResNet blocks), img_size and
                           dis_global (the PatchGAN's n_layers), the rest 0, or "unit",
                           which uses ch (gen and dis dim), n_res, img_size, dis_global
                           (the discriminators' n_layer) and dis_local (num_scales), or
                           "munit", which uses those of unit and the two below */
    int style_dim;      /* munit: the style code's channels (8) */
    int mlp_dim;        /* munit: the hidden width of the MLP to the AdaIN parameters (256) */
} ug_config;

/* "adalin", "in", "ln", "adain", "gn"; and back (-1 for an unknown name). */
UG_API const char *ug_norm_name(ug_norm n);
UG_API int ug_norm_parse(const char *name);

/* The release's defaults. */
UG_API void ug_config_default(ug_config *c);

typedef struct ug_model ug_model;

/* A new model initialised like PyTorch's defaults from seed. Invalid
 * configurations (ch < 1, a size not divisible by 4, an image too small for the
 * discriminators) are refused with an error. */
UG_API int ug_model_new(ug_model **out, const ug_config *c, uint64_t seed, ug_error *err);
UG_API void ug_model_free(ug_model *m);
UG_API const ug_config *ug_model_config(const ug_model *m);
/* The model's family ("ugatit"), as checkpoints record it. */
UG_API const char *ug_model_family(const ug_model *m);
/* The configuration as (key, value) lines for people (the report), as the
 * family words it; returns how many of at most max it wrote. */
UG_API int ug_model_describe(const ug_model *m, char kv[][2][64], int max);

/* The learned rho of the adaILN and ILN layers of both generators: per
 * channel, how much instance (1) versus layer (0) normalisation it keeps;
 * training clamps it to [0, 1] after each step. There are
 * ug_model_rho_count() layers, genA2B's then genB2A's, each generator's in
 * state_dict order. */
UG_API int ug_model_rho_count(const ug_model *m);

typedef struct ug_rho_layer {
    char name[128];      /* module path, "genA2B.UpBlock1_1.norm1": the parameter's
                            checkpoint key without its last part (".rho") */
    int channels;
    const float *values; /* channels values, the model's own: valid until the
                            model is freed, and changed by each training step */
} ug_rho_layer;

/* Layer i, 0 <= i < ug_model_rho_count(m); another i is an error. */
UG_API int ug_model_rho(const ug_model *m, int i, ug_rho_layer *out, ug_error *err);

/* Loads a checkpoint: safetensors (ours or any with the release's keys) or
 * the release's PyTorch .pt, told apart by their first bytes. The
 * configuration comes from the file's metadata or, without it, from the
 * tensor shapes; for what shapes cannot tell, hint (NULL for none) gives
 * img_size (0 for 256: the side of a light model, or of a variant without
 * the gamma/beta MLP) and norm (UG_NORM_IN or UG_NORM_LN, which hold the same
 * tensors; a file of either is refused without one of them as hint).
 * need_discriminators == 0 accepts a file with only the generators, or only
 * genA2B (a single state_dict), enough to translate. */
UG_API int ug_model_load(ug_model **out, const char *path, const ug_config *hint,
                         int need_discriminators, ug_error *err);
/* Writes every network's parameters and spectral-norm buffers, with the
 * configuration in the metadata, atomically. */
UG_API int ug_model_save(const ug_model *m, const char *path, ug_error *err);

/* Copies the metadata value of key in a checkpoint into out (n bytes);
 * returns 1 when the file has no such key. */
UG_API int ug_checkpoint_meta(const char *path, const char *key, char *out, int n, ug_error *err);

typedef enum { UG_A2B = 0, UG_B2A = 1 } ug_direction;

/* Runs a generator in evaluation mode on N images. out: N x 3 x S x S;
 * cam_logit: N x 2 or NULL; heatmap: N x (S/4) x (S/4) or NULL (both must
 * be NULL for a generator without CAM, config no_cam_g). */
UG_API int ug_model_translate(ug_model *m, ug_direction dir, const float *images, int N,
                              float *out, float *cam_logit, float *heatmap, ug_error *err);

/* What a column of a sample grid shows for one real image of the source
 * domain of a direction, row by row, as the model's family defines it (the
 * release's U-GAT-IT: real, then the identity, the translation and the
 * cycle, each after its heat map; without CAM no heat maps). */
typedef enum {
    UG_ROW_REAL,    /* the real image */
    UG_ROW_IMAGE,   /* the translation of row `src` by the grid's direction (other == 0)
                       or the other one (other == 1) */
    UG_ROW_HEATMAP, /* the attention heat map of the translation that makes row `src` */
    UG_ROW_STYLED,  /* multimodal families (MUNIT): the translation of row `src` by the grid's
                       direction with style code `other` drawn from N(0, I) on seed 0 */
} ug_row_kind;
typedef struct ug_sample_row {
    ug_row_kind kind;
    int src;   /* an earlier row (UG_ROW_IMAGE), the image row of the call (UG_ROW_HEATMAP) */
    int other; /* UG_ROW_IMAGE: 1 for the other direction's generator; UG_ROW_STYLED: the
                  style code's index */
} ug_sample_row;
/* The rows of m's sample columns into *rows (the model's own table); returns their number. */
UG_API int ug_model_sample_rows(const ug_model *m, const ug_sample_row **rows);

/* Arithmetic of the generators' convolutions in ug_model_translate.
 * UG_BF16 rounds their inputs and weights to bfloat16 and sums in fp32; for
 * inference only: ug_trainer_step refuses a model set to it. The default is
 * UG_FP32. UG_BF16 needs AVX512-BF16: on a CPU without it, or with oneDNN
 * capped below it (ONEDNN_MAX_CPU_ISA=AVX2, ...), it is refused with an error
 * naming the instruction set, and the model stays fp32. */
typedef enum { UG_FP32 = 0, UG_BF16 = 1 } ug_precision;
UG_API int ug_model_set_precision(ug_model *m, ug_precision p, ug_error *err);

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
    /* The cyclegan family's: */
    uint64_t seed;          /* of the image pools' draws (0) */
    long epoch_steps;       /* >0: the official schedule in epochs of this many steps
                               (iteration a multiple of it); 0: over iteration steps,
                               the second half decaying (0) */
    long n_epochs_decay;    /* with epoch_steps: the epochs of the decay, at the end (0) */
    /* The unit and munit families' (the official config's names; gan_w is adv_weight,
     * its recon_x_cyc_w cycle_weight): */
    float recon_x_w;        /* image reconstruction (10) */
    float recon_kl_w;       /* KL of the latent (0.01) */
    float recon_kl_cyc_w;   /* KL of the cycle's latent (0.01) */
    float recon_s_w;        /* munit: style reconstruction (1) */
    float recon_c_w;        /* munit: content reconstruction (1) */
    long step_size;         /* lr_policy step: lr times gamma every step_size steps (100000) */
    double gamma;           /* (0.5) */
    /* The drit family's (the official option names): */
    int d_iter;             /* a full iteration every d_iter batches, the others train only
                               the content discriminator (3) */
    int no_ms;              /* 1: without the mode-seeking loss (0) */
    long n_ep_decay;        /* with epoch_steps: the epoch the linear decay starts after
                               (the official 600 of 1200; here 0) */
    /* Where Adam's moments live, not a training setting (checkpoints do not keep it):
     * NULL, in memory; a folder, in unlinked files made there, each update streaming
     * them through a few MB (the same values in 8 bytes a parameter less memory, at the
     * pace of the page cache or the disk: for a model whose moments do not fit beside
     * it; a backend whose memory is the host's). Copied by ug_trainer_new. (NULL) */
    const char *moments_dir;
    /* With moments_dir: moments of at most this many bytes in all stay in memory
     * after all, larger ones go to its files; 0: always the files. The trainer's
     * configuration (ug_trainer_config) tells where they went: its moments_dir is
     * NULL when they stayed. (0) */
    size_t moments_in_memory_max;
} ug_train_config;

/* The release's U-GAT-IT training configuration (the values above). */
UG_API void ug_train_config_default(ug_train_config *t);
/* The official training configuration of a model family ("ugatit",
 * "cyclegan", "unit", "munit"; NULL is U-GAT-IT): CycleGAN's is lr 2e-4, no weight
 * decay, cycle_weight 10 (lambda_A = lambda_B), identity_weight 0.5
 * (lambda_identity, a share of the cycle weight as in the official code),
 * decay_flag 1; UNIT's lr 1e-4, weight decay 1e-4, adv_weight 1 (gan_w),
 * cycle_weight 10 (recon_x_cyc_w), identity and CAM weights 0, and the
 * unit fields' defaults above (the learning rate halved every 100000
 * steps); MUNIT's UNIT's with cycle_weight 0 (recon_x_cyc_w), no KL terms,
 * recon_s_w and recon_c_w 1. */
UG_API int ug_train_config_for(ug_train_config *t, const char *family, ug_error *err);

/* The loss terms of one step of the ugatit family, in the order its
 * trainers write them, named as in the release (ug_trainer_loss_name). */
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

typedef struct ug_trainer ug_trainer;

/* A trainer owns the optimiser state and step count of a model it borrows.
 * A step has no randomness of its own: the caller's batches carry the data
 * order and augmentation (ugatit train derives them from its seed and the
 * step, src/data/loader.h). */
UG_API int ug_trainer_new(ug_trainer **out, ug_model *m, const ug_train_config *tc, ug_error *err);
UG_API void ug_trainer_free(ug_trainer *t);

/* One training step of the release on a batch of n images per domain (n
 * must be the trainer's batch_size): discriminator update, then generator
 * update, then rho clamping (CycleGAN: the official iteration, generators
 * then discriminators on the image pools' answers). losses
 * (ug_trainer_loss_count floats) may be NULL.
 *
 * A step is not undone when it fails half-way (a loss that is not finite, a
 * kernel's error): the spectral-norm states and maybe the discriminators have
 * moved while the step count has not. Such a trainer is in a failed state:
 * every further ug_trainer_step and ug_trainer_save is refused with an error
 * saying so; reload the last checkpoint to go on. A step refused before it
 * starts (a batch of the wrong size, a bf16 model, a failed state) changes
 * nothing. A loss that is not finite fails the step before the optimiser
 * updates the networks with it. */
UG_API int ug_trainer_step(ug_trainer *t, const float *real_A, const float *real_B, int n,
                           float *losses, ug_error *err);
UG_API const ug_train_config *ug_trainer_config(const ug_trainer *t);
/* The loss terms a step writes (the model family's: UG_N_LOSSES of
 * ug_loss_term for ugatit), and the name of term i ("D_ad_loss_GA", ...,
 * "Generator_loss"; "?" for an i out of range). */
UG_API int ug_trainer_loss_count(const ug_trainer *t);
UG_API const char *ug_trainer_loss_name(const ug_trainer *t, int i);
/* Which terms are the discriminators' and the generators' total losses
 * (what a progress line shows). */
UG_API void ug_trainer_total_losses(const ug_trainer *t, int *d_loss, int *g_loss);

/* Steps done so far, and the learning rate of the last one (of both
 * optimisers). The learning rate of step s is a function of s and the
 * configuration only: lr, and with decay_flag the release's linear decay
 * over the second half of `iteration` steps (lr / (iteration / 2) less per
 * step past the half-way point, in the release's arithmetic), never below 0.
 * CycleGAN: the official policy 'linear' over epochs of epoch_steps steps
 * (see ug_train_config), lr x (1 - max(0, e + 1 - n_epochs) /
 * (n_epochs_decay + 1)) in epoch e, n_epochs = iteration / epoch_steps -
 * n_epochs_decay. */
UG_API long ug_trainer_step_count(const ug_trainer *t);
UG_API double ug_trainer_lr(const ug_trainer *t);

/* Positions a new trainer after `step` steps of a run whose checkpoint held
 * no optimiser state (the release's .pt files): Adam starts afresh and the
 * learning rate is the one of step `step`. */
UG_API int ug_trainer_set_step(ug_trainer *t, long step, ug_error *err);

/* Changes the run's total number of steps, to extend (or shorten) a resumed
 * run: the learning-rate decay follows the new total from the next step on,
 * as in a run that had it from the start, and checkpoints record it. */
UG_API int ug_trainer_set_iteration(ug_trainer *t, long iteration, ug_error *err);

/* A training checkpoint: the model plus Adam moments, step, learning rate
 * and training configuration (and CycleGAN's image pools); written atomically. extra_meta
 * holds n_extra key/value pairs the caller wants kept (may be NULL). */
UG_API int ug_trainer_save(const ug_trainer *t, const char *path,
                           const char *const *extra_meta, int n_extra, ug_error *err);
/* Restores a trainer (and the model it trains, created into *model) from a
 * training checkpoint, bit-exactly; moments_dir and moments_in_memory_max as
 * ug_train_config's (NULL and 0: memory). */
UG_API int ug_trainer_load(ug_trainer **out, ug_model **model, const char *path,
                           const char *moments_dir, size_t moments_in_memory_max,
                           ug_error *err);

#ifdef __cplusplus
}
#endif

#endif
