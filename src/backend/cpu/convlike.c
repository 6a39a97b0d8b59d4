#include "backend/cpu/convlike.h"

const ug_convlike_op ug_convlike_conv = {"convolution", dnnl_convolution_forward_desc_init,
                                         dnnl_convolution_backward_data_desc_init,
                                         dnnl_convolution_backward_weights_desc_init};
const ug_convlike_op ug_convlike_deconv = {"transposed convolution",
                                           dnnl_deconvolution_forward_desc_init,
                                           dnnl_deconvolution_backward_data_desc_init,
                                           dnnl_deconvolution_backward_weights_desc_init};

ug_dnnl_prim *ug_convlike_prim(ug_kctx *k, const int key[UG_DNNL_KEY_LEN],
                               const ug_convlike_op *op, const ug_convlike_desc *d, int quiet,
                               const char *what, ug_error *err)
{
    ug_dnnl_prim *p = NULL;
    /* The primitive's layouts (src_in, wei_in, dst_in) and the caller's
     * (the cache entry reorders between them where they differ). */
    dnnl_memory_desc_t src_in, wei_in, dst_in, src_u, wei_u, bias_u, dst_u;
    dnnl_convolution_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t st = dnnl_success;
    const int bias = d->pass == UG_PASS_FWD_BIAS;

    if (ug_dnnl_attr_create(&attr, err) < 0)
        return NULL;
    if ((st = dnnl_memory_desc_init_by_tag(&src_in, 4, d->src, d->in_type, d->act)) ||
        (st = dnnl_memory_desc_init_by_tag(&wei_in, 4, d->wei, d->in_type, d->wei_layout)) ||
        (st = dnnl_memory_desc_init_by_tag(&dst_in, 4, d->dst, dnnl_f32, d->act)) ||
        (st = dnnl_memory_desc_init_by_tag(&src_u, 4, d->src, dnnl_f32, d->src_user)) ||
        (st = dnnl_memory_desc_init_by_tag(&wei_u, 4, d->wei, dnnl_f32, d->wei_user)) ||
        (st = dnnl_memory_desc_init_by_tag(&bias_u, 1, d->bias, dnnl_f32, dnnl_x)) ||
        (st = dnnl_memory_desc_init_by_tag(&dst_u, 4, d->dst, dnnl_f32, d->dst_user)))
        goto dnnl_fail;
    /* The backward primitives need the forward one as a hint. */
    if ((st = op->fwd(&fd, dnnl_forward_training, d->alg, &src_in, &wei_in,
                      bias ? &bias_u : NULL, &dst_in, d->strides, d->pad_l, d->pad_r)) ||
        (st = dnnl_primitive_desc_create(&fpd, &fd, attr, ug_kctx_engine(k), NULL)))
        goto dnnl_fail;

    if (d->pass == UG_PASS_FWD || d->pass == UG_PASS_FWD_BIAS) {
        const ug_dnnl_arg_spec a[] = {{DNNL_ARG_SRC, 0, src_u},
                                      {DNNL_ARG_WEIGHTS, 0, wei_u},
                                      {DNNL_ARG_DST, 1, dst_u},
                                      {DNNL_ARG_BIAS, 0, bias_u}};
        p = ug_dnnl_add(k, key, fpd, a, bias ? 4 : 3, err);
    } else if (d->pass == UG_PASS_BWD_DATA) {
        const ug_dnnl_arg_spec a[] = {{DNNL_ARG_DIFF_DST, 0, dst_u},
                                      {DNNL_ARG_WEIGHTS, 0, wei_u},
                                      {DNNL_ARG_DIFF_SRC, 1, src_u}};
        if ((st = op->bwd_data(&bd, d->alg, &src_in, &wei_in, &dst_in, d->strides, d->pad_l,
                               d->pad_r)) ||
            (st = dnnl_primitive_desc_create(&bpd, &bd, attr, ug_kctx_engine(k), fpd)))
            goto dnnl_fail;
        p = ug_dnnl_add(k, key, bpd, a, 3, err);
    } else {
        const ug_dnnl_arg_spec a[] = {{DNNL_ARG_SRC, 0, src_u},
                                      {DNNL_ARG_DIFF_DST, 0, dst_u},
                                      {DNNL_ARG_DIFF_WEIGHTS, 1, wei_u}};
        if ((st = op->bwd_weights(&bd, d->alg, &src_in, &wei_in, NULL, &dst_in, d->strides,
                                  d->pad_l, d->pad_r)) ||
            (st = dnnl_primitive_desc_create(&bpd, &bd, attr, ug_kctx_engine(k), fpd)))
            goto dnnl_fail;
        p = ug_dnnl_add(k, key, bpd, a, 3, err);
    }
    goto done;
dnnl_fail:
    if (!(quiet && st == dnnl_unimplemented))
        ug_fail(err, "oneDNN: cannot create %s (pass %d, %s): status %d", op->name, d->pass,
                what, (int)st);
    p = NULL;
done:
    if (bpd)
        dnnl_primitive_desc_destroy(bpd);
    if (fpd)
        dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_attr_destroy(attr);
    return p;
}

int ug_convlike_exec(ug_kctx *k, ug_dnnl_prim *p, int pass, const ug_convlike_args *a,
                     ug_error *err)
{
    if (pass == UG_PASS_BWD_DATA) {
        const void *ptrs[] = {a->dout, a->w, a->din};
        const int accs[] = {0, 0, a->acc != 0};
        return ug_dnnl_exec(k, p, ptrs, accs, err);
    }
    if (pass == UG_PASS_BWD_WEIGHTS) {
        const void *ptrs[] = {a->in, a->dout, a->dw};
        const int accs[] = {0, 0, 1}; /* parameter gradients always accumulate */
        return ug_dnnl_exec(k, p, ptrs, accs, err);
    }
    const void *ptrs[] = {a->in, a->w, a->out, a->b};
    const int accs[] = {0, 0, 0, 0};
    return ug_dnnl_exec(k, p, ptrs, accs, err);
}
