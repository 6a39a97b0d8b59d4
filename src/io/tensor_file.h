/* Opening a file of named tensors in whichever format it is: a PyTorch .pt
 * (a zip, or the legacy format before PyTorch 1.6) or safetensors, told apart
 * by the first bytes, not the name. */
#ifndef UG_IO_TENSOR_FILE_H
#define UG_IO_TENSOR_FILE_H

#include "core/error.h"
#include "io/safetensors.h"

/* Like ug_st_open, for either format; .pt files have no metadata, and one
 * holding a single state_dict gets its tensors under single_group (see pt.h). */
int ug_tensor_file_open(ug_st_file **out, const char *path, const char *single_group,
                        ug_error *err);

/* 1 if path starts like a .pt (a zip archive or a legacy torch.save file),
 * 0 if not, -1 on error. */
int ug_tensor_file_is_pt(const char *path, ug_error *err);

#endif
