/* Format dispatch for tensor files (see tensor_file.h). */
#include "io/tensor_file.h"

#include <stdio.h>
#include <string.h>

#include "io/file.h"
#include "io/pt.h"

/* Reads up to 4 first bytes; *n is how many there were. */
static int head(const char *path, unsigned char b[4], size_t *n, ug_error *err)
{
    FILE *fp = ug_fopen_read(path, NULL, err);
    if (!fp)
        return -1;
    *n = fread(b, 1, 4, fp);
    fclose(fp);
    return 0;
}

/* "PK\3\4" starts a zip with entries, "PK\5\6" an empty one. */
static int is_zip(const unsigned char b[4], size_t n)
{
    return n == 4 && b[0] == 'P' && b[1] == 'K' &&
           ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6));
}

int ug_tensor_file_is_pt(const char *path, ug_error *err)
{
    unsigned char b[4];
    size_t n = 0;
    return head(path, b, &n, err) < 0 ? -1 : is_zip(b, n) || ug_pt_is_legacy(b, n);
}

int ug_tensor_file_open(ug_st_file **out, const char *path, const char *single_group,
                        ug_error *err)
{
    *out = NULL;
    unsigned char b[4];
    size_t n = 0;
    if (head(path, b, &n, err) < 0)
        return -1;
    if (is_zip(b, n))
        return ug_pt_open(out, path, single_group, err);
    if (ug_pt_is_legacy(b, n))
        return ug_pt_legacy_open(out, path, single_group, err);
    return ug_st_open(out, path, err);
}
