/* From an unpickled torch.save object to a flat list of named tensors (see
 * pt.h). Only two shapes are accepted, walked to a fixed depth of two, so
 * cycles or sharing in a hostile pickle cannot make this loop or blow up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"
#include "io/pt.h"

/* Whether dict d has the string key name. */
static int has_key(const ug_pk_obj *d, const char *name)
{
    for (size_t k = 0; 2 * k < d->n; k++)
        if (d->items[2 * k]->type == UG_PK_STR && strcmp(d->items[2 * k]->s, name) == 0)
            return 1;
    return 0;
}

/* What a checkpoint may hold besides its networks, and is skipped: counters
 * (DRIT's 'ep', 'total_it') and optimiser states ({'state', 'param_groups'}). */
static int skipped(const ug_pk_obj *v)
{
    if (v->type == UG_PK_INT || v->type == UG_PK_FLOAT || v->type == UG_PK_BOOL ||
        v->type == UG_PK_NONE)
        return 1;
    return v->type == UG_PK_DICT && v->n == 4 && has_key(v, "state") &&
           has_key(v, "param_groups");
}

static int all_tensors(const ug_pk_obj *d)
{
    for (size_t k = 0; 2 * k < d->n; k++)
        if (d->items[2 * k + 1]->type != UG_PK_TENSOR)
            return 0;
    return 1;
}

static int add(ug_pt_item **items, size_t *n, size_t *cap, const char *group, const char *key,
               const ug_pk_obj *t)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        ug_pt_item *p = realloc(*items, c * sizeof *p);
        if (!p)
            return -1;
        *items = p;
        *cap = c;
    }
    size_t gl = strlen(group), kl = strlen(key);
    char *name = malloc(gl + kl + 2);
    if (!name)
        return -1;
    memcpy(name, group, gl);
    name[gl] = '.';
    memcpy(name + gl + 1, key, kl + 1);
    (*items)[*n].name = name;
    (*items)[*n].tensor = t;
    (*n)++;
    return 0;
}

int ug_pt_flatten(const ug_pk_obj *root, ug_pt_item **items, size_t *n, const char *name,
                  const char *single_group, ug_error *err)
{
    *items = NULL;
    *n = 0;
    size_t cap = 0;
    char a[96], b[96];
    if (root->type != UG_PK_DICT)
        return ug_fail(err, "%s: the pickle holds a %s, not a dict of tensors", name,
                       ug_pk_type_name(root->type));
    int single = root->n > 0 && all_tensors(root);
    if (single && !single_group)
        return ug_fail(err, "%s: a single state_dict, and no network it would belong to", name);
    for (size_t k = 0; 2 * k < root->n; k++) {
        if (root->items[2 * k]->type != UG_PK_STR)
            return ug_fail(err, "%s: a key of the dict is a %s, not a name", name,
                           ug_pk_type_name(root->items[2 * k]->type));
        const char *key = root->items[2 * k]->s;
        const ug_pk_obj *v = root->items[2 * k + 1];
        if (!single && skipped(v))
            continue;
        if (single) {
            if (add(items, n, &cap, single_group, key, v) < 0)
                return ug_fail(err, "%s: out of memory", name);
            continue;
        }
        if (v->type != UG_PK_DICT)
            return ug_fail(err, "%s: '%s' is a %s, neither a state_dict nor a tensor", name,
                           ug_printable(a, sizeof a, key), ug_pk_type_name(v->type));
        for (size_t j = 0; 2 * j < v->n; j++) {
            const ug_pk_obj *t = v->items[2 * j + 1];
            if (v->items[2 * j]->type != UG_PK_STR)
                return ug_fail(err, "%s: a key of '%s' is a %s, not a name", name,
                               ug_printable(a, sizeof a, key),
                               ug_pk_type_name(v->items[2 * j]->type));
            if (t->type != UG_PK_TENSOR)
                return ug_fail(err, "%s: '%s.%s' is a %s, not a tensor", name,
                               ug_printable(a, sizeof a, key),
                               ug_printable(b, sizeof b, v->items[2 * j]->s),
                               ug_pk_type_name(t->type));
            if (add(items, n, &cap, key, v->items[2 * j]->s, t) < 0)
                return ug_fail(err, "%s: out of memory", name);
        }
    }
    if (*n == 0)
        return ug_fail(err, "%s: the pickle holds no tensors", name);
    return 0;
}

void ug_pt_items_free(ug_pt_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i].name);
    free(items);
}
