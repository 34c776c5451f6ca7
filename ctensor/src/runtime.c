/* Status strings, the thread-count setting, SIMD reporting, and the one place that opens OpenMP regions. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ctensor_internal.h"

const char *ct_status_string(int status)
{
    switch (status) {
    case CT_OK:
        return "ok";
    case CT_ERR_INVALID_ARGUMENT:
        return "invalid argument";
    case CT_ERR_OUT_OF_MEMORY:
        return "out of memory";
    case CT_ERR_UNAVAILABLE:
        return "unavailable";
    default:
        return "unknown status";
    }
}

static atomic_int num_threads = 1;

int ct_set_num_threads(int n)
{
    if (n < 1) return CT_ERR_INVALID_ARGUMENT;
    atomic_store_explicit(&num_threads, n, memory_order_relaxed);
    return CT_OK;
}

int ct_get_num_threads(void) { return atomic_load_explicit(&num_threads, memory_order_relaxed); }

const char *ct_simd_name(void)
{
#if CT_HAVE_SIMD_CLONES
    /* The clones' ifunc resolver asks exactly this question. */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v3")) return "avx2+fma";
#endif
    return "generic";
}

int ct_threads_for(double work, double min_work_per_thread, int64_t units)
{
    double affordable = 1.0 + work / min_work_per_thread;
    int64_t threads = ct_get_num_threads();
    if (threads > units) threads = units;
    if ((double)threads > affordable) threads = (int64_t)affordable;
    return threads < 1 ? 1 : (int)threads;
}

void ct_split_range(int64_t count, int member, int team, int64_t *begin, int64_t *end)
{
    int64_t share = count / team, extra = count % team;
    *begin = member * share + (member < extra ? member : extra);
    *end = *begin + share + (member < extra ? 1 : 0);
}

void ct_parallel_team(int threads, ct_team_body body, void *ctx)
{
#ifdef _OPENMP
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        body(ctx, omp_get_thread_num(), omp_get_num_threads());
        return;
    }
#endif
    (void)threads;
    body(ctx, 0, 1);
}

typedef struct {
    int64_t count;
    ct_range_body body;
    void *ctx;
} range_job;

static void run_range_share(void *ctx, int member, int team)
{
    const range_job *job = ctx;
    int64_t begin, end;
    ct_split_range(job->count, member, team, &begin, &end);
    if (begin < end) job->body(job->ctx, begin, end, member);
}

void ct_parallel_for(int threads, int64_t count, ct_range_body body, void *ctx)
{
    if (count <= 0) return;
    range_job job = {count, body, ctx};
    ct_parallel_team(threads, run_range_share, &job);
}

void ct_team_barrier(void)
{
#ifdef _OPENMP
#pragma omp barrier
#endif
}

void *ct_aligned_alloc(size_t count, size_t elem_size)
{
    size_t bytes;
    if (__builtin_mul_overflow(count, elem_size, &bytes)) return NULL;
    /* aligned_alloc wants a multiple of the alignment. */
    size_t padded = (bytes + CT_BUFFER_ALIGN - 1) / CT_BUFFER_ALIGN * CT_BUFFER_ALIGN;
    if (padded < bytes) return NULL;
    return aligned_alloc(CT_BUFFER_ALIGN, padded == 0 ? CT_BUFFER_ALIGN : padded);
}

void ct_aligned_free(void *ptr) { free(ptr); }
