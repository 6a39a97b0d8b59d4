/* Model families: what makes U-GAT-IT, CycleGAN, UNIT, ... different from
 * each other, as one table each. Everything generic (building the arena
 * and kernel context, checkpoints, the trainer's Adam and schedule, the CLI,
 * sample grids, the log and the report) asks the model's family instead of
 * assuming one. A family lives in its own folder, src/model/NAME/, and is
 * listed in family.c. */
#ifndef UG_FAMILY_H
#define UG_FAMILY_H

#include "data/transform.h"
#include "io/image.h"
#include "io/safetensors.h"
#include "nn/net.h"
#include "ugatit.h"

#define UG_MAX_NETS 8
#define UG_MAX_LOSSES 64

typedef struct ug_ckpt_writer ug_ckpt_writer;

/* (key, value) lines for people, as ug_model_describe returns them: at most
 * max, further ones dropped. */
typedef struct ug_kv_lines {
    char (*kv)[2][64];
    int n, max;
} ug_kv_lines;
void ug_kv_line(ug_kv_lines *l, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
typedef struct ug_step ug_step;

typedef struct ug_family {
    const char *name;   /* checkpoint metadata 'family', --family */
    const char *title;  /* for people: "U-GAT-IT", "CycleGAN" */
    int format_version; /* the checkpoint layout this build writes; it reads this and older */
    /* The networks, each saved under its group ("genA2B", ...). */
    int n_nets;
    const char *const *net_names;
    /* The networks a translation-only file must hold at least (ug_model_load
     * without discriminators), and which group a lone state_dict (a .pt file
     * of one network) at path belongs to (CycleGAN's tell it by their name;
     * NULL: the family has no such files). */
    unsigned translate_nets;
    const char *(*single_group)(const char *path);
    /* A folder of the official code's checkpoint files read as one file
     * (NULL: the family has no such layout); and a model file written back
     * as such a folder. */
    int (*open_folder)(ug_st_file **f, const char *dir, ug_error *err);
    int (*write_folder)(const ug_st_file *f, const char *path, const char *dir, ug_error *err);
    /* The official configuration at an image size (a new run's). */
    void (*config_default)(ug_config *c, int img_size);
    /* Network i of configuration c (its builder checks c). */
    int (*build)(ug_net *net, int i, const ug_config *c, ug_error *err);
    /* The configuration to and from checkpoint metadata; from the tensor
     * shapes (with hint for what they cannot tell) when a file has none. */
    void (*config_write)(ug_ckpt_writer *w, const ug_config *c);
    int (*config_read)(const ug_st_file *f, const char *path, const ug_config *hint,
                       ug_config *c, ug_error *err);
    /* The networks a file holds (a bit per network; 0: not this family's
     * file, which is how a file without metadata 'family' is told). */
    unsigned (*nets_in_file)(const ug_st_file *f);
    /* The official training configuration (lr, weights, ...), on top of
     * ug_train_config_default (NULL: that one), and the learning rate of
     * step `step` (the first is 1) under a configuration. */
    void (*train_defaults)(ug_train_config *tc);
    double (*lr)(const ug_train_config *tc, long step);
    /* Training state a family keeps across steps besides Adam's (CycleGAN's
     * image pools, the generators of random draws), made with the trainer
     * for its global batch and part of its checkpoints; all NULL for none.
     * It lives on the host and is the same on every rank: the step gives
     * it the trainer's communicator, and it draws or pools for the global
     * batch and hands each rank its share. */
    int (*state_new)(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err);
    void (*state_free)(void *state);
    void (*state_save)(const void *state, ug_ckpt_writer *w);
    int (*state_load)(void *state, const ug_st_file *f, const char *path, ug_error *err);
    /* The official data pipelines (training and test transforms, data order). */
    const ug_pipeline *pipeline;
    /* The images per domain that one rank's step takes when the step is
     * made for that many only (DRIT's 2: an encoded and a random sample),
     * else 0. */
    int rank_batch;
    /* One training step, writing n_losses loss values named loss_names. */
    int n_losses;
    const char *const *loss_names;
    int d_loss, g_loss; /* the discriminators' and the generators' totals among them */
    int (*step)(ug_step *s, const float *real_A, const float *real_B, float *losses);
    /* The rows of a sample column (see ugatit.h), n returned. */
    int (*sample_rows)(const ug_config *c, const ug_sample_row **rows);
    /* The network that translates A to B, and B to A (what translate runs,
     * and what an exporter writes). */
    int translate_net[2];
    /* Evaluation-mode translation (ug_model_translate). */
    int (*translate)(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                     float *cam_logit, float *heatmap, ug_error *err);
    /* Multimodal families (all NULL for the others): the floats of one
     * style code under c; the translation of N images with given style codes
     * (N of them, host memory); and the style codes of N example images of
     * dir's target domain (its style encoder). */
    int (*style_size)(const ug_config *c);
    int (*translate_style)(ug_model *m, ug_direction dir, const float *images, int N,
                           const float *styles, float *out, ug_error *err);
    int (*encode_style)(ug_model *m, ug_direction dir, const float *images, int N, float *styles,
                        ug_error *err);
    /* The configuration as (key, value) lines for the report. */
    void (*describe)(const ug_config *c, ug_kv_lines *out);
} ug_family;

/* The family named name (NULL or "" is U-GAT-IT), or NULL with an error
 * listing the families there are. */
const ug_family *ug_family_find(const char *name, ug_error *err);
/* Family i of this build (0 is U-GAT-IT), NULL past the last. */
const ug_family *ug_family_at(int i);

/* The sample rows of a family without attention or styles: the real image,
 * its translation, and that translated back. */
int ug_family_rows_cycle(const ug_config *c, const ug_sample_row **rows);

#endif
