/* Datasets in the release's layout, DATASET/{trainA,trainB,testA,testB}:
 * finding the dataset folder, listing its images, and loading a test image. */
#ifndef UG_DATA_DATASET_H
#define UG_DATA_DATASET_H

#include <stddef.h>

#include "core/error.h"
#include "data/transform.h"
#include "io/image.h"

/* The images of one folder. paths[i] is dir joined with the path relative to
 * it; the list is sorted by strcmp on the relative paths. */
typedef struct ug_filelist {
    char *dir;    /* the folder as given */
    char **paths; /* n paths */
    size_t n;
} ug_filelist;

/* Lists every file under dir, recursively (symbolic links to folders are not
 * followed, as os.walk), whose name ends in .jpg, .jpeg or .png, in any case.
 * Errors: "DIR: no such folder", "DIR: no images (.jpg, .jpeg, .png)". On
 * failure *out is left empty. */
int ug_dataset_list(ug_filelist *out, const char *dir, ug_error *err);

/* paths[i] relative to dir ("photos/" and "photos//" as well as "photos"). */
const char *ug_filelist_rel(const ug_filelist *l, size_t i);

/* Frees the list and zeroes it; safe on a zeroed list. */
void ug_filelist_free(ug_filelist *l);

/* Deep copy (for owners that outlive the original). */
int ug_filelist_copy(ug_filelist *out, const ug_filelist *in, ug_error *err);

/* The root folder of a dataset argument, written into out (n bytes): like the
 * release, NAME means dataset/NAME relative to the working directory; if that
 * does not exist but name_or_path is itself a folder, that folder is used.
 * Error "NAME: no such dataset (neither dataset/NAME nor NAME is a folder)". */
int ug_dataset_resolve(char *out, size_t n, const char *name_or_path, ug_error *err);

/* The dataset's display name: the last path component of root, trailing
 * slashes ignored ("dataset/selfie2anime/" -> "selfie2anime"; "/" -> "/"). */
void ug_dataset_name(char *out, size_t n, const char *root);

/* root joined with one of "trainA", "trainB", "testA", "testB". */
int ug_dataset_subdir(char *out, size_t n, const char *root, const char *sub, ug_error *err);

/* The test transform of one file (the model family's pipeline: Resize((img,
 * img)) with Pillow's filter, or DRIT's resize and centre crop), then
 * ToTensor + Normalize(0.5, 0.5) into chw (3 x img x img floats in [-1, 1]). */
int ug_load_test_image(float *chw, const char *path, int img, ug_pipeline pipe,
                       ug_error *err);

#endif
