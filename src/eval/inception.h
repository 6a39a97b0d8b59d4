/* Inception-v3 as the FID/KID tools use it: forward only, 299 x 299 RGB in
 * [-1, 1] to the 2048 features of the global average pool after Mixed_7c
 * ("pool_3"). Two variants (../shared/reference/eval-reference.md, section
 * 2), told apart by the weights file: the FID variant of pytorch-fid (fc of
 * 1008 classes; average pools in Mixed_5*, 6b-6e and 7b without the padding
 * in their divisor, a max pool in Mixed_7c) and torchvision's inception_v3
 * (fc of 1000; average pools counting the padding). Built from data on the
 * engine (src/nn): BasicConv2d is conv, BatchNorm (eval, eps 0.001), ReLU. */
#ifndef UG_EVAL_INCEPTION_H
#define UG_EVAL_INCEPTION_H

#include "core/error.h"
#include "nn/net.h"

#define UG_INCEPTION_SIZE 299
#define UG_INCEPTION_DIM 2048
#define UG_INCEPTION_OUT "features"
/* The SHA-256 prefix of pytorch-fid's weights (pt_inception-2015-12-05-6726825d.pth),
 * the file every published FID/KID number comes from. */
#define UG_INCEPTION_FID_SHA "6726825d"
#define UG_INCEPTION_ENV "UGATIT_INCEPTION"

typedef enum { UG_INCEPTION_FID, UG_INCEPTION_TORCHVISION } ug_inception_kind;

/* The network of a variant with its parameters (state_dict names: P.conv.weight,
 * P.bn.weight, .bias, .running_mean, .running_var, .num_batches_tracked per
 * BasicConv2d P, no fc) at their start values; input "image" 3 x 299 x 299,
 * output UG_INCEPTION_OUT, 2048 x 1 x 1. */
int ug_inception_build(ug_net *net, ug_inception_kind kind, ug_error *err);

typedef struct ug_inception ug_inception;

/* Loads a weights file (a torch.save state_dict or safetensors): the variant
 * from fc.weight's shape ([1008, 2048] FID, [1000, 2048] torchvision), every
 * conv and BatchNorm tensor present with its shape (num_batches_tracked may
 * be missing), nothing else but fc.* and AuxLogits.*. Errors name the file. */
int ug_inception_load(ug_inception **out, const char *path, ug_error *err);
void ug_inception_free(ug_inception *m);

ug_inception_kind ug_inception_variant(const ug_inception *m);
/* The file's SHA-256, 64 hex digits. */
const char *ug_inception_sha256(const ug_inception *m);

/* features[N x 2048] from images[N x 3 x 299 x 299] in [-1, 1]. */
int ug_inception_features(ug_inception *m, float *features, const float *images, int N,
                          ug_error *err);

/* features[n x 2048] of image files (PNG or JPEG, preprocessed as
 * preprocess.h says), batch at a time through the network. A file that
 * cannot be read is an error naming it. With cache (a folder, made if
 * missing; NULL: none), each image's features are kept in a file keyed by
 * the image file's device, inode, size and modification time and by the
 * weights' SHA-256, and read from there the next time; *cached counts those. */
int ug_inception_files(ug_inception *m, float *features, const char *const *paths, size_t n,
                       int batch, const char *cache, size_t *cached, ug_error *err);

/* The weights file to use: given (--inception), else $UGATIT_INCEPTION; with
 * neither, or a path that is not a file, an error saying where to get it. */
int ug_inception_path(const char **path, const char *given, ug_error *err);

#endif
