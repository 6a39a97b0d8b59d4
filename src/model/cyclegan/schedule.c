/* CycleGAN's official training configuration and learning-rate policy
 * 'linear' (networks.get_scheduler): in epoch e (1-based) the rate is
 * lr * (1 - max(0, e + 1 - n_epochs) / (n_epochs_decay + 1)), so constant
 * for n_epochs - 1 epochs, then down to exactly 0 in the last one. */
#include "model/cyclegan/cyclegan.h"

void cg_train_defaults(ug_train_config *tc)
{
    tc->lr = 2e-4;
    tc->weight_decay = 0;
    tc->adv_weight = 1;
    tc->cycle_weight = 10;   /* lambda_A = lambda_B */
    tc->identity_weight = 0.5f; /* lambda_identity, a share of the cycle weight */
    tc->cam_weight = 0;
}

/* Epochs of tc->epoch_steps steps (--n_epochs/--n_epochs_decay), or, with
 * epoch_steps 0 (--iteration), one-step epochs whose second half decays. */
double cg_lr(const ug_train_config *tc, long step)
{
    if (!tc->decay_flag)
        return tc->lr;
    long epoch_steps = tc->epoch_steps > 0 ? tc->epoch_steps : 1;
    long decay = tc->epoch_steps > 0 ? tc->n_epochs_decay : tc->iteration - tc->iteration / 2;
    long n_epochs = tc->iteration / epoch_steps - decay;
    long e = (step - 1) / epoch_steps + 1, past = e + 1 - n_epochs;
    double lr = tc->lr * (1.0 - (double)(past > 0 ? past : 0) / (double)(decay + 1));
    return lr > 0 ? lr : 0;
}
