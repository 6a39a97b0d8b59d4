/* The release's sample grids: rows x cols tiles of img x img RGB pixels,
 * filled tile by tile from [-1, 1] tensors or heat maps, saved as one PNG.
 * A training grid is 7 rows (real, CAM(A2A), A2A, CAM(A2B), A2B,
 * CAM(A2B2A), A2B2A), or 4 without the CAM rows for a generator without
 * attention (the ablation), by 10 columns (5 training + 5 test samples); the
 * test strip of `ugatit test` is the same with one column. */
#ifndef UG_REPORT_GRID_H
#define UG_REPORT_GRID_H

#include "io/image.h"
#include "ugatit.h"

/* The rows of m's sample columns (its family's ug_model_sample_rows: for
 * U-GAT-IT 7, or 4 without CAM), at most UG_GRID_MAX_ROWS. */
#define UG_GRID_MAX_ROWS 16
int ug_grid_rows(const ug_model *m);

typedef struct ug_grid {
    int rows, cols, img;
    ug_image pix; /* (cols * img) wide, (rows * img) high, black at first */
} ug_grid;

/* Allocates a black grid. */
int ug_grid_init(ug_grid *g, int rows, int cols, int img, ug_error *err);
/* Frees the pixels and zeroes the struct; safe on a zeroed struct. */
void ug_grid_free(ug_grid *g);

/* Puts a 3 x img x img planar tensor in [-1, 1] (converted as the release's
 * denorm * 255) at tile (row, col). */
int ug_grid_put_tensor(ug_grid *g, int row, int col, const float *chw, ug_error *err);

/* Puts the release's JET picture of an hh x hw heat map, resized to
 * img x img, at tile (row, col). */
int ug_grid_put_cam(ug_grid *g, int row, int col, const float *heatmap, int hh, int hw,
                    ug_error *err);

/* Fills column col (the grid needs ug_grid_rows(m) rows and m's img_size) for
 * one real image of the source domain of dir, in evaluation mode, row by
 * row as the family's sample rows say. */
int ug_grid_column(ug_grid *g, int col, ug_model *m, ug_direction dir, const float *real,
                   ug_error *err);

/* Writes the grid as an RGB PNG, atomically. */
int ug_grid_save(const ug_grid *g, const char *path, ug_error *err);

#endif
