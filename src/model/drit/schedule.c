/* DRIT's official training configuration and schedule (options.py,
 * train.py, model.py): lr 1e-4 (the content discriminator's 1e-4 / 2.5),
 * weight decay 1e-4, batches of 2, lr_policy lambda: epoch ep (from 0) runs
 * at lr * (1 - max(0, ep - n_ep_decay) / (n_ep - n_ep_decay + 1)), stepped
 * after each epoch, so never 0. Within an epoch, iteration it (from 0) is a
 * full one when (it + 1) % d_iter == 0 or it >= len(loader) - 2; the others
 * train the content discriminator only. */
#include "model/drit/drit.h"

void dr_train_defaults(ug_train_config *tc)
{
    tc->batch_size = DR_BATCH;
    tc->lr = 1e-4;
    tc->weight_decay = 1e-4;
    tc->adv_weight = 1;
    tc->cycle_weight = 10;
    tc->identity_weight = 0;
    tc->cam_weight = 0;
    tc->d_iter = 3;
    tc->no_ms = 0;
}

/* Epochs of tc->epoch_steps steps, n_ep = iteration / epoch_steps; without
 * epochs (--iteration), one-step epochs decaying after half the steps. */
double dr_lr(const ug_train_config *tc, long step)
{
    if (!tc->decay_flag)
        return tc->lr;
    const long epoch_steps = tc->epoch_steps > 0 ? tc->epoch_steps : 1;
    const long n_ep = tc->iteration / epoch_steps;
    const long n_ep_decay = tc->epoch_steps > 0 ? tc->n_ep_decay : tc->iteration / 2;
    const long ep = (step - 1) / epoch_steps, past = ep - n_ep_decay;
    return tc->lr * (1.0 - (double)(past > 0 ? past : 0) / (double)(n_ep - n_ep_decay + 1));
}

int dr_full_iteration(const ug_train_config *tc, long step)
{
    if (tc->epoch_steps <= 0)
        return step % tc->d_iter == 0;
    const long it = (step - 1) % tc->epoch_steps;
    return (it + 1) % tc->d_iter == 0 || it >= tc->epoch_steps - 2;
}
