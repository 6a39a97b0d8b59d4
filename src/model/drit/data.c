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

/* Pillow's bicubic Resize((resize_size, resize_size)), the official 256 at
 * every crop size, then RandomCrop(crop_size) and a flip; the test transform
 * CenterCrop(crop_size) of the same resize. */
const ug_pipeline dr_pipeline = {.filter = UG_RESIZE_BICUBIC, .side = DR_RESIZE,
                                 .sampling = sampling};
