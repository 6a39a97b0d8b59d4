/* Errors are values: a function that can fail returns 0 on success and -1 on
 * failure, after writing one line into the caller's ug_error. Callers higher up
 * may prefix context ("model.safetensors: ...") with ug_error_prefix. */
#ifndef UG_ERROR_H
#define UG_ERROR_H

#include "ugatit.h"

/* Formats the message into err (if err is not NULL) and returns -1. */
int ug_fail(ug_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to the message already in err; returns -1. */
int ug_error_prefix(ug_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
