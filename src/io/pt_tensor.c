/* What both .pt readers (zip and legacy) check of a tensor against its
 * storage, and the conversion of a storage's elements to float32 (see pt.h). */
#include <string.h>

#include "io/bytes.h"
#include "io/pt.h"

int ug_pt_check_tensor(const ug_pt_item *it, uint64_t max_bytes, uint64_t *total,
                       uint64_t *numel_out, const char *name, ug_error *err)
{
    char nb[128];
    const char *tn = ug_printable(nb, sizeof nb, it->name);
    const ug_pk_obj *t = it->tensor, *s = t->storage;
    uint64_t esize = ug_pk_dtype_size(s->dtype);
    if ((uint64_t)s->i > UINT64_MAX / esize)
        return ug_fail(err, "%s: tensor '%s': storage numel %lld is absurd", name, tn,
                       (long long)s->i);
    uint64_t numel = 1;
    int overflow = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (t->size[d] < 0)
            return ug_fail(err, "%s: tensor '%s': size[%d] = %lld is negative", name, tn, d,
                           (long long)t->size[d]);
        if (t->size[d] > 0 && numel > (UINT64_MAX / 8) / (uint64_t)t->size[d])
            overflow = 1;
        else
            numel *= (uint64_t)t->size[d];
    }
    if (overflow && numel != 0)
        return ug_fail(err, "%s: tensor '%s': size is too large", name, tn);
    /* Row-major contiguous; a dimension of size 1 may have any stride. */
    uint64_t expect = 1;
    for (int d = t->ndim - 1; numel > 0 && d >= 0; d--) {
        if (t->size[d] != 1 && (t->stride[d] < 0 || (uint64_t)t->stride[d] != expect))
            return ug_fail(err, "%s: tensor '%s': stride[%d] = %lld, expected %llu (only "
                                "contiguous tensors are read)", name, tn, d,
                           (long long)t->stride[d], (unsigned long long)expect);
        expect *= (uint64_t)t->size[d];
    }
    if (t->offset < 0 || (uint64_t)t->offset > (uint64_t)s->i ||
        numel > (uint64_t)s->i - (uint64_t)t->offset)
        return ug_fail(err, "%s: tensor '%s': offset %lld + %llu elements exceed the storage's %lld",
                       name, tn, (long long)t->offset, (unsigned long long)numel,
                       (long long)s->i);
    /* The storage bound is the zip reader's, which reads a storage whole. */
    uint64_t out_bytes = numel * 4;
    if ((uint64_t)s->i * esize > max_bytes || out_bytes > max_bytes - *total)
        return ug_fail(err, "%s: tensor '%s': the tensors need more than the limit of %llu bytes",
                       name, tn, (unsigned long long)max_bytes);
    *total += out_bytes;
    *numel_out = numel;
    return 0;
}

void ug_pt_decode(float *dst, const unsigned char *raw, size_t count, ug_pk_dtype d)
{
    static const ug_st_dtype map[] = {UG_ST_F32, UG_ST_F16, UG_ST_BF16, UG_ST_F64};
    if (d != UG_PK_I64) {
        ug_st_decode(dst, raw, count, map[d]);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t u = 0;
        for (int b = 7; b >= 0; b--)
            u = (u << 8) | raw[8 * i + (size_t)b];
        int64_t v;
        memcpy(&v, &u, sizeof v);
        dst[i] = (float)v; /* as torch's .float(): rounded beyond 2^24 */
    }
}
