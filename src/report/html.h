/* Small helpers for writing HTML and SVG text. */
#ifndef UG_REPORT_HTML_H
#define UG_REPORT_HTML_H

#include <stdio.h>

/* Writes s with & < > " ' escaped, so it is safe as text and inside quoted
 * attributes; NULL writes nothing. */
void ug_html_text(FILE *fp, const char *s);

/* A number for people: %.4g, "NaN"/"inf" spelled out. */
void ug_html_number(FILE *fp, double v);

#endif
