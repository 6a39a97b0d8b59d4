/* The two network builders of U-GAT-IT. Each registers the parameters with
 * the release's state_dict names and order and how each is initialised, and
 * builds the graph. Initialisation itself is separate (ug_net_init_default),
 * so a loaded checkpoint skips it. */
#ifndef UG_NETWORKS_H
#define UG_NETWORKS_H

#include "nn/net.h"
#include "ugatit.h"

/* ResnetGenerator of configuration c: ch base channels, n_res residual
 * blocks, img side (divisible by 4), light (global-average-pooled MLP input)
 * or full, and the ablation variant (decoder norm, CAM or not). */
int ug_build_generator(ug_net *net, const ug_config *c, ug_error *err);

/* Discriminator with n_layers layers (the release: 7 global, 5 local), with
 * or without CAM attention. */
int ug_build_discriminator(ug_net *net, int ch, int n_layers, int img, int cam, ug_error *err);

#endif
