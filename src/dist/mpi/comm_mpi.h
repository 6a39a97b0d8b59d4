/* The MPI communicator (dist/comm.h): MPI_Init_thread on open, MPI_Finalize
 * on close. Built only with -DUGATIT_MPI=ON, into the program. */
#ifndef UG_COMM_MPI_H
#define UG_COMM_MPI_H

#include "dist/comm.h"

int ug_comm_mpi_open(ug_comm **out, int *argc, char ***argv, ug_error *err);

#endif
