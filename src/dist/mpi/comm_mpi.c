/* The MPI communicator: MPI_COMM_WORLD, errors returned as values (not
 * MPI's default of aborting), the time spent waiting in MPI counted. Only
 * the thread that opened it calls MPI (MPI_THREAD_FUNNELED): the loader's
 * thread and OpenMP's never do. */
#include "dist/mpi/comm_mpi.h"

#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <time.h>

typedef struct mpi_state {
    MPI_Request req[UG_COMM_SLOTS];
} mpi_state;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* MPI's message for rc into err, after what. */
static int mpi_fail(int rc, ug_error *err, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        len = 0;
    msg[len] = 0;
    return ug_fail(err, "MPI: %s: %s", what, len ? msg : "unknown error");
}

/* MPI counts in int: larger buffers go in pieces. */
#define CHUNK ((size_t)1 << 30)

static int mpi_allreduce(ug_comm *c, float *buf, size_t n, ug_error *err)
{
    double t0 = now();
    for (size_t i = 0; i < n; i += CHUNK) {
        int count = (int)(n - i < CHUNK ? n - i : CHUNK);
        int rc = MPI_Allreduce(MPI_IN_PLACE, buf + i, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_fail(rc, err, "allreduce");
    }
    c->seconds += now() - t0;
    c->bytes += (double)n * sizeof(float);
    return 0;
}

static int mpi_iallreduce(ug_comm *c, int slot, float *buf, size_t n, ug_error *err)
{
    mpi_state *st = c->impl;
    if (slot < 0 || slot >= UG_COMM_SLOTS || st->req[slot] != MPI_REQUEST_NULL)
        return ug_fail(err, "internal: reduction slot %d is busy or out of range", slot);
    if (n > CHUNK) /* one request per slot: too large ones go the blocking way */
        return mpi_allreduce(c, buf, n, err);
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                            &st->req[slot]);
    if (rc != MPI_SUCCESS)
        return mpi_fail(rc, err, "iallreduce");
    c->bytes += (double)n * sizeof(float);
    return 0;
}

static int mpi_wait(ug_comm *c, int slot, ug_error *err)
{
    mpi_state *st = c->impl;
    if (slot < 0 || slot >= UG_COMM_SLOTS || st->req[slot] == MPI_REQUEST_NULL)
        return 0;
    double t0 = now();
    int rc = MPI_Wait(&st->req[slot], MPI_STATUS_IGNORE);
    c->seconds += now() - t0;
    return rc != MPI_SUCCESS ? mpi_fail(rc, err, "wait") : 0;
}

static void mpi_progress(ug_comm *c)
{
    mpi_state *st = c->impl;
    int done;
    for (int i = 0; i < UG_COMM_SLOTS; i++)
        if (st->req[i] != MPI_REQUEST_NULL) {
            MPI_Testall(UG_COMM_SLOTS, st->req, &done, MPI_STATUSES_IGNORE);
            return;
        }
}

static int mpi_any(ug_comm *c, unsigned flags, unsigned *out, ug_error *err)
{
    double t0 = now();
    int rc = MPI_Allreduce(&flags, out, 1, MPI_UNSIGNED, MPI_BOR, MPI_COMM_WORLD);
    c->seconds += now() - t0;
    return rc != MPI_SUCCESS ? mpi_fail(rc, err, "allreduce of the flags") : 0;
}

static int mpi_allgather(ug_comm *c, void *buf, size_t bytes, ug_error *err)
{
    /* One count for every rank's part: pieces would interleave the parts. */
    if (bytes > INT_MAX)
        return ug_fail(err, "MPI: an allgather of %zu bytes per rank is over MPI's count", bytes);
    double t0 = now();
    int rc = MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, (int)bytes, MPI_BYTE,
                           MPI_COMM_WORLD);
    c->seconds += now() - t0;
    c->bytes += (double)bytes * c->size;
    return rc != MPI_SUCCESS ? mpi_fail(rc, err, "allgather") : 0;
}

static int mpi_bcast(ug_comm *c, void *buf, size_t bytes, int root, ug_error *err)
{
    double t0 = now();
    for (size_t i = 0; i < bytes; i += CHUNK) {
        int count = (int)(bytes - i < CHUNK ? bytes - i : CHUNK);
        int rc = MPI_Bcast((char *)buf + i, count, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_fail(rc, err, "broadcast");
    }
    c->seconds += now() - t0;
    return 0;
}

/* The maximum of (h, ~h) over the ranks is (max h, ~min h): equal ends mean
 * equal hashes, in one reduction. */
static int mpi_same(ug_comm *c, uint64_t hash, int *same, ug_error *err)
{
    uint64_t in[2] = {hash, ~hash}, out[2];
    double t0 = now();
    int rc = MPI_Allreduce(in, out, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    c->seconds += now() - t0;
    if (rc != MPI_SUCCESS)
        return mpi_fail(rc, err, "allreduce of the hashes");
    *same = out[0] == ~out[1];
    return 0;
}

static void mpi_abort(ug_comm *c, int code)
{
    (void)c;
    MPI_Abort(MPI_COMM_WORLD, code);
}

static void mpi_close(ug_comm *c)
{
    free(c->impl);
    free(c);
    MPI_Finalize();
}

int ug_comm_mpi_open(ug_comm **out, int *argc, char ***argv, ug_error *err)
{
    *out = NULL;
    int provided, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS)
        return ug_fail(err, "MPI: MPI_Init_thread failed (%d)", rc);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    ug_comm *c = calloc(1, sizeof *c);
    mpi_state *st = calloc(1, sizeof *st);
    if (!c || !st) {
        free(c);
        free(st);
        MPI_Finalize();
        return ug_fail(err, "out of memory");
    }
    for (int i = 0; i < UG_COMM_SLOTS; i++)
        st->req[i] = MPI_REQUEST_NULL;
    *c = (ug_comm){"mpi", 0, 1, 1, 0, 0, st, mpi_allreduce, mpi_iallreduce, mpi_wait,
                   mpi_progress, mpi_any, mpi_allgather, mpi_bcast, mpi_same, mpi_abort,
                   mpi_close};
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL,
                            &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, &c->local_size);
        MPI_Comm_free(&node);
    }
    if (provided < MPI_THREAD_FUNNELED) {
        mpi_close(c);
        return ug_fail(err, "MPI: the library does not support threads (MPI_THREAD_FUNNELED)");
    }
    *out = c;
    return 0;
}
