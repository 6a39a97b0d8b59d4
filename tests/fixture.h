/* What the golden fixtures' metadata says about their tensors. */
#ifndef UG_TEST_FIXTURE_H
#define UG_TEST_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "io/safetensors.h"

/* Whether NET.NAME is in the fixture's list 'cancelled' (comma-separated): a
 * bias that feeds an InstanceNorm, whose exact gradient is 0. */
static inline int fixture_cancelled(const ug_st_file *f, const char *net, const char *name)
{
    const char *list = ug_st_meta(f, "cancelled");
    char key[256];
    int len = snprintf(key, sizeof key, "%s.%s", net, name);
    for (const char *p = list; p && (p = strstr(p, key)) != NULL; p += len)
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
            return 1;
    return 0;
}

#endif
