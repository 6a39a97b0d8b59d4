#include "io/bytes.h"

#include <stdint.h>
#include <string.h>

const char *ug_printable_n(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (k + 4 >= cap && n > k)
        memcpy(out + k, "...", 3), k += 3;
    out[k] = '\0';
    return out;
}

const char *ug_printable(char *out, size_t cap, const char *s)
{
    return ug_printable_n(out, cap, s, strlen(s));
}

int ug_host_is_little_endian(void)
{
    uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}
