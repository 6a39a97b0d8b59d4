/* CycleGAN's data: the official unaligned dataset and resize_and_crop. */
#include "model/cyclegan/cyclegan.h"

/* An epoch is max(|A|, |B|) items; item i reads A[i % |A|] in the
 * DataLoader's shuffled order and a B drawn uniformly by random.randint. */
static void sampling(int d, const size_t n[2], ug_sampling *s)
{
    uint64_t most = n[0] > n[1] ? n[0] : n[1];
    *s = (ug_sampling){most, most, d == 1};
}

/* Pillow's bicubic to 286 for a 256 crop (load_size = crop + 30), flip;
 * the test resize to the crop size. */
const ug_pipeline cg_pipeline = {.filter = UG_RESIZE_BICUBIC, .margin = 30,
                                 .sampling = sampling};
