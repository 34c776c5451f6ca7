/*
 * Reductions and arg-max for one dtype; reduce.c includes this with SCALAR
 * (float or double), SCALAR_BITS (int32_t or int64_t) and SUFFIX (f32 or f64).
 *
 * x is read as outer dims (kept) x inner dims (reduced). After dropping size-1
 * dims, merging dims that walk as one and, for the inner dims, ordering them
 * by stride, the work takes one of three shapes:
 *
 *   rows     out[o] = op over the inner space, row by row (a row is the
 *            innermost inner dim; contiguous rows vectorise);
 *   columns  the innermost outer dim is contiguous and the reduced ones are
 *            not (column sums of a row-major matrix): a tile of outputs (the
 *            whole row when threads allow) is updated elementwise from each
 *            inner position in turn, reading x row by row;
 *   chunks   a single output: the inner space is cut into CHUNK-element
 *            pieces reduced independently and combined in order.
 *
 * Two column kernels (sum; max, which also gives min = -max(-x)) do the work
 * in all three: a row of length n is read as an (n / LANES) x LANES matrix
 * whose column results are then combined. Every output is finished by one
 * thread in a fixed order, so results do not depend on the thread count.
 *
 * Memory is read several rows at a time (see reduce.c): columns step
 * ROW_GROUP rows through register tiles, and contiguous rows go ROW_STREAMS
 * side by side, each summed in exactly the order it would be alone.
 */
#define T(name) CT_PASTE(name, SUFFIX)

#define VLEN ((int)(32 / sizeof(SCALAR)))
typedef SCALAR T(vec) __attribute__((vector_size(32)));
typedef SCALAR_BITS T(mask) __attribute__((vector_size(32)));

/* *acc += x[0..3] widened to double. (A constructor: GCC 12 lowers __builtin_convertvector in halves.) */
CT_INLINE void T(add_widened)(ct_double4 *acc, const SCALAR *x) { *acc += (ct_double4){x[0], x[1], x[2], x[3]}; }

/* 1 when v should replace the running max b: v is NaN (NaN sticks) or v > b. */
CT_INLINE int T(replaces)(SCALAR v, SCALAR b) { return (v != v) | (v > b); }

/* +1 for max, -1 for min: max(x) = max(x), min(x) = -max(-x), and negation is exact. */
CT_INLINE SCALAR T(extreme_sign)(int op) { return op == CT_REDUCE_MIN ? -1 : 1; }

/* ---------------------------------------------------------------- column kernels */

/*
 * sums[j] = sum_r x[offsets[r] + j], j < LANES, in double: the folded-row hot loop. Compiled on its
 * own (not inlined), where the vectoriser keeps the LANES sums in registers; called once per block.
 */
CT_SIMD_CLONES __attribute__((noinline))
static void T(sum_lanes_block)(const SCALAR *x, const int64_t *offsets, int64_t n, double *sums)
{
    double acc[LANES] = {0};
    for (int64_t r = 0; r < n; r++)
        for (int j = 0; j < LANES; j++) acc[j] += x[offsets[r] + j];
    memcpy(sums, acc, sizeof acc);
}

/* The same sums for rows a fixed stride apart (a folded contiguous row): no offset table to read. */
CT_SIMD_CLONES __attribute__((noinline))
static void T(sum_lanes_strided)(const SCALAR *x, int64_t row_stride, int64_t n, double *sums)
{
    double acc[LANES] = {0};
    for (int64_t r = 0; r < n; r++)
        for (int j = 0; j < LANES; j++) acc[j] += x[r * row_stride + j];
    memcpy(sums, acc, sizeof acc);
}

/*
 * block[j] = sum over rows r < n of x[offsets[r] + j], j < width, in double, each column in row order:
 * ROW_GROUP rows at a time into COLUMN_TILE sums held in registers. A core reading several rows at once
 * streams memory faster than one reading a row at a time (about 14 against 10 GB/s here), and block is
 * loaded and stored once per group rather than once per row.
 */
CT_SIMD_CLONES __attribute__((noinline))
static void T(sum_rows_block)(const SCALAR *x, const int64_t *offsets, int64_t n, int64_t width, double *block)
{
    enum { QUADS = COLUMN_TILE / 4 };
    for (int64_t j = 0; j < width; j++) block[j] = 0;
    for (int64_t r0 = 0; r0 < n; r0 += ROW_GROUP) {
        int64_t r_end = CT_MIN(n, r0 + ROW_GROUP), j0 = 0;
        for (; j0 + COLUMN_TILE <= width; j0 += COLUMN_TILE) {
            ct_double4 acc[QUADS];
            memcpy(acc, block + j0, sizeof acc);
            for (int64_t r = r0; r < r_end; r++) {
                const SCALAR *row = x + offsets[r] + j0;
                for (int q = 0; q < QUADS; q++) T(add_widened)(&acc[q], row + 4 * q);
            }
            memcpy(block + j0, acc, sizeof acc);
        }
        for (int64_t r = r0; r < r_end; r++)
            for (int64_t j = j0; j < width; j++) block[j] += x[offsets[r] + j];
    }
}

/*
 * sums[j] = sum over rows r < count of x[row(r) + j * col_stride], j < width, in double: PAIRWISE_BLOCK
 * rows summed straight into block[width], then blocks pairwise in `levels` (pairwise_levels_for(blocks)
 * x width doubles).
 */
CT_INLINE void T(sum_columns)(const SCALAR *x, int64_t width, int64_t col_stride, const ct_index_space *rows,
                              int64_t count, double *levels, double *block, double *sums)
{
    pairwise_stack stack;
    pairwise_init(&stack, levels, pairwise_levels_for(ct_ceil_div(count, PAIRWISE_BLOCK)), width);
    int64_t offsets[PAIRWISE_BLOCK];
    ct_cursor cursor;
    if (count > 0) ct_cursor_seek(&cursor, rows, 0);
    int one_stride = rows->ndim == 1 && width == LANES && col_stride == 1;
    for (int64_t r0 = 0; r0 < count; r0 += PAIRWISE_BLOCK) {
        int64_t n = CT_MIN(count - r0, (int64_t)PAIRWISE_BLOCK);
        if (one_stride) {
            T(sum_lanes_strided)(x + r0 * rows->strides[0][0], rows->strides[0][0], n, block);
            pairwise_push(&stack, block);
            continue;
        }
        gather_offsets(&cursor, rows, n, offsets);
        if (width == LANES && col_stride == 1) {
            T(sum_lanes_block)(x, offsets, n, block);
        } else if (col_stride == 1) {
            T(sum_rows_block)(x, offsets, n, width, block);
        } else {
            for (int64_t j = 0; j < width; j++) block[j] = 0;
            for (int64_t r = 0; r < n; r++)
                for (int64_t j = 0; j < width; j++) block[j] += x[offsets[r] + j * col_stride];
        }
        pairwise_push(&stack, block);
    }
    pairwise_finish(&stack, sums);
}

/* *best = max(*best, sign * src) lane by lane, *nan |= (src is NaN): a blend, as compilers do not vectorise this. */
CT_INLINE void T(max_update)(T(vec) *best, T(mask) *nan, const SCALAR *src, SCALAR sign)
{
    T(vec) v;
    memcpy(&v, src, sizeof v);
    v *= sign;
    T(mask) greater = v > *best;
    *best = (T(vec))(((T(mask))v & greater) | ((T(mask))*best & ~greater));
    *nan |= v != v;
}

/* best[j] = the running maxima of `vectors` vectors, NaN in each lane that saw a NaN. */
CT_INLINE void T(store_max_lanes)(const T(vec) *vbest, const T(mask) *vnan, int64_t vectors, SCALAR *best)
{
    for (int64_t q = 0; q < vectors; q++) {
        SCALAR_BITS nan_lanes[VLEN];
        memcpy(best + q * VLEN, &vbest[q], sizeof vbest[q]);
        memcpy(nan_lanes, &vnan[q], sizeof vnan[q]);
        for (int l = 0; l < VLEN; l++)
            if (nan_lanes[l]) best[q * VLEN + l] = (SCALAR)NAN;
    }
}

/*
 * best[j] = max over rows r < count (>= 1) of sign * x[row(r) + j * col_stride], j < width; NaN where
 * any is NaN. sign = -1 gives -min, so one kernel serves max and min. vbest and vnan (width / VLEN
 * vectors each) hold the running state of the contiguous part.
 */
CT_INLINE void T(max_columns)(SCALAR sign, const SCALAR *x, int64_t width, int64_t col_stride,
                              const ct_index_space *rows, int64_t count, T(vec) *vbest, T(mask) *vnan,
                              SCALAR *best)
{
    int64_t vectors = col_stride == 1 ? width / VLEN : 0;
    int64_t offsets[PAIRWISE_BLOCK];
    ct_cursor cursor;
    ct_cursor_seek(&cursor, rows, 0);
    /* Start from row 0, then fold in every row (row 0 again is harmless: max(v, v) = v). */
    const SCALAR *first = x + cursor.offset[0];
    for (int64_t j = 0; j < width; j++) best[j] = sign * first[j * col_stride];
    for (int64_t q = 0; q < vectors; q++) {
        memcpy(&vbest[q], best + q * VLEN, sizeof vbest[q]);
        vnan[q] = (T(mask)){0};
    }
    for (int64_t r0 = 0; r0 < count; r0 += PAIRWISE_BLOCK) {
        int64_t n = CT_MIN(count - r0, (int64_t)PAIRWISE_BLOCK);
        gather_offsets(&cursor, rows, n, offsets);
        for (int64_t g0 = 0; g0 < n; g0 += ROW_GROUP) { /* as in sum_rows_block: rows side by side, tiles in registers */
            int64_t g_end = CT_MIN(n, g0 + ROW_GROUP), q0 = 0;
            for (; q0 + MAX_TILE_VECTORS <= vectors; q0 += MAX_TILE_VECTORS) {
                T(vec) tile_best[MAX_TILE_VECTORS];
                T(mask) tile_nan[MAX_TILE_VECTORS];
                memcpy(tile_best, vbest + q0, sizeof tile_best);
                memcpy(tile_nan, vnan + q0, sizeof tile_nan);
                for (int64_t r = g0; r < g_end; r++)
                    for (int t = 0; t < MAX_TILE_VECTORS; t++)
                        T(max_update)(&tile_best[t], &tile_nan[t], x + offsets[r] + (q0 + t) * VLEN, sign);
                memcpy(vbest + q0, tile_best, sizeof tile_best);
                memcpy(vnan + q0, tile_nan, sizeof tile_nan);
            }
            for (int64_t r = g0; r < g_end; r++) {
                const SCALAR *row = x + offsets[r];
                for (int64_t q = q0; q < vectors; q++) T(max_update)(&vbest[q], &vnan[q], row + q * VLEN, sign);
                for (int64_t j = vectors * VLEN; j < width; j++) {
                    SCALAR v = sign * row[j * col_stride];
                    best[j] = T(replaces)(v, best[j]) ? v : best[j];
                }
            }
        }
    }
    T(store_max_lanes)(vbest, vnan, vectors, best);
}

/* ---------------------------------------------------------------- rows */

/* The lanes of a folded row combined as a tree, then the row's tail x[i * stride], folded * LANES <= i < n. */
CT_INLINE double T(finish_row_sum)(double *lanes, const SCALAR *x, int64_t folded, int64_t n, int64_t stride)
{
    double sum = 0;
    if (folded > 0) {
        for (int step = 1; step < LANES; step *= 2)
            for (int l = 0; l < LANES; l += 2 * step) lanes[l] += lanes[l + step];
        sum = lanes[0];
    }
    for (int64_t i = folded * LANES; i < n; i++) sum += x[i * stride];
    return sum;
}

/* sum_i x[i * stride], i < n: LANES interleaved pairwise sums, combined as a tree, then the tail. */
CT_INLINE double T(row_sum)(const SCALAR *x, int64_t n, int64_t stride)
{
    int64_t folded = n / LANES;
    double lanes[LANES];
    if (folded > 0) {
        ct_index_space rows;
        double block[LANES], levels[PAIRWISE_LEVELS * LANES];
        strided_rows(&rows, folded, LANES * stride);
        T(sum_columns)(x, LANES, stride, &rows, folded, levels, block, lanes);
    }
    return T(finish_row_sum)(lanes, x, folded, n, stride);
}

/*
 * sums[q][l] = sum_r rows[q][r * LANES + l], r < n, for ROW_STREAMS contiguous rows at once: each lane as
 * sum_lanes_strided sums it, so each row's result is row_sum's to the bit.
 */
CT_SIMD_CLONES __attribute__((noinline))
static void T(sum_lanes_streams)(const SCALAR *const *rows, int64_t n, double *sums)
{
    enum { QUADS = LANES / 4 };
    ct_double4 acc[ROW_STREAMS][QUADS];
    memset(acc, 0, sizeof acc);
    for (int64_t r = 0; r < n; r++)
        for (int q = 0; q < ROW_STREAMS; q++)
            for (int t = 0; t < QUADS; t++) T(add_widened)(&acc[q][t], rows[q] + r * LANES + 4 * t);
    memcpy(sums, acc, sizeof acc);
}

/* sums[q] = row_sum(rows[q], n, 1) for ROW_STREAMS contiguous rows, read side by side (see sum_rows_block). */
CT_INLINE void T(row_sums_streams)(const SCALAR *const *rows, int64_t n, double *sums)
{
    int64_t folded = n / LANES;
    int levels_used = pairwise_levels_for(ct_ceil_div(folded, PAIRWISE_BLOCK));
    pairwise_stack stacks[ROW_STREAMS];
    double levels[ROW_STREAMS][PAIRWISE_LEVELS * LANES], blocks[ROW_STREAMS][LANES], lanes[LANES];
    for (int q = 0; q < ROW_STREAMS; q++) pairwise_init(&stacks[q], levels[q], levels_used, LANES);
    for (int64_t r0 = 0; r0 < folded; r0 += PAIRWISE_BLOCK) {
        const SCALAR *at[ROW_STREAMS];
        for (int q = 0; q < ROW_STREAMS; q++) at[q] = rows[q] + r0 * LANES;
        T(sum_lanes_streams)(at, CT_MIN(folded - r0, (int64_t)PAIRWISE_BLOCK), &blocks[0][0]);
        for (int q = 0; q < ROW_STREAMS; q++) pairwise_push(&stacks[q], blocks[q]);
    }
    for (int q = 0; q < ROW_STREAMS; q++) {
        pairwise_finish(&stacks[q], lanes);
        sums[q] = T(finish_row_sum)(lanes, rows[q], folded, n, 1);
    }
}

/* A folded row's lanes (unused when folded = 0) combined, then its tail: max of sign * x[i * stride], i < n. */
CT_INLINE SCALAR T(finish_row_max)(SCALAR sign, const SCALAR *lanes, const SCALAR *x, int64_t folded, int64_t n,
                                   int64_t stride)
{
    SCALAR best = sign * x[0];
    for (int l = 0; folded > 0 && l < LANES; l++) best = T(replaces)(lanes[l], best) ? lanes[l] : best;
    for (int64_t i = folded > 0 ? folded * LANES : 1; i < n; i++) {
        SCALAR v = sign * x[i * stride];
        best = T(replaces)(v, best) ? v : best;
    }
    return best;
}

/* max of sign * x[i * stride], i < n (>= 1); NaN if any is NaN. */
CT_INLINE SCALAR T(row_max)(SCALAR sign, const SCALAR *x, int64_t n, int64_t stride)
{
    int64_t folded = n / LANES;
    SCALAR lanes[LANES];
    if (folded > 0) {
        ct_index_space rows;
        T(vec) vbest[LANES / VLEN];
        T(mask) vnan[LANES / VLEN];
        strided_rows(&rows, folded, LANES * stride);
        T(max_columns)(sign, x, LANES, stride, &rows, folded, vbest, vnan, lanes);
    }
    return T(finish_row_max)(sign, lanes, x, folded, n, stride);
}

/* best[q][l] = max over r < n (>= 1) of sign * rows[q][r * LANES + l] for ROW_STREAMS contiguous rows at once. */
CT_SIMD_CLONES __attribute__((noinline))
static void T(max_lanes_streams)(SCALAR sign, const SCALAR *const *rows, int64_t n, SCALAR *best)
{
    enum { VECTORS = LANES / VLEN };
    T(vec) vbest[ROW_STREAMS][VECTORS];
    T(mask) vnan[ROW_STREAMS][VECTORS];
    for (int q = 0; q < ROW_STREAMS; q++)
        for (int v = 0; v < VECTORS; v++) {
            memcpy(&vbest[q][v], rows[q] + v * VLEN, sizeof vbest[q][v]);
            vbest[q][v] *= sign;
            vnan[q][v] = (T(mask)){0};
        }
    for (int64_t r = 0; r < n; r++)
        for (int q = 0; q < ROW_STREAMS; q++)
            for (int v = 0; v < VECTORS; v++)
                T(max_update)(&vbest[q][v], &vnan[q][v], rows[q] + r * LANES + v * VLEN, sign);
    for (int q = 0; q < ROW_STREAMS; q++) T(store_max_lanes)(vbest[q], vnan[q], VECTORS, best + q * LANES);
}

/*
 * parts[q] = the op over contiguous row rows[q] (n >= 1 elements), for ROW_STREAMS rows read side by
 * side (see sum_rows_block), each to the bit what row_sum or sign * row_max gives for it alone.
 */
CT_INLINE void T(row_streams)(int op, const SCALAR *const *rows, int64_t n, double *parts)
{
    int64_t folded = n / LANES;
    if (op == CT_REDUCE_SUM) {
        T(row_sums_streams)(rows, n, parts);
        return;
    }
    SCALAR sign = T(extreme_sign)(op), lanes[ROW_STREAMS][LANES];
    if (folded > 0) T(max_lanes_streams)(sign, rows, folded, &lanes[0][0]);
    for (int q = 0; q < ROW_STREAMS; q++) parts[q] = sign * T(finish_row_max)(sign, lanes[q], rows[q], folded, n, 1);
}

typedef struct {
    int op;
    const SCALAR *x;
    ct_index_space outer, inner;
    ct_index_space row_starts; /* inner without its innermost dim */
    int64_t inner_count;
    int64_t row_len, row_stride; /* the innermost inner dim */
    SCALAR *out;
    double *partials; /* a single output in chunks: one per chunk; NULL otherwise */
    /* columns: outer = prefix dims x a contiguous dim of `width`, cut into tiles */
    ct_index_space outer_prefix;
    int64_t width, tile, tiles_per_prefix;
    double *scratch; /* per thread: scratch_len doubles (see reduce_columns) */
    int64_t scratch_len, pairwise_levels;
} T(reduce_job);

/* op over x[f] for inner flat indices f in [f_begin, f_end) (non-empty), walking whole or partial rows. */
CT_INLINE double T(reduce_inner_range)(const T(reduce_job) *job, const SCALAR *x, int64_t f_begin, int64_t f_end)
{
    ct_cursor cursor;
    ct_cursor_seek(&cursor, &job->row_starts, f_begin / job->row_len);
    int64_t col = f_begin % job->row_len;
    SCALAR sign = T(extreme_sign)(job->op);
    double acc = reduce_identity(job->op);
    for (int64_t f = f_begin; f < f_end;) {
        int64_t len = CT_MIN(job->row_len - col, f_end - f);
        const SCALAR *row = x + cursor.offset[0] + col * job->row_stride;
        double part = job->op == CT_REDUCE_SUM ? T(row_sum)(row, len, job->row_stride)
                                               : sign * T(row_max)(sign, row, len, job->row_stride);
        acc = reduce_combine(job->op, acc, part);
        f += len;
        col = 0;
        ct_cursor_step(&cursor, &job->row_starts);
    }
    return acc;
}

/*
 * rows and chunks: units [begin, end) are outputs (out[u]), or, for a single
 * output cut into chunks, chunks (partials[u]). One call site keeps one copy of the inlined kernels.
 */
CT_SIMD_CLONES
static void T(reduce_rows_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(reduce_job) *job = ctx;
    int chunked = job->partials != NULL;
    ct_cursor cursor;
    ct_cursor_seek(&cursor, &job->outer, chunked ? 0 : begin);
    /* Whole contiguous rows: ROW_STREAMS outputs at a time. */
    int streams = !chunked && job->row_starts.ndim == 0 && job->row_stride == 1;
    for (; streams && end - begin >= ROW_STREAMS; begin += ROW_STREAMS) {
        const SCALAR *rows[ROW_STREAMS];
        double parts[ROW_STREAMS];
        for (int q = 0; q < ROW_STREAMS; q++) {
            rows[q] = job->x + cursor.offset[0];
            ct_cursor_step(&cursor, &job->outer);
        }
        T(row_streams)(job->op, rows, job->row_len, parts);
        for (int q = 0; q < ROW_STREAMS; q++)
            job->out[begin + q] = (SCALAR)reduce_combine(job->op, reduce_identity(job->op), parts[q]);
    }
    for (int64_t u = begin; u < end; u++) {
        int64_t f_begin = chunked ? u * CHUNK : 0;
        int64_t f_end = chunked ? CT_MIN(job->inner_count, f_begin + CHUNK) : job->inner_count;
        double result = T(reduce_inner_range)(job, job->x + cursor.offset[0], f_begin, f_end);
        if (chunked)
            job->partials[u] = result;
        else
            job->out[u] = (SCALAR)result;
        ct_cursor_step(&cursor, &job->outer);
    }
}

/* ---------------------------------------------------------------- columns and chunks */

/* columns: unit u = (outer prefix u / tiles_per_prefix, outputs of tile u % tiles_per_prefix) */
CT_SIMD_CLONES
static void T(reduce_columns_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    const T(reduce_job) *job = ctx;
    double *scratch = job->scratch + member * job->scratch_len;
    for (int64_t u = begin; u < end; u++) {
        int64_t prefix = u / job->tiles_per_prefix, j0 = (u % job->tiles_per_prefix) * job->tile;
        int64_t width = CT_MIN(job->tile, job->width - j0), offset;
        ct_index_space_offsets(&job->outer_prefix, prefix, &offset);
        const SCALAR *x = job->x + offset + j0;
        SCALAR *out = job->out + prefix * job->width + j0;
        if (job->op == CT_REDUCE_SUM) {
            double *block = scratch, *sums = block + job->tile, *levels = sums + job->tile;
            T(sum_columns)(x, width, 1, &job->inner, job->inner_count, levels, block, sums);
            for (int64_t j = 0; j < width; j++) out[j] = (SCALAR)sums[j];
        } else {
            SCALAR sign = T(extreme_sign)(job->op);
            T(vec) *vbest = (T(vec) *)scratch; /* CT_BUFFER_ALIGN-aligned; the tile is a multiple of VLEN */
            T(mask) *vnan = (T(mask) *)(scratch + job->tile);
            T(max_columns)(sign, x, width, 1, &job->inner, job->inner_count, vbest, vnan, out);
            for (int64_t j = 0; j < width; j++) out[j] *= sign;
        }
    }
}

/*
 * Tiles as wide as the thread count allows (up to MAX_COLUMN_TILE): rows are then read in long
 * contiguous runs. Results do not depend on the tiling, since every column is reduced on its own.
 */
static int T(reduce_columns)(T(reduce_job) *job, int64_t outer_count, int64_t total)
{
    job->width = job->outer.shape[job->outer.ndim - 1];
    ct_index_space_drop_last(&job->outer, &job->outer_prefix);
    int64_t prefixes = outer_count / job->width;
    int threads = ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD,
                                 prefixes * ct_ceil_div(job->width, LANES));
    int64_t tiles_wanted = ct_ceil_div(threads, prefixes);
    job->tile = CT_MIN(ct_round_up(ct_ceil_div(job->width, tiles_wanted), LANES), (int64_t)MAX_COLUMN_TILE);
    job->tiles_per_prefix = ct_ceil_div(job->width, job->tile);
    job->pairwise_levels = pairwise_levels_for(ct_ceil_div(job->inner_count, PAIRWISE_BLOCK));
    job->scratch_len = (2 + job->pairwise_levels) * job->tile; /* sums: block, sums, levels; max: vbest, vnan */
    job->scratch = ct_aligned_alloc((size_t)(threads * job->scratch_len), sizeof(double));
    if (job->scratch == NULL) return CT_ERR_OUT_OF_MEMORY;
    ct_parallel_for(threads, prefixes * job->tiles_per_prefix, T(reduce_columns_units), job);
    ct_aligned_free(job->scratch);
    return CT_OK;
}

/* A single output: fixed CHUNK-sized pieces (in parallel when large), combined in order. */
static int T(reduce_single)(T(reduce_job) *job)
{
    int64_t chunks = ct_ceil_div(job->inner_count, CHUNK);
    if (chunks == 1) {
        T(reduce_rows_units)(job, 0, 1, 0);
        return CT_OK;
    }
    job->partials = ct_aligned_alloc((size_t)chunks, sizeof(double));
    if (job->partials == NULL) return CT_ERR_OUT_OF_MEMORY;
    int threads = ct_threads_for((double)job->inner_count, (double)MIN_ELEMS_PER_THREAD, chunks);
    ct_parallel_for(threads, chunks, T(reduce_rows_units), job);
    double acc = reduce_identity(job->op);
    for (int64_t c = 0; c < chunks; c++) acc = reduce_combine(job->op, acc, job->partials[c]);
    job->out[0] = (SCALAR)acc;
    ct_aligned_free(job->partials);
    return CT_OK;
}

int CT_PASTE(ct_reduce, SUFFIX)(int op, const SCALAR *x, int outer_ndim, const int64_t *outer_shape,
                                const int64_t *outer_strides, int inner_ndim, const int64_t *inner_shape,
                                const int64_t *inner_strides, SCALAR *out)
{
    if (op != CT_REDUCE_SUM && op != CT_REDUCE_MAX && op != CT_REDUCE_MIN) return CT_ERR_INVALID_ARGUMENT;
    T(reduce_job) job = {.op = op, .out = out};
    int64_t outer_count, total;
    int status = ct_index_space_init(&job.outer, outer_ndim, outer_shape, 1, &outer_strides, &outer_count);
    if (status == CT_OK)
        status = ct_index_space_init(&job.inner, inner_ndim, inner_shape, 1, &inner_strides, &job.inner_count);
    if (status != CT_OK) return status;
    if (job.inner_count == 0 && op != CT_REDUCE_SUM) return CT_ERR_INVALID_ARGUMENT; /* max of nothing */
    if (__builtin_mul_overflow(outer_count, job.inner_count, &total)) return CT_ERR_INVALID_ARGUMENT;
    if (outer_count == 0) return CT_OK;
    if (out == NULL || (total > 0 && x == NULL)) return CT_ERR_INVALID_ARGUMENT;
    if (job.inner_count == 0) {
        for (int64_t o = 0; o < outer_count; o++) out[o] = 0;
        return CT_OK;
    }

    int64_t base = 0;
    ct_index_space_simplify(&job.outer);
    ct_index_space_canonicalize(&job.inner, &base);
    job.x = x + base;
    int last_inner = job.inner.ndim - 1;
    job.row_len = last_inner >= 0 ? job.inner.shape[last_inner] : 1;
    job.row_stride = last_inner >= 0 ? job.inner.strides[0][last_inner] : 0;
    ct_index_space_drop_last(&job.inner, &job.row_starts);

    if (job.outer.ndim == 0) return T(reduce_single)(&job);
    int inner_contiguous = last_inner >= 0 && job.row_stride == 1;
    if (job.outer.strides[0][job.outer.ndim - 1] == 1 && !inner_contiguous)
        return T(reduce_columns)(&job, outer_count, total);
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, outer_count), outer_count,
                    T(reduce_rows_units), &job);
    return CT_OK;
}

/* ---------------------------------------------------------------- arg-max */

/* First i with x[i] == target (x[i] NaN when target is NaN), a vector at a time; target must occur
 * (-0.0 == 0.0, so a tie between zeros finds the first). */
CT_INLINE int64_t T(find_first)(const SCALAR *x, int64_t n, SCALAR target)
{
    int want_nan = target != target;
    T(vec) targets = (T(vec)){0} + target;
    int64_t i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        T(vec) v;
        memcpy(&v, x + i, sizeof v);
        T(mask) hits = want_nan ? v != v : v == targets;
        uint64_t words[4];
        memcpy(words, &hits, sizeof words);
        if (words[0] | words[1] | words[2] | words[3]) break;
    }
    while (want_nan ? x[i] == x[i] : x[i] != target) i++;
    return i;
}

/* First index of the largest x[i * stride], i < n (>= 1); the first NaN wins. */
CT_INLINE int64_t T(argmax_row)(const SCALAR *x, int64_t n, int64_t stride)
{
    /* Long contiguous rows: two vectorised passes, the max (NaN if any), then where it first occurs. */
    if (stride == 1 && n >= ARGMAX_TWO_PASS_MIN) return T(find_first)(x, n, T(row_max)(1, x, n, 1));
    int64_t arg = 0;
    SCALAR best = x[0];
    if (best != best) return 0;
    for (int64_t i = 1; i < n; i++) {
        SCALAR v = x[i * stride];
        if (!(v <= best)) { /* v > best, or v is NaN; ties (-0.0 == 0.0 too) keep the first */
            if (v != v) return i;
            best = v;
            arg = i;
        }
    }
    return arg;
}

typedef struct {
    const SCALAR *x;
    ct_index_space outer;
    int64_t axis_len, axis_stride;
    int64_t *out;
} T(argmax_job);

CT_SIMD_CLONES
static void T(argmax_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(argmax_job) *job = ctx;
    ct_cursor cursor;
    ct_cursor_seek(&cursor, &job->outer, begin);
    for (int64_t o = begin; o < end; o++) {
        job->out[o] = T(argmax_row)(job->x + cursor.offset[0], job->axis_len, job->axis_stride);
        ct_cursor_step(&cursor, &job->outer);
    }
}

int CT_PASTE(ct_argmax, SUFFIX)(const SCALAR *x, int outer_ndim, const int64_t *outer_shape,
                                const int64_t *outer_strides, int64_t axis_len, int64_t axis_stride, int64_t *out)
{
    T(argmax_job) job = {.x = x, .axis_len = axis_len, .axis_stride = axis_stride, .out = out};
    int64_t outer_count, total;
    int status = ct_index_space_init(&job.outer, outer_ndim, outer_shape, 1, &outer_strides, &outer_count);
    if (status != CT_OK) return status;
    if (axis_len < 1 || __builtin_mul_overflow(outer_count, axis_len, &total)) return CT_ERR_INVALID_ARGUMENT;
    if (outer_count == 0) return CT_OK;
    if (x == NULL || out == NULL) return CT_ERR_INVALID_ARGUMENT;
    ct_index_space_simplify(&job.outer);
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, outer_count), outer_count,
                    T(argmax_units), &job);
    return CT_OK;
}

#undef T
#undef VLEN
