/* The report's rho section: per generator, histograms of its residual-block
 * layers (UpBlock1_*, adaILN) and of its up-sampling layers (UpBlock2.*,
 * ILN) pooled, a chart of each layer's mean over the run's checkpoints, and
 * a table with every layer's mean, minimum, maximum and histogram; all
 * inline SVG. */
#ifndef UG_REPORT_RHOCHART_H
#define UG_REPORT_RHOCHART_H

#include <stdio.h>

#include "report/rho.h"

/* n layers of stats, generator by generator (names "GEN.MODULE..."); h may
 * be NULL or have the same n layers. */
void ug_rho_section(FILE *fp, const ug_rho_stats *stats, int n, const ug_rho_history *h);

#endif
