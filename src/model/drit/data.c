/* DRIT's data: the official dataset_unpair and its transforms. */
#include "model/drit/drit.h"

/* An epoch is max(|A|, |B|) items: the larger domain (A when they are
 * equal) in the sampler's shuffled order, the other drawn uniformly by
 * random.randint. */
static void sampling(int d, const size_t n[2], ug_sampling *s)
{
    int larger = n[0] >= n[1] ? 0 : 1;
    *s = (ug_sampling){n[larger], n[larger], d != larger};
}

/* Pillow's bicubic Resize((256, 256)), then RandomCrop(216) and a flip; the
 * test transform CenterCrop(216) of the same resize (a margin of 40 at every
 * crop size, as at the official 216). */
const ug_pipeline dr_pipeline = {UG_RESIZE_BICUBIC, DR_RESIZE - DR_CROP, 0,
                                 DR_RESIZE - DR_CROP, sampling};
