/* SHA-256 (src/core/sha256.c) on the FIPS 180-4 / NIST example messages,
 * split across updates at every offset, and on a file. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/sha256.h"
#include "files.h"

static void hex_of(const unsigned char d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void digest(const char *msg, size_t n, size_t split, char out[65])
{
    ug_sha256 s;
    unsigned char d[32];
    ug_sha256_init(&s);
    ug_sha256_update(&s, msg, split);
    ug_sha256_update(&s, msg + split, n - split);
    ug_sha256_final(&s, d);
    hex_of(d, out);
}

int main(void)
{
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
         "nopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char out[65];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].msg);
        for (size_t split = 0; split <= n; split++) {
            digest(v[i].msg, n, split, out);
            CHECK(strcmp(out, v[i].hex) == 0, "'%s' split at %zu: %s", v[i].msg, split, out);
        }
    }
    /* A million 'a': many blocks through the 64 KiB file reader. */
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    char path[] = "/tmp/ug_sha256_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    write_bytes(path, a, 1000000);
    ug_error err = {{0}};
    CHECK(ug_sha256_file(path, out, &err) == 0, "%s", err.msg);
    CHECK(strcmp(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
          "a million a: %s", out);
    remove(path);
    CHECK(ug_sha256_file("/nonexistent/w.pth", out, &err) < 0 &&
              strstr(err.msg, "/nonexistent/w.pth"),
          "missing file: '%s'", err.msg);
    free(a);
    return check_summary();
}
