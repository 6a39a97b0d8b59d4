/* UNIT's official training configuration (configs/unit_*.yaml) and its
 * lr_policy 'step': StepLR(step_size, gamma) stepped at the start of every
 * iteration, so iteration i (from 0) runs at lr gamma^floor((i + 1) /
 * step_size), the first decay one iteration early (train.py). */
#include <math.h>

#include "model/unit/unit.h"

void un_train_defaults(ug_train_config *tc)
{
    tc->lr = 1e-4;
    tc->weight_decay = 1e-4;
    tc->adv_weight = 1;    /* gan_w */
    tc->cycle_weight = 10; /* recon_x_cyc_w */
    tc->identity_weight = 0;
    tc->cam_weight = 0;
    tc->recon_x_w = 10;
    tc->recon_kl_w = 0.01f;
    tc->recon_kl_cyc_w = 0.01f;
    tc->step_size = 100000;
    tc->gamma = 0.5;
}

/* Our step s (from 1) is the official iteration s - 1. */
double un_lr(const ug_train_config *tc, long step)
{
    if (!tc->decay_flag || tc->step_size < 1)
        return tc->lr;
    return tc->lr * pow(tc->gamma, (double)(step / tc->step_size));
}
