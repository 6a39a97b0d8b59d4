/* UNIT's (and MUNIT's) data: the official get_data_loader_folder. */
#include "model/unit/unit.h"

/* Two shuffled DataLoaders zipped: an epoch ends with the smaller domain,
 * so the larger one sees the first min(|A|, |B|) files of each of its
 * permutations. */
static void sampling(int d, const size_t n[2], ug_sampling *s)
{
    uint64_t fewest = n[0] < n[1] ? n[0] : n[1];
    *s = (ug_sampling){n[d], fewest, 0};
}

/* Flip, the shorter side to new_size (= the crop) with Pillow's bilinear,
 * a random crop; the test resize to the crop size. */
const ug_pipeline un_pipeline = {.filter = UG_RESIZE_BILINEAR, .keep_aspect = 1,
                                 .sampling = sampling};
