#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ug_fail(ug_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int ug_error_prefix(ug_error *err, const char *fmt, ...)
{
    if (err) {
        char old[sizeof err->msg];
        memcpy(old, err->msg, sizeof old);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        size_t used = strlen(err->msg);
        if (used + 2 < sizeof err->msg) {
            memcpy(err->msg + used, ": ", 3);
            strncat(err->msg, old, sizeof err->msg - used - 3);
        }
    }
    return -1;
}
