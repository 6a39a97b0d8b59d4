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
        /* ": " and the old message, cut to fit. */
        size_t used = strlen(err->msg), room = sizeof err->msg - used, n = strlen(old);
        if (room > 3) {
            n = n < room - 3 ? n : room - 3;
            memcpy(err->msg + used, ": ", 2);
            memcpy(err->msg + used + 2, old, n);
            err->msg[used + 2 + n] = '\0';
        }
    }
    return -1;
}
