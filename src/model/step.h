/* What a family's training step is made of (family.h's step): the trainer
 * it updates, and the moves every GAN step repeats: run a network forward
 * (with or without a tape), seed a loss's gradient at an output, take a tape
 * backward, hand the gradient at a discriminator's input back to the
 * generator that made it, and one Adam update of a network. Once one of
 * them fails, s->failed is set, err holds why, and the others do nothing, so
 * a step reads as its losses without a check after each call. */
#ifndef UG_STEP_H
#define UG_STEP_H

#include "core/spill.h"
#include "dist/comm.h"
#include "model/model.h"
#include "nn/tape.h"

struct ug_trainer {
    ug_model *m;
    ug_train_config tc;
    long step;         /* steps done */
    long failed_step;  /* the step that failed half-way, or 0 */
    float *adam_m[UG_MAX_NETS], *adam_v[UG_MAX_NETS]; /* backend memory, as the parameters,
                                                         or the files' mappings below */
    char *moments_dir;                  /* tc.moments_dir's copy */
    ug_spill moments[2][UG_MAX_NETS];   /* with it: the files of adam_m and adam_v, */
    size_t spill_chunk;                 /* streamed this many floats at a time */
    float *spill_buf;                   /* through these, spill_buf_floats in all */
    size_t spill_buf_floats;
    float *real[2]; /* the step's batches (A, B) uploaded into backend memory, for a
                       backend whose memory is not the host's */
    /* Data parallelism: tc.batch_size is the global batch, shared by
     * comm->size ranks of `batch` images each; a gradient being summed over
     * them is mapped to the host at grad_host[net]. */
    ug_comm *comm;
    int batch;
    float *grad_host[UG_MAX_NETS];
    int failed_everywhere; /* the failed step failed on every rank (a shared decision) */
    void *fam_state;       /* the family's training state (family.h), or NULL */
};

struct ug_step {
    ug_trainer *t;
    ug_arena *a;
    ug_error *err;
    double lr; /* this step's learning rate */
    int failed;
    unsigned reduced; /* networks whose gradient is already the mean over the ranks */
};

/* Network net on x (the trainer's batch), in training mode. */
int ug_step_fwd(ug_step *s, ug_tape *tape, int net, const float *x);
/* The same for a network of several inputs (x[i] for its i-th) and N images
 * (the trainer's batch, or a part of it), recorded for a backward pass when
 * grad != 0 (else as ug_step_fwd_nograd). */
int ug_step_fwd_n(ug_step *s, ug_tape *tape, int net, const float *const *x, int N, int grad);
/* The same without a backward pass (only its outputs are kept). */
int ug_step_fwd_nograd(ug_step *s, ug_tape *tape, int net, const float *x);
/* Whether the tape's network has CAM attention (an output UG_OUT_CAM). */
int ug_step_has_cam(const ug_tape *tape);
/* scale * loss(output NAME, target) seeded into the output's gradient;
 * returns the unscaled loss: mean squared error and binary cross entropy
 * with logits against a constant, L1 of the image output against a tensor. */
float ug_step_mse(ug_step *s, ug_tape *tape, const char *name, float target, float scale);
float ug_step_bce(ug_step *s, ug_tape *tape, const char *name, float target, float scale);
float ug_step_l1(ug_step *s, ug_tape *tape, const float *target, float scale);
/* The tape's backward pass: parameter gradients, and the input's gradient. */
void ug_step_bwd(ug_step *s, ug_tape *tape, int param_grads, int input_grad);
/* Adds the gradient at d's input "image" to the gradient of g's image output. */
void ug_step_pass_back(ug_step *s, const ug_tape *d, ug_tape *g);
/* The same from d's input named input. */
void ug_step_pass_back_from(ug_step *s, const ug_tape *d, const char *input, ug_tape *g);
/* Zeroes the gradients of the networks in the mask nets. */
void ug_step_zero_grad(ug_step *s, unsigned nets);
/* Fails the step when a loss is not finite (before any optimiser runs on it). */
int ug_step_finite(ug_step *s, const char *name, float loss);
/* Adam with weight decay on network net's trainable parameters, then its
 * clamped parameters projected into their ranges. With several ranks it
 * first averages net's gradient over them (waiting for the reduction that
 * ug_step_grads_done started, or running it). */
void ug_step_adam(ug_step *s, int net);
/* The same at learning rate lr as the count-th update of net's parameters
 * (a family whose networks are updated at different rates, DRIT's). */
void ug_step_adam_at(ug_step *s, int net, double lr, long count);
/* torch.nn.utils.clip_grad_norm_ of net's gradient: scaled by
 * max_norm / (norm + 1e-6) when that is below 1, norm the L2 norm of all of it.
 * With several ranks, of the gradient averaged over them (as one process on
 * the global batch would clip it). */
void ug_step_clip_grad_norm(ug_step *s, int net, double max_norm);
/* A hint: net's gradient is final for this step, so its reduction over the
 * ranks may start now and overlap the rest of the step. */
void ug_step_grads_done(ug_step *s, int net);
/* Completes the reductions a failed step left started (every rank started
 * the same ones). */
void ug_step_drain(ug_trainer *t);

/* Bytes of Adam's two moments of every network of m, what
 * ug_train_config.moments_in_memory_max is held against. */
size_t ug_trainer_moments_bytes(const ug_model *m);

/* ---- data-parallel training (the trainer's side; see dist/comm.h) ---- */

/* Trains on c's ranks from now on: each takes tc.batch_size / c->size
 * images per domain per step (an error unless it divides, or unless it is
 * the family's rank_batch where it has one), gradients and losses are
 * averaged over the ranks, and checkpoints record c->size. */
int ug_trainer_set_comm(ug_trainer *t, ug_comm *c, ug_error *err);
/* Images per domain per step on this rank. */
int ug_trainer_rank_batch(const ug_trainer *t);
/* Fails unless every rank holds the same weights, buffers (spectral-norm
 * vectors), Adam state, family training state and step: a collective. */
int ug_trainer_check_replicas(ug_trainer *t, ug_error *err);
/* After a failed ug_trainer_step: 1 when every rank failed it the same way
 * (a loss not finite on their mean), so each may end on its own; 0 when the
 * failure was this rank's alone (the others wait in a collective). */
int ug_trainer_failed_everywhere(const ug_trainer *t);

#endif
