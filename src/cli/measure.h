/* KID of a model's translations of a data set's test images: A2B of testA
 * against the real testB and B2A of testB against testA, one row of the
 * paper's tables. ugatit eval measures a checkpoint once; ugatit train
 * --kid_freq measures the model it trains every N steps, so the real
 * images' features are computed once, when the measure is opened. */
#ifndef UG_CLI_MEASURE_H
#define UG_CLI_MEASURE_H

#include "data/dataset.h"
#include "eval/inception.h"
#include "eval/kid.h"
#include "ugatit.h"

typedef struct ug_measure {
    ug_inception *net; /* borrowed */
    ug_kid_opts ko;
    int batch;          /* images per forward pass */
    ug_filelist test[2]; /* testA, testB */
    float *real[2];      /* their features */
    size_t cached;       /* how many of them came from the features cache */
} ug_measure;

/* Lists root/testA and root/testB (at least 2 images each) and computes
 * their features, through cache (a folder; NULL: none). */
int ug_measure_open(ug_measure *ms, ug_inception *net, const ug_kid_opts *ko, int batch,
                    const char *root, const char *cache, ug_error *err);

/* r[0]: KID of m's A2B translations of testA against testB; r[1]: of its
 * B2A translations of testB against testA. Each translation is rounded to
 * 8 bits as `ugatit translate` writes it. */
int ug_measure_model(ug_measure *ms, ug_model *m, ug_kid_result r[2], ug_error *err);

/* The sets' sizes of direction d: real images, translations. */
size_t ug_measure_real(const ug_measure *ms, int d);
size_t ug_measure_fake(const ug_measure *ms, int d);

void ug_measure_close(ug_measure *ms);

#endif
