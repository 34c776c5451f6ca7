/*
 * Internal helpers shared by the ctensor kernels: SIMD dispatch, threading,
 * index spaces (shape plus strides) and aligned buffers. Not part of the
 * public API.
 */
#ifndef CTENSOR_INTERNAL_H
#define CTENSOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ctensor.h"

/*
 * CT_SIMD_CLONES marks a leaf kernel that GCC compiles twice: once for
 * x86-64-v3 (AVX2 + FMA) and once for the baseline; an ifunc picks one when
 * the library loads. "arch=x86-64-v3" is tested by ISA level; "arch=haswell"
 * would be tested by CPU model and never chosen on AMD or newer Intel parts.
 * Only functions that open no OpenMP region are cloned (leaves, and entry
 * points whose regions go through runtime.c): OpenMP outlines a region into a
 * function that is not, so regions live in runtime.c and call the leaves.
 * Vector types never cross a function boundary by value.
 */
#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && \
    !defined(CT_NO_SIMD_CLONES) /* -DCT_NO_SIMD_CLONES builds (and tests) the portable path alone */
#define CT_HAVE_SIMD_CLONES 1
#define CT_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CT_HAVE_SIMD_CLONES 0
#define CT_SIMD_CLONES
#endif

/* Hot helpers must be inlined into each clone, or they would run the baseline code. */
#define CT_INLINE static inline __attribute__((always_inline))

/* Token pasting for the dtype templates: CT_NAME(pack, f32) -> pack_f32. */
#define CT_PASTE_(a, b) a##_##b
#define CT_PASTE(a, b) CT_PASTE_(a, b)

#define CT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CT_MAX(a, b) ((a) > (b) ? (a) : (b))

CT_INLINE int64_t ct_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
CT_INLINE int64_t ct_round_up(int64_t a, int64_t multiple) { return ct_ceil_div(a, multiple) * multiple; }

CT_INLINE void ct_swap_i64(int64_t *x, int64_t *y)
{
    int64_t t = *x;
    *x = *y;
    *y = t;
}

/* ---- threading (runtime.c) ---- */

/* Called by each member of a team of `team` threads (member = 0 .. team-1). */
typedef void (*ct_team_body)(void *ctx, int member, int team);
/* Work on units [begin, end); `member` indexes per-thread scratch space. */
typedef void (*ct_range_body)(void *ctx, int64_t begin, int64_t end, int member);

/*
 * Threads worth starting for `work` operations when each thread should get at
 * least `min_work_per_thread` and there are only `units` pieces to share:
 * min(ct_get_num_threads(), units, 1 + work / min_work_per_thread), at least 1.
 */
int ct_threads_for(double work, double min_work_per_thread, int64_t units);

/* Runs body on a team of up to `threads` threads (fewer if OpenMP grants fewer). */
void ct_parallel_team(int threads, ct_team_body body, void *ctx);

/* Splits units [0, count) into one contiguous range per team member. */
void ct_parallel_for(int threads, int64_t count, ct_range_body body, void *ctx);

/* Member `member` of `team` gets [*begin, *end) of [0, count): sizes differ by at most one. */
void ct_split_range(int64_t count, int member, int team, int64_t *begin, int64_t *end);

/* Waits for every member of the enclosing team (no-op outside a parallel region). */
void ct_team_barrier(void);

/* ---- aligned scratch buffers (runtime.c) ---- */

#define CT_BUFFER_ALIGN 64

/*
 * NULL on failure or when count * elem_size overflows. Not zeroed. Large blocks are kept per thread
 * after ct_aligned_free and reused by later calls (see runtime.c); free them only with ct_aligned_free.
 */
void *ct_aligned_alloc(size_t count, size_t elem_size);
void ct_aligned_free(void *ptr);

/* ---- index spaces (index_space.c) ---- */

#define CT_MAX_OPERANDS 3

/*
 * A row-major index space shared by up to CT_MAX_OPERANDS strided operands:
 * flat index f <-> multi-index (i_0, ..., i_{ndim-1}), and operand q sits at
 * offset sum_d i_d * strides[q][d].
 */
typedef struct {
    int ndim;
    int noperands;
    int64_t shape[CT_MAX_DIMS];
    int64_t strides[CT_MAX_OPERANDS][CT_MAX_DIMS];
} ct_index_space;

/*
 * Validates and copies a caller's shape and stride arrays: 0 <= ndim <=
 * CT_MAX_DIMS, shape and stride pointers non-NULL when ndim > 0, sizes >= 0,
 * element count representable. Stores the element count in *count.
 */
int ct_index_space_init(ct_index_space *space, int ndim, const int64_t *shape, int noperands,
                        const int64_t *const *strides, int64_t *count);

/* Drops size-1 dims and merges neighbours that every operand walks as one dim; flat order is kept. */
void ct_index_space_simplify(ct_index_space *space);

/*
 * For a space read by one operand in any order (a reduction): negative strides
 * are flipped (moving *base_offset to the lowest address), dims are sorted by
 * decreasing stride with stride 0 outermost, then simplified.
 */
void ct_index_space_canonicalize(ct_index_space *space, int64_t *base_offset);

/* The space without its last dim. */
void ct_index_space_drop_last(const ct_index_space *space, ct_index_space *prefix);

/* Offsets of flat index `flat` for every operand. */
void ct_index_space_offsets(const ct_index_space *space, int64_t flat, int64_t *offsets);

/* Odometer over an index space: the multi-index and each operand's offset. */
typedef struct {
    int64_t index[CT_MAX_DIMS];
    int64_t offset[CT_MAX_OPERANDS];
} ct_cursor;

void ct_cursor_seek(ct_cursor *cursor, const ct_index_space *space, int64_t flat);

/* Advances to the next flat index (wrapping to 0 after the last). */
CT_INLINE void ct_cursor_step(ct_cursor *cursor, const ct_index_space *space)
{
    for (int d = space->ndim - 1; d >= 0; d--) {
        for (int q = 0; q < space->noperands; q++) cursor->offset[q] += space->strides[q][d];
        if (++cursor->index[d] < space->shape[d]) return;
        for (int q = 0; q < space->noperands; q++) cursor->offset[q] -= space->shape[d] * space->strides[q][d];
        cursor->index[d] = 0;
    }
}

#endif /* CTENSOR_INTERNAL_H */
