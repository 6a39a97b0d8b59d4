/* Sample grids of the release (see grid.h). */
#include "report/grid.h"

#include "model/model.h"

#include <stdlib.h>
#include <string.h>

int ug_grid_init(ug_grid *g, int rows, int cols, int img, ug_error *err)
{
    memset(g, 0, sizeof *g);
    /* The caps keep every pixel offset well inside size_t and int. */
    if (rows < 1 || cols < 1 || img < 1 || rows > 64 || cols > 1024 || img > 4096 ||
        (size_t)cols * img > 65536)
        return ug_fail(err, "grid: bad size (%d rows x %d columns of %d px)", rows, cols, img);
    size_t n = (size_t)rows * img * (size_t)cols * img * 3;
    g->pix.rgb = calloc(n, 1);
    if (!g->pix.rgb)
        return ug_fail(err, "grid: out of memory (%zu bytes)", n);
    g->rows = rows;
    g->cols = cols;
    g->img = img;
    g->pix.w = cols * img;
    g->pix.h = rows * img;
    return 0;
}

void ug_grid_free(ug_grid *g)
{
    ug_image_free(&g->pix);
    memset(g, 0, sizeof *g);
}

static int check_tile(const ug_grid *g, int row, int col, ug_error *err)
{
    if (!g->pix.rgb)
        return ug_fail(err, "grid: not initialised");
    if (row < 0 || row >= g->rows || col < 0 || col >= g->cols)
        return ug_fail(err, "grid: tile (%d, %d) outside %d x %d", row, col, g->rows, g->cols);
    return 0;
}

/* Copies an img x img picture into its tile. */
static void blit(ug_grid *g, int row, int col, const ug_image *tile)
{
    size_t stride = (size_t)g->pix.w * 3, line = (size_t)g->img * 3;
    unsigned char *dst = g->pix.rgb + (size_t)row * g->img * stride + (size_t)col * line;
    for (int y = 0; y < g->img; y++)
        memcpy(dst + (size_t)y * stride, tile->rgb + (size_t)y * line, line);
}

int ug_grid_put_tensor(ug_grid *g, int row, int col, const float *chw, ug_error *err)
{
    if (check_tile(g, row, col, err))
        return -1;
    ug_image tile = {0};
    if (ug_tensor_to_image(&tile, chw, g->img, g->img))
        return ug_fail(err, "grid: out of memory");
    blit(g, row, col, &tile);
    ug_image_free(&tile);
    return 0;
}

int ug_grid_put_cam(ug_grid *g, int row, int col, const float *heatmap, int hh, int hw,
                    ug_error *err)
{
    if (check_tile(g, row, col, err))
        return -1;
    ug_image tile = {0};
    if (ug_cam_image(&tile, heatmap, hh, hw, g->img, err))
        return ug_error_prefix(err, "grid");
    blit(g, row, col, &tile);
    ug_image_free(&tile);
    return 0;
}

int ug_grid_rows(const ug_model *m)
{
    const ug_sample_row *rows;
    return ug_model_sample_rows(m, &rows);
}

/* The family's rows, computed in order: each translation once, its heat map
 * kept for the heat-map row that shows it. */
/* The translation of x with style code k of seed 0 (a multimodal family's row). */
static int styled(ug_model *m, ug_direction dir, const float *x, int k, float *out,
                  ug_error *err)
{
    const int size = ug_model_style_size(m);
    if (size == 0 || k < 0 || k > 1000)
        return ug_fail(err, "grid: a styled row for a %s model (style code %d)", m->fam->title,
                       k);
    float *codes = malloc((size_t)(k + 1) * size * sizeof *codes);
    if (!codes)
        return ug_fail(err, "grid: out of memory");
    int rc = ug_model_draw_styles(m, 0, k + 1, codes, err);
    if (rc == 0)
        rc = m->fam->translate_style(m, dir, x, 1, codes + (size_t)k * size, out, err);
    free(codes);
    return rc;
}

int ug_grid_column(ug_grid *g, int col, ug_model *m, ug_direction dir, const float *real,
                   ug_error *err)
{
    const ug_sample_row *rows;
    int n = ug_model_sample_rows(m, &rows), s = ug_model_config(m)->img_size, hs = s / 4;
    if (check_tile(g, 0, col, err))
        return -1;
    if (n > UG_GRID_MAX_ROWS)
        return ug_fail(err, "grid: %d sample rows, more than %d", n, UG_GRID_MAX_ROWS);
    if (g->rows != n || g->img != s)
        return ug_fail(err, "grid: a sample column needs %d rows of %d px (grid has %d of %d)",
                       n, s, g->rows, g->img);
    ug_direction other = dir == UG_A2B ? UG_B2A : UG_A2B;
    size_t plane = (size_t)3 * s * s, nh = (size_t)hs * hs;
    /* Per row: its image, and the heat map of the call that made it. */
    float *buf = malloc((size_t)n * (plane + nh) * sizeof *buf);
    if (!buf)
        return ug_fail(err, "grid: out of memory");
    int wants_heat[UG_GRID_MAX_ROWS] = {0}, rc = 0;
    for (int r = 0; r < n; r++)
        if (rows[r].kind == UG_ROW_HEATMAP && rows[r].src >= 0 && rows[r].src < n)
            wants_heat[rows[r].src] = 1;
    for (int r = 0; r < n && rc == 0; r++) {
        float *img = buf + (size_t)r * plane, *heat = buf + (size_t)n * plane + (size_t)r * nh;
        const ug_sample_row *row = &rows[r];
        if (row->kind == UG_ROW_REAL)
            memcpy(img, real, plane * sizeof *img);
        else if (row->kind == UG_ROW_IMAGE && row->src >= 0 && row->src < r)
            rc = ug_model_translate(m, row->other ? other : dir, buf + (size_t)row->src * plane,
                                    1, img, NULL, wants_heat[r] ? heat : NULL, err);
        else if (row->kind == UG_ROW_STYLED && row->src >= 0 && row->src < r)
            rc = styled(m, dir, buf + (size_t)row->src * plane, row->other, img, err);
        else if (row->kind != UG_ROW_HEATMAP || row->src <= r || row->src >= n)
            rc = ug_fail(err, "grid: sample row %d refers to row %d", r, row->src);
    }
    for (int r = 0; r < n && rc == 0; r++) {
        if (rows[r].kind == UG_ROW_HEATMAP)
            rc = ug_grid_put_cam(g, r, col, buf + (size_t)n * plane + (size_t)rows[r].src * nh,
                                 hs, hs, err);
        else
            rc = ug_grid_put_tensor(g, r, col, buf + (size_t)r * plane, err);
    }
    free(buf);
    return rc;
}

int ug_grid_save(const ug_grid *g, const char *path, ug_error *err)
{
    if (!g->pix.rgb)
        return ug_fail(err, "%s: grid not initialised", path);
    return ug_image_save_png(path, &g->pix, err);
}
