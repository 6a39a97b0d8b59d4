/* MUNIT's training style codes (torch.randn(B, style_dim, 1, 1) in
 * dis_update and gen_update), drawn by the generator of UNIT's latent
 * noise on the trainer's seed: training state, saved in checkpoints
 * (un_noise_save, un_noise_load), so a resumed run draws what the
 * uninterrupted one would have. */
#include "model/munit/munit.h"
#include "model/unit/unit.h"

int mu_styles_new(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err)
{
    const size_t cap = (size_t)tc->batch_size * (size_t)ug_model_config(m)->style_dim;
    return un_noise_new_n(state, cap, tc->seed, err);
}
