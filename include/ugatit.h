/* ugatit: U-GAT-IT unsupervised image-to-image translation (Kim et al., ICLR
 * 2020), numerically the same network and training step as the authors'
 * PyTorch release. Public interface of libugatit. */
#ifndef UGATIT_H
#define UGATIT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Every function that can fail returns 0 on success and -1 on failure, with a
 * one-line message in the ug_error the caller passed (which may be NULL). */
typedef struct ug_error {
    char msg[512];
} ug_error;

#ifdef __cplusplus
}
#endif

#endif
