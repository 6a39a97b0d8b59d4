/* Inception features of image files, a batch at a time, with an optional
 * cache (see inception.h). A cache entry is one file of 2048 little-endian
 * float32 named by the SHA-256 of what identifies the image and the network:
 * the file's device, inode, size and modification time, and the weights'
 * SHA-256; any other size or a non-finite value is a miss, and is written
 * again. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sha256.h"
#include "eval/inception.h"
#include "eval/preprocess.h"
#include "io/atomic.h"
#include "io/image.h"

#define ENTRY_BYTES (UG_INCEPTION_DIM * 4)

/* The entry's path for image path, into out; -1 when the image cannot be stat'ed. */
static int entry_path(char *out, size_t n, const char *cache, const char *path,
                      const char *weights_sha, ug_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ug_fail(err, "%s: %s", path, strerror(errno));
    char key[512];
    int len = snprintf(key, sizeof key,
                       "ugatit inception features 1\n%llu %llu %lld %lld.%09ld\n%s\n",
                       (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                       (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                       (long)st.st_mtim.tv_nsec, weights_sha);
    ug_sha256 s;
    unsigned char d[32];
    ug_sha256_init(&s);
    ug_sha256_update(&s, key, (size_t)len);
    ug_sha256_final(&s, d);
    size_t k = (size_t)snprintf(out, n, "%s/", cache);
    for (int i = 0; i < 32 && k + 2 < n; i++, k += 2)
        snprintf(out + k, n - k, "%02x", d[i]);
    snprintf(out + k, n > k ? n - k : 0, ".f32");
    return 0;
}

/* 1 when the entry holds a whole finite feature vector. */
static int cache_read(const char *entry, float *f)
{
    FILE *fp = fopen(entry, "rb");
    if (!fp)
        return 0;
    unsigned char b[ENTRY_BYTES + 1];
    size_t got = fread(b, 1, sizeof b, fp);
    fclose(fp);
    if (got != ENTRY_BYTES)
        return 0;
    for (int i = 0; i < UG_INCEPTION_DIM; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&f[i], &u, 4);
        if (!isfinite(f[i]))
            return 0;
    }
    return 1;
}

static int cache_write(const char *entry, const float *f, ug_error *err)
{
    unsigned char b[ENTRY_BYTES];
    for (int i = 0; i < UG_INCEPTION_DIM; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        for (int j = 0; j < 4; j++)
            b[4 * i + j] = (unsigned char)(u >> (8 * j));
    }
    ug_atomic a;
    if (ug_atomic_open(&a, entry, err) < 0)
        return -1;
    ug_atomic_write(&a, b, sizeof b);
    return ug_atomic_commit(&a, err);
}

int ug_inception_files(ug_inception *m, float *features, const char *const *paths, size_t n,
                       int batch, const char *cache, size_t *cached, ug_error *err)
{
    const size_t S = UG_INCEPTION_SIZE, per = 3 * S * S;
    *cached = 0;
    if (batch < 1)
        return ug_fail(err, "internal: Inception batch of %d", batch);
    if (cache && mkdir(cache, 0777) != 0 && errno != EEXIST)
        return ug_fail(err, "%s: cannot make the features cache folder: %s", cache,
                       strerror(errno));
    float *x = malloc((size_t)batch * per * sizeof *x);
    float *fb = malloc((size_t)batch * UG_INCEPTION_DIM * sizeof *fb);
    size_t *todo = malloc((n ? n : 1) * sizeof *todo), m_todo = 0;
    char e[4096];
    int rc = 0;
    if (!x || !fb || !todo)
        rc = ug_fail(err, "out of memory for a batch of %d images", batch);
    /* The images the cache does not hold. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (cache && (rc = entry_path(e, sizeof e, cache, paths[i], ug_inception_sha256(m),
                                      err)) == 0 &&
            cache_read(e, features + i * UG_INCEPTION_DIM))
            (*cached)++;
        else if (rc == 0)
            todo[m_todo++] = i;
    }
    for (size_t t = 0; t < m_todo && rc == 0; t += (size_t)batch) {
        int k = m_todo - t < (size_t)batch ? (int)(m_todo - t) : batch;
        for (int j = 0; j < k && rc == 0; j++) {
            ug_image img = {0};
            rc = ug_image_load(&img, paths[todo[t + j]], err) < 0 ||
                         ug_inception_prepare(x + (size_t)j * per, &img, err) < 0
                     ? -1
                     : 0;
            ug_image_free(&img);
        }
        if (rc == 0)
            rc = ug_inception_features(m, fb, x, k, err);
        for (int j = 0; j < k && rc == 0; j++) {
            float *row = features + todo[t + j] * UG_INCEPTION_DIM;
            memcpy(row, fb + (size_t)j * UG_INCEPTION_DIM, ENTRY_BYTES);
            if (cache && (rc = entry_path(e, sizeof e, cache, paths[todo[t + j]],
                                          ug_inception_sha256(m), err)) == 0)
                rc = cache_write(e, row, err);
        }
    }
    free(x);
    free(fb);
    free(todo);
    return rc;
}
