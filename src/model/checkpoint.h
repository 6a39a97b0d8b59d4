/* Reading and writing the networks of a model as safetensors, shared by model
 * checkpoints and training checkpoints. Keys are the release's GROUP.NAME
 * (genA2B.DownBlock.1.weight, disGA.model.1.weight_orig, ...). */
#ifndef UG_CHECKPOINT_H
#define UG_CHECKPOINT_H

#include "core/rng.h"
#include "io/safetensors.h"
#include "model/model.h"

/* A list of tensors and metadata to write; owns the names and values it was given. */
struct ug_ckpt_writer {
    ug_st_entry *e;
    size_t n, cap;
    char **meta; /* key, value, key, value, ... */
    size_t n_meta, cap_meta;
    int failed;
};

void ug_cw_init(ug_ckpt_writer *w);
void ug_cw_free(ug_ckpt_writer *w);
void ug_cw_tensor(ug_ckpt_writer *w, const char *name, int ndim, const int64_t *shape,
                  const float *data);
void ug_cw_meta(ug_ckpt_writer *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A random generator's state as metadata key: two hexadecimal integers. */
void ug_cw_meta_rng(ug_ckpt_writer *w, const char *key, const ug_rng *r);
/* Every parameter and buffer of the model's networks from base (one float
 * block per network, laid out like its data) under prefix + GROUP.NAME;
 * trainable_only skips the spectral-norm buffers. */
void ug_cw_model(ug_ckpt_writer *w, const ug_model *m, const char *prefix,
                 float *const base[UG_MAX_NETS], int trainable_only);
/* The same from open files, fd[i] (-1: none) laid out like net i's data,
 * read a little at a time when the checkpoint is written. */
void ug_cw_model_in_files(ug_ckpt_writer *w, const ug_model *m, const char *prefix,
                          const int fd[UG_MAX_NETS], int trainable_only);
/* The model's family, format version and configuration as metadata. */
void ug_cw_config(ug_ckpt_writer *w, const ug_model *m);
int ug_cw_write(ug_ckpt_writer *w, const char *path, ug_error *err);

/* Opens a checkpoint of either format (tensor_file.h) for the family of
 * hint (NULL, or hint->family NULL: U-GAT-IT), which names the network of a
 * .pt file that holds a single state_dict. deferred leaves a safetensors
 * file's data in the file (ug_st_open_deferred) for the readers below, so
 * that a model as large as memory can be loaded; other formats are read
 * whole. */
int ug_ckpt_open(ug_st_file **f, const char *path, const ug_config *hint, int deferred,
                 ug_error *err);

/* The model configuration of an open file: its family from the metadata
 * ("family" and "format_version"; a file without them is U-GAT-IT's version
 * 1), then the family's configuration from the metadata where present, else
 * inferred from the tensor shapes with hint for what they cannot tell (see
 * ug_model_load). *nets gets the networks the file holds (a bit per network,
 * as ug_model.nets). */
int ug_ckpt_config(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   unsigned *nets, ug_error *err);
/* Copies prefix + GROUP.NAME of every parameter (and buffer unless
 * trainable_only) into base[i] (laid out like net i's data), checking that
 * each exists with the right shape and holds no NaN or Inf. */
int ug_ckpt_read_model(const ug_st_file *f, const char *path, const ug_model *m,
                       const char *prefix, float *const base[UG_MAX_NETS], int trainable_only,
                       ug_error *err);
/* Receives n checked floats of net's block (laid out like its data) at float
 * offset off. */
typedef int (*ug_ckpt_put)(void *ctx, int net, size_t off, const float *src, size_t n,
                           ug_error *err);
/* The same for the networks in nets (a bit per network) to any destination:
 * each tensor is read a few MB at a time and handed to put. */
int ug_ckpt_read_model_to(const ug_st_file *f, const char *path, const ug_model *m,
                          const char *prefix, unsigned nets, int trainable_only,
                          ug_ckpt_put put, void *ctx, ug_error *err);
/* An integer/float metadata value, strictly parsed; missing or malformed is an error. */
int ug_ckpt_meta_long(const ug_st_file *f, const char *path, const char *key, long *out,
                      ug_error *err);
/* A generator's state as ug_cw_meta_rng wrote it under key (its stream odd);
 * what names the generator in the error. */
int ug_ckpt_meta_rng(const ug_st_file *f, const char *path, const char *key, const char *what,
                     ug_rng *r, ug_error *err);
/* A "true"/"false" metadata value; absent gives dflt. */
int ug_ckpt_meta_bool(const ug_st_file *f, const char *path, const char *key, int dflt, int *out,
                      ug_error *err);
/* Tensor name of the file with ndim dimensions; NULL with an error naming it otherwise. */
const ug_st_tensor *ug_ckpt_need(const ug_st_file *f, const char *path, const char *name,
                                 int ndim, ug_error *err);
int ug_ckpt_meta_double(const ug_st_file *f, const char *path, const char *key, double *out,
                        ug_error *err);

#endif
