/*
 * Status strings, the thread-count setting, SIMD reporting, the one place that opens OpenMP regions,
 * and scratch memory.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

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

/*
 * Scratch blocks are kept for the next call: each thread holds up to KEPT_BLOCKS freed blocks of
 * KEEP_MIN_BYTES to KEEP_MAX_BYTES (the largest), reused by a request they can hold. Handed back to
 * glibc at every return, a kernel's scratch sat at the top of the heap, glibc trimmed it (or unmapped
 * it) and the next call faulted it in afresh: batch norm at (2, 16384), two 256 KiB blocks, took 88
 * page faults and 3-4x its time per call. A block's capacity lives in a header CT_BUFFER_ALIGN bytes
 * before it; under AddressSanitizer the header, a kept block and a reused block's slack are poisoned,
 * so touching them is still caught.
 */
#define KEPT_BLOCKS 4
#define KEEP_MIN_BYTES ((size_t)64 << 10)
#define KEEP_MAX_BYTES ((size_t)16 << 20)

typedef struct {
    char *block;
    size_t capacity;
} kept_block;

static _Thread_local kept_block kept[KEPT_BLOCKS];
static pthread_key_t kept_key;
static pthread_once_t kept_key_once = PTHREAD_ONCE_INIT;

/* The capacity in a block's header (poisoned under AddressSanitizer between these reads: a write
 * below the block is reported rather than corrupting it). */
static size_t capacity_of(char *block)
{
    char *header = block - CT_BUFFER_ALIGN;
    ASAN_UNPOISON_MEMORY_REGION(header, CT_BUFFER_ALIGN);
    size_t capacity = *(size_t *)header;
    ASAN_POISON_MEMORY_REGION(header, CT_BUFFER_ALIGN);
    return capacity;
}

static void release_block(char *block) { free(block - CT_BUFFER_ALIGN); }

/* At a thread's exit: its kept blocks go back to glibc (the key's value is the thread's kept array). */
static void release_kept(void *blocks)
{
    kept_block *slots = blocks;
    for (int i = 0; i < KEPT_BLOCKS; i++) {
        if (slots[i].block != NULL) release_block(slots[i].block);
        slots[i].block = NULL;
    }
}

static int kept_key_ready; /* 0 if the key could not be made: then nothing is kept */

static void create_kept_key(void) { kept_key_ready = pthread_key_create(&kept_key, release_kept) == 0; }

/* Every block this thread keeps, back to glibc. */
static void release_all_kept(void) { release_kept(kept); }

void *ct_aligned_alloc(size_t count, size_t elem_size)
{
    size_t bytes;
    if (__builtin_mul_overflow(count, elem_size, &bytes)) return NULL;
    /* aligned_alloc wants a multiple of the alignment; the header takes one more. */
    size_t padded = (bytes + CT_BUFFER_ALIGN - 1) / CT_BUFFER_ALIGN * CT_BUFFER_ALIGN;
    if (padded < bytes || padded > SIZE_MAX - CT_BUFFER_ALIGN) return NULL;
    int best = -1; /* the smallest kept block that holds the request (small requests take none) */
    for (int i = 0; i < KEPT_BLOCKS && padded >= KEEP_MIN_BYTES; i++)
        if (kept[i].block != NULL && kept[i].capacity >= padded &&
            (best < 0 || kept[i].capacity < kept[best].capacity))
            best = i;
    if (best >= 0) {
        char *block = kept[best].block;
        kept[best].block = NULL;
        ASAN_UNPOISON_MEMORY_REGION(block, padded);
        return block;
    }
    char *raw = aligned_alloc(CT_BUFFER_ALIGN, padded + CT_BUFFER_ALIGN);
    if (raw == NULL) { /* memory is short: what this thread keeps goes first */
        release_all_kept();
        raw = aligned_alloc(CT_BUFFER_ALIGN, padded + CT_BUFFER_ALIGN);
        if (raw == NULL) return NULL;
    }
    *(size_t *)raw = padded;
    ASAN_POISON_MEMORY_REGION(raw, CT_BUFFER_ALIGN);
    return raw + CT_BUFFER_ALIGN;
}

void ct_aligned_free(void *ptr)
{
    char *block = ptr;
    if (block == NULL) return;
    size_t capacity = capacity_of(block);
    if (capacity < KEEP_MIN_BYTES || capacity > KEEP_MAX_BYTES) {
        release_block(block);
        return;
    }
    int slot = 0; /* an empty slot, else the smallest kept block */
    for (int i = 0; i < KEPT_BLOCKS; i++) {
        if (kept[i].block == NULL) {
            slot = i;
            break;
        }
        if (kept[i].capacity < kept[slot].capacity) slot = i;
    }
    if (kept[slot].block != NULL) {
        if (kept[slot].capacity >= capacity) {
            release_block(block);
            return;
        }
        release_block(kept[slot].block);
        kept[slot].block = NULL;
    }
    pthread_once(&kept_key_once, create_kept_key);
    if (!kept_key_ready || pthread_setspecific(kept_key, kept) != 0) { /* (non-NULL: release_kept runs at exit) */
        release_block(block);
        return;
    }
    ASAN_POISON_MEMORY_REGION(block, capacity);
    kept[slot] = (kept_block){block, capacity};
}
