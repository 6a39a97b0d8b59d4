/* The communicator of data-parallel training: the ranks that train one model
 * together, each on its share of the batch, and the few collectives the
 * trainer and the train command need. A table with two implementations:
 *   - single (comm.c): one process, every collective a no-op;
 *   - MPI (mpi/comm_mpi.c, built with -DUGATIT_MPI=ON into the program, not
 *     the library): MPI_COMM_WORLD under mpirun.
 * Every rank must make the same calls in the same order (they are
 * collectives); a rank-local failure in the middle of a step cannot be told
 * to the others, so the program aborts them all (abort). */
#ifndef UG_COMM_H
#define UG_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define UG_COMM_SLOTS 8 /* non-blocking reductions in flight at once (one per network) */

typedef struct ug_comm ug_comm;

struct ug_comm {
    const char *name;
    int rank, size;
    int local_size;       /* ranks on this machine, this one included (they share its memory) */
    double seconds;       /* spent waiting in collectives so far */
    double bytes;         /* reduced by allreduce and iallreduce, or gathered, so far */
    void *impl;
    /* buf[0..n) summed over the ranks, in place, on every rank. */
    int (*allreduce)(ug_comm *c, float *buf, size_t n, ug_error *err);
    /* The same started in slot (0 <= slot < UG_COMM_SLOTS; buf untouched
     * until wait), and completed; waiting on an idle slot does nothing. */
    int (*iallreduce)(ug_comm *c, int slot, float *buf, size_t n, ug_error *err);
    int (*wait)(ug_comm *c, int slot, ug_error *err);
    /* Lets started reductions advance (MPI progresses inside MPI calls). */
    void (*progress)(ug_comm *c);
    /* *out = the bitwise OR of every rank's flags. */
    int (*any)(ug_comm *c, unsigned flags, unsigned *out, ug_error *err);
    /* In place: this rank's bytes at buf + rank x bytes go to every rank, so
     * that buf then holds all size x bytes, rank r's at r x bytes. */
    int (*allgather)(ug_comm *c, void *buf, size_t bytes, ug_error *err);
    /* bytes of buf copied from rank root to every rank. */
    int (*bcast)(ug_comm *c, void *buf, size_t bytes, int root, ug_error *err);
    /* *same = whether every rank passed the same hash. */
    int (*same)(ug_comm *c, uint64_t hash, int *same, ug_error *err);
    /* Ends every rank at once with status code (for the program only; the
     * single communicator returns, and the program ends as it would). */
    void (*abort)(ug_comm *c, int code);
    void (*close)(ug_comm *c);
};

/* The one-process communicator (static; close does nothing). */
ug_comm *ug_comm_single(void);

/* Whether this process was started by an MPI launcher (mpirun sets
 * OMPI_COMM_WORLD_SIZE, MPICH's PMI_SIZE) with more than one rank. */
int ug_comm_launched(void);

/* A 64-bit hash of bytes, continued from h (start with UG_HASH_SEED). */
#define UG_HASH_SEED 0x6a09e667f3bcc909ULL
uint64_t ug_hash_bytes(uint64_t h, const void *p, size_t bytes);

#endif
