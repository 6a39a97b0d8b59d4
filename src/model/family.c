/* The list of model families (see family.h). */
#include "model/family.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/cyclegan/cyclegan.h"
#include "model/drit/drit.h"
#include "model/ugatit/ugatit.h"
#include "model/munit/munit.h"
#include "model/unit/unit.h"

static const ug_family *const families[] = {&ug_family_ugatit, &ug_family_cyclegan,
                                               &ug_family_unit, &ug_family_munit,
                                               &ug_family_drit};
#define N_FAMILIES (sizeof families / sizeof families[0])

static const ug_sample_row rows_cycle[3] = {
    {UG_ROW_REAL, 0, 0},
    {UG_ROW_IMAGE, 0, 0},
    {UG_ROW_IMAGE, 1, 1},
};

int ug_family_rows_cycle(const ug_config *c, const ug_sample_row **rows)
{
    (void)c;
    *rows = rows_cycle;
    return 3;
}

const ug_family *ug_family_at(int i)
{
    return i >= 0 && (size_t)i < N_FAMILIES ? families[i] : NULL;
}

const ug_family *ug_family_find(const char *name, ug_error *err)
{
    if (!name || !*name)
        return families[0];
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (strcmp(name, families[i]->name) == 0)
            return families[i];
    char known[256] = "";
    for (size_t i = 0; i < N_FAMILIES; i++) {
        size_t len = strlen(known);
        snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", families[i]->name);
    }
    ug_fail(err, "unknown model family '%s' (this build has: %s)", name, known);
    return NULL;
}

void ug_kv_line(ug_kv_lines *l, const char *key, const char *fmt, ...)
{
    if (l->n >= l->max)
        return;
    snprintf(l->kv[l->n][0], sizeof l->kv[l->n][0], "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->kv[l->n][1], sizeof l->kv[l->n][1], fmt, ap);
    va_end(ap);
    l->n++;
}
