/*
 * ct_reduce_* and ct_argmax_*: one template (reduce_impl.h) per dtype, plus
 * the dtype-independent pieces below (partial results are doubles for both
 * dtypes: float32 sums accumulate in double, and float64 needs nothing wider).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ctensor_internal.h"

/* A row is folded into LANES interleaved columns, so the column kernels also serve rows. */
#define LANES 16
/* Four doubles, which four float32 or float64 values widen into. */
typedef double ct_double4 __attribute__((vector_size(32)));
/*
 * A core streams memory faster reading several rows at once than one row at a time (about 14 against
 * 10 GB/s here). Column reductions step ROW_GROUP rows at a time through tiles of COLUMN_TILE sums
 * (or MAX_TILE_VECTORS vectors of maxima) held in registers; contiguous rows are reduced ROW_STREAMS
 * at a time, side by side.
 */
#define ROW_GROUP 8
#define COLUMN_TILE 32
#define MAX_TILE_VECTORS 4
#define ROW_STREAMS 4
/* Most outputs per work unit when whole rows of outputs are accumulated (column sums). */
#define MAX_COLUMN_TILE 4096
/* Most levels a pairwise tree keeps apart; past 2^31 blocks of rows the top level sums straight. */
#define PAIRWISE_LEVELS 32
/* Elements per piece of a single-output reduction: fixed, so results do not depend on the thread count. */
#define CHUNK ((int64_t)1 << 16)
/* Contiguous arg-max rows at least this long take two vectorised passes instead of one scalar pass. */
#define ARGMAX_TWO_PASS_MIN 64
/* Elements per thread before a second thread pays for itself. */
#define MIN_ELEMS_PER_THREAD ((int64_t)1 << 15)

/*
 * Pairwise summation of a stream of blocks, each `width` column sums: level d
 * holds the sum of 2^d consecutive blocks, merged like a binary counter, so a
 * column's rounding error grows with log(blocks) rather than blocks.
 */
typedef struct {
    double *level; /* levels x width */
    int64_t width;
    int levels;
    uint32_t occupied; /* bit d: level d holds a partial sum */
} pairwise_stack;

/* Levels that `blocks` pushes use: floor(log2(blocks)) + 1, capped at PAIRWISE_LEVELS. */
CT_INLINE int pairwise_levels_for(int64_t blocks)
{
    int levels = 1;
    while (levels < PAIRWISE_LEVELS && (blocks >> levels) > 0) levels++;
    return levels;
}

CT_INLINE void pairwise_init(pairwise_stack *stack, double *storage, int levels, int64_t width)
{
    stack->level = storage;
    stack->width = width;
    stack->levels = levels;
    stack->occupied = 0;
}

/* Adds `block` (width sums, overwritten) as the next block. */
CT_INLINE void pairwise_push(pairwise_stack *stack, double *block)
{
    int64_t width = stack->width;
    int d = 0;
    for (; d < stack->levels - 1 && (stack->occupied >> d & 1u); d++) {
        for (int64_t j = 0; j < width; j++) block[j] = stack->level[d * width + j] + block[j];
        stack->occupied &= ~(1u << d);
    }
    if (stack->occupied >> d & 1u) /* only when the top level is reached */
        for (int64_t j = 0; j < width; j++) block[j] = stack->level[d * width + j] + block[j];
    memcpy(stack->level + d * width, block, (size_t)width * sizeof *block);
    stack->occupied |= 1u << d;
}

/* sums[j] = all blocks pushed so far (0 if none), smallest partials first. */
CT_INLINE void pairwise_finish(const pairwise_stack *stack, double *sums)
{
    for (int64_t j = 0; j < stack->width; j++) sums[j] = 0;
    for (int d = 0; d < stack->levels; d++)
        if (stack->occupied >> d & 1u)
            for (int64_t j = 0; j < stack->width; j++) sums[j] = stack->level[d * stack->width + j] + sums[j];
}

/* The value that leaves any partial unchanged under `op`. */
CT_INLINE double reduce_identity(int op)
{
    return op == CT_REDUCE_SUM ? 0.0 : op == CT_REDUCE_MAX ? -INFINITY : INFINITY;
}

/* Combines two partial results; max and min keep a NaN once one appears. */
CT_INLINE double reduce_combine(int op, double acc, double part)
{
    if (op == CT_REDUCE_SUM) return acc + part;
    if (acc != acc) return acc;
    if (part != part) return part;
    return (op == CT_REDUCE_MAX ? part > acc : part < acc) ? part : acc;
}

/* A 1-dim index space: `count` rows, `row_stride` apart. */
CT_INLINE void strided_rows(ct_index_space *rows, int64_t count, int64_t row_stride)
{
    rows->ndim = 1;
    rows->noperands = 1;
    rows->shape[0] = count;
    rows->strides[0][0] = row_stride;
}

/*
 * offsets[r] = offset of the next n rows of `rows`, advancing the cursor: the innermost dim is walked
 * with plain strides and the cursor steps only when it wraps. Keeps the hot loops free of cursors.
 */
CT_INLINE void gather_offsets(ct_cursor *cursor, const ct_index_space *rows, int64_t n, int64_t *offsets)
{
    int last = rows->ndim - 1;
    if (last < 0) {
        for (int64_t r = 0; r < n; r++) offsets[r] = cursor->offset[0];
        return;
    }
    int64_t len = rows->shape[last], stride = rows->strides[0][last];
    for (int64_t r = 0; r < n;) {
        int64_t run = CT_MIN(n - r, len - cursor->index[last]);
        for (int64_t i = 0; i < run; i++) offsets[r + i] = cursor->offset[0] + i * stride;
        r += run;
        /* Move to the last of the run, then take one ordinary step (which carries at the dim's end). */
        cursor->offset[0] += (run - 1) * stride;
        cursor->index[last] += run - 1;
        ct_cursor_step(cursor, rows);
    }
}

/*
 * SCALAR_BITS: the signed integer as wide as SCALAR, for comparison masks.
 * PAIRWISE_BLOCK: rows summed straight before pairwise combination. float64 sums each lane straight
 * for 16 rows, as NumPy sums each of its 8 accumulators for 16 elements, so its error bound is no
 * worse than NumPy's; float32 accumulates in double, where 128 rows lose nothing visible in float32.
 */
#define SCALAR float
#define SCALAR_BITS int32_t
#define SUFFIX f32
#define PAIRWISE_BLOCK 128
#include "reduce_impl.h"
#undef SCALAR
#undef SCALAR_BITS
#undef SUFFIX
#undef PAIRWISE_BLOCK

#define SCALAR double
#define SCALAR_BITS int64_t
#define SUFFIX f64
#define PAIRWISE_BLOCK 16
#include "reduce_impl.h"
#undef SCALAR
#undef SCALAR_BITS
#undef SUFFIX
#undef PAIRWISE_BLOCK
