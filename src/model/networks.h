/* The two network builders of U-GAT-IT. Each registers the parameters with
 * the release's state_dict names and order, sets the constant initial values
 * (rho, ILN gamma/beta), and builds the graph. Random initialisation is
 * separate (ug_net_init_default), so a loaded checkpoint skips it. */
#ifndef UG_NETWORKS_H
#define UG_NETWORKS_H

#include "nn/net.h"

/* ResnetGenerator: ch base channels, n_res residual blocks, img side
 * (divisible by 4), light (global-average-pooled MLP input) or full. */
int ug_build_generator(ug_net *net, int ch, int n_res, int img, int light, ug_error *err);

/* Discriminator with n_layers layers (the release: 7 global, 5 local). */
int ug_build_discriminator(ug_net *net, int ch, int n_layers, int img, ug_error *err);

#endif
