/*
 * Matmul for one dtype; matmul.c includes this once per dtype with SCALAR
 * (float or double), SUFFIX (f32 or f64) and MC_ROWS defined.
 *
 * Large products run a packed GEMM in the BLIS/GotoBLAS layout:
 *
 *   for jc in steps of NC                       columns of B and C
 *     for pc in steps of KC                     the k range
 *       pack B[pc:+KC, jc:+NC] into NR-wide panels, k-major
 *       for ic in steps of MC                   rows of A and C
 *         pack A[ic:+MC, pc:+KC] into MR-tall panels, k-major
 *         for each MR x NR micro-tile: C_tile (+)= A_panel @ B_panel
 *
 * Packing reads A and B through their strides, so transposed, strided and
 * broadcast operands cost nothing extra; edge panels are zero-padded so the
 * micro-kernel always runs at full size; a full tile is stored straight into
 * C (when its columns are contiguous), an edge tile lands in a local tile
 * whose live corner is copied out. The micro-kernel keeps the MR x NR tile in
 * 2 * MR vector registers: per k step, two vectors of B times MR broadcast
 * elements of A.
 *
 * Skinny products (m or n of a few tiles) read their large operand where it
 * lies and pack only the small one and the large one's edge panel: packing
 * would copy as much memory as the multiply reads (see choose_layout).
 *
 * Small products (and matrix-vector ones) skip packing: each C element is a
 * dot product, or each C row a sum of B rows scaled by A (axpy), whichever
 * walks memory contiguously.
 *
 * Determinism: each C element is finished by one thread, which sums k in a
 * fixed order (KC blocks in order); the thread count only decides who
 * computes which tile, row or batch element.
 */
#define T(name) CT_PASTE(name, SUFFIX)

#define VEC_LANES ((int)(32 / sizeof(SCALAR)))
#define MR 6
#define NR (2 * VEC_LANES)
#define KC 256
#define MC MC_ROWS
#define NC 4096
/* Packed-buffer lengths are rounded to this many elements to keep every buffer 64-byte aligned. */
#define ALIGN_ELEMS ((int64_t)(CT_BUFFER_ALIGN / sizeof(SCALAR)))
/* Small path: C columns per work unit, and the m * n * k below which packing does not pay. */
#define SMALL_COLS 256
#define SMALL_WORK (16 * 16 * 16)
/* The largest operand read in place, strip by strip, rather than packed (see choose_layout). */
#define IN_PLACE_B_BYTES (1 << 20)
/* Thin path: C columns and rows per register tile, the most columns, and the least k (see is_thin_product). */
#define DOT_COLS 4
#define DOT_ROWS 3
#define THIN_COLS 12
#define THIN_MIN_K (4 * VEC_LANES)
/* Multiply-adds per thread before a second thread pays for itself. */
#define MIN_MACS_PER_THREAD (1 << 18)

typedef SCALAR T(vec) __attribute__((vector_size(32)));

typedef struct {
    int64_t m, n, kdim;
    const SCALAR *a;
    int64_t a_rs, a_cs;
    const SCALAR *b;
    int64_t b_rs, b_cs;
    SCALAR *c;
    int64_t c_rs, c_cs;
    ct_index_space batch; /* operands 0, 1, 2: a, b, c */
    int64_t batch_count;
    int a_in_place, b_in_place; /* packed path: read the operand where it lies (B: only when b_cs = 1) */
} T(matmul_args);

/* Rewrites the problem as C^T = B^T A^T: the same products summed in the same order, so the same bits. */
static void T(transpose_problem)(T(matmul_args) *p)
{
    const SCALAR *a = p->a;
    p->a = p->b;
    p->b = a;
    ct_swap_i64(&p->m, &p->n);
    ct_swap_i64(&p->a_rs, &p->b_cs);
    ct_swap_i64(&p->a_cs, &p->b_rs);
    ct_swap_i64(&p->c_rs, &p->c_cs);
    for (int d = 0; d < p->batch.ndim; d++) ct_swap_i64(&p->batch.strides[0][d], &p->batch.strides[1][d]);
}

/* ---------------------------------------------------------------- packed path */

/*
 * Packs panels [panel_begin, panel_end) of a block with `lanes` live lanes:
 *     dst[(q * depth + p) * width + r] = src[(q * width + r) * lane_stride + p * depth_stride]
 * for lane r < width of panel q and depth p < depth, zero where q * width + r >= lanes.
 * Full panels are read along whichever direction is contiguous in the source (a whole source
 * row across all panels when lanes are contiguous, `width` rows side by side when depths are),
 * so the hardware prefetcher sees long streams rather than one cache line per row.
 */
CT_INLINE void T(pack_panels)(int width, const SCALAR *src, int64_t lane_stride, int64_t depth_stride,
                              int64_t lanes, int64_t depth, int64_t panel_begin, int64_t panel_end,
                              SCALAR *restrict dst)
{
    int64_t full_end = CT_MAX(panel_begin, CT_MIN(panel_end, lanes / width));
    if (lane_stride == 1) {
        for (int64_t p = 0; p < depth; p++)
            for (int64_t q = panel_begin; q < full_end; q++)
                for (int r = 0; r < width; r++)
                    dst[(q * depth + p) * width + r] = src[q * width + r + p * depth_stride];
    } else {
        for (int64_t q = panel_begin; q < full_end; q++) {
            const SCALAR *panel_src = src + q * width * lane_stride;
            SCALAR *panel_dst = dst + q * width * depth;
            for (int64_t p = 0; p < depth; p++)
                for (int r = 0; r < width; r++) panel_dst[p * width + r] = panel_src[r * lane_stride + p * depth_stride];
        }
    }
    for (int64_t q = full_end; q < panel_end; q++) { /* the zero-padded edge panel */
        const SCALAR *panel_src = src + q * width * lane_stride;
        SCALAR *panel_dst = dst + q * width * depth;
        int64_t live = lanes - q * width;
        for (int64_t p = 0; p < depth; p++) {
            SCALAR *dst_row = panel_dst + p * width;
            const SCALAR *src_row = panel_src + p * depth_stride;
            for (int r = 0; r < width; r++) dst_row[r] = 0;
            if (lane_stride == 1)
                memcpy(dst_row, src_row, (size_t)live * sizeof(SCALAR));
            else
                for (int r = 0; r < live; r++) dst_row[r] = src_row[r * lane_stride];
        }
    }
}

CT_SIMD_CLONES
static void T(pack_a_panels)(const SCALAR *src, int64_t lane_stride, int64_t depth_stride, int64_t lanes,
                             int64_t depth, int64_t panel_begin, int64_t panel_end, SCALAR *dst)
{
    T(pack_panels)(MR, src, lane_stride, depth_stride, lanes, depth, panel_begin, panel_end, dst);
}

CT_SIMD_CLONES
static void T(pack_b_panels)(const SCALAR *src, int64_t lane_stride, int64_t depth_stride, int64_t lanes,
                             int64_t depth, int64_t panel_begin, int64_t panel_end, SCALAR *dst)
{
    T(pack_panels)(NR, src, lane_stride, depth_stride, lanes, depth, panel_begin, panel_end, dst);
}

/*
 * Packs a block of A (width MR) or B (width NR) into dst, panels split over the team, and returns NULL;
 * an operand read in place has only its partial last panel packed (by the last member, at the start of
 * dst), and the block itself is returned.
 */
static const SCALAR *T(pack_block)(int width, int in_place, const SCALAR *src, int64_t lane_stride,
                                   int64_t depth_stride, int64_t lanes, int64_t depth, int member, int team,
                                   SCALAR *dst)
{
    void (*pack)(const SCALAR *, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, SCALAR *) =
        width == MR ? T(pack_a_panels) : T(pack_b_panels);
    int64_t begin, end;
    if (in_place) {
        int64_t full = lanes / width * width;
        if (full < lanes && member == team - 1)
            pack(src + full * lane_stride, lane_stride, depth_stride, lanes - full, depth, 0, 1, dst);
        return src;
    }
    ct_split_range(ct_ceil_div(lanes, width), member, team, &begin, &end);
    pack(src, lane_stride, depth_stride, lanes, depth, begin, end, dst);
    return NULL;
}

/*
 * out[r][j] (+)= sum_{p < depth} a[r * a_rs + p * a_cs] * b[p * b_rs + j]   (out: MR x NR, rows out_rs apart)
 * Packed panels have a_rs = 1, a_cs = MR and b_rs = NR (constants once inlined); an operand read in
 * place has its own strides. out is a full tile of C, or a local tile for an edge.
 */
CT_INLINE void T(micro_kernel)(int64_t depth, const SCALAR *restrict a, int64_t a_rs, int64_t a_cs,
                               const SCALAR *restrict b, int64_t b_rs, SCALAR *restrict out, int64_t out_rs,
                               int accumulate)
{
    T(vec) acc[MR][2];
    for (int r = 0; r < MR; r++) {
        acc[r][0] = (T(vec)){0};
        acc[r][1] = (T(vec)){0};
    }
    for (int64_t p = 0; p < depth; p++) {
        T(vec) b_lo, b_hi;
        memcpy(&b_lo, b, sizeof b_lo);
        memcpy(&b_hi, b + VEC_LANES, sizeof b_hi);
        if (b_rs != NR && p + 16 < depth) __builtin_prefetch(b + 16 * b_rs, 0, 3); /* B in place: rows far apart */
        for (int r = 0; r < MR; r++) {
            acc[r][0] += a[r * a_rs] * b_lo;
            acc[r][1] += a[r * a_rs] * b_hi;
        }
        a += a_cs;
        b += b_rs;
    }
    for (int r = 0; r < MR; r++) {
        SCALAR *out_row = out + r * out_rs;
        if (accumulate) {
            T(vec) old_lo, old_hi;
            memcpy(&old_lo, out_row, sizeof old_lo);
            memcpy(&old_hi, out_row + VEC_LANES, sizeof old_hi);
            acc[r][0] += old_lo;
            acc[r][1] += old_hi;
        }
        memcpy(out_row, &acc[r][0], sizeof acc[r][0]);
        memcpy(out_row + VEC_LANES, &acc[r][1], sizeof acc[r][1]);
    }
}

/* C[i, j] = tile[i][j] (first k block) or C[i, j] += tile[i][j] (later ones), for the live rows x cols corner. */
CT_INLINE void T(store_tile)(const SCALAR *restrict tile, int64_t rows, int64_t cols, SCALAR *restrict c,
                             int64_t c_rs, int64_t c_cs, int accumulate)
{
    for (int64_t i = 0; i < rows; i++) {
        SCALAR *c_row = c + i * c_rs;
        const SCALAR *tile_row = tile + i * NR;
        if (c_cs == 1) {
            if (accumulate)
                for (int64_t j = 0; j < cols; j++) c_row[j] += tile_row[j];
            else
                for (int64_t j = 0; j < cols; j++) c_row[j] = tile_row[j];
        } else {
            for (int64_t j = 0; j < cols; j++)
                c_row[j * c_cs] = accumulate ? c_row[j * c_cs] + tile_row[j] : tile_row[j];
        }
    }
}

/*
 * One packed block pair and the C block it updates. An operand read in place (a_in_place, b_in_place
 * not NULL) is packed only for its partial last panel, at the start of a_pack or b_pack.
 */
typedef struct {
    int64_t mc, nc, kc;
    const SCALAR *a_pack, *b_pack;
    const SCALAR *a_in_place, *b_in_place;
    int64_t a_rs, a_cs, b_rs; /* strides of the operands read in place (B's column stride is 1) */
    SCALAR *c;
    int64_t c_rs, c_cs;
    int accumulate;
} T(tile_block);

/* Micro-tiles [tile_begin, tile_end) of a block; tile t is column panel t / row_panels, row panel t % row_panels. */
CT_SIMD_CLONES
static void T(compute_tiles)(const T(tile_block) *blk, int64_t tile_begin, int64_t tile_end)
{
    int64_t row_panels = ct_ceil_div(blk->mc, MR);
    SCALAR tile[MR * NR] __attribute__((aligned(CT_BUFFER_ALIGN)));
    for (int64_t t = tile_begin; t < tile_end; t++) {
        int64_t col_panel = t / row_panels, row_panel = t % row_panels;
        int64_t i0 = row_panel * MR, j0 = col_panel * NR;
        int64_t rows = CT_MIN((int64_t)MR, blk->mc - i0), cols = CT_MIN((int64_t)NR, blk->nc - j0);
        SCALAR *c = blk->c + i0 * blk->c_rs + j0 * blk->c_cs;
        /* C rows are far apart in memory and miss the caches: fetch them while the tile is computed. */
        for (int64_t i = 0; i < rows; i++) {
            __builtin_prefetch(c + i * blk->c_rs, 1, 3);
            __builtin_prefetch(c + i * blk->c_rs + (cols - 1) * blk->c_cs, 1, 3);
        }
        /* An operand read in place has only its edge panel packed, at the start of its pack. */
        const SCALAR *a_packed = blk->a_pack + (blk->a_in_place ? 0 : row_panel) * MR * blk->kc;
        const SCALAR *b_packed = blk->b_pack + (blk->b_in_place ? 0 : col_panel) * NR * blk->kc;
        int a_direct = blk->a_in_place != NULL && rows == MR, b_direct = blk->b_in_place != NULL && cols == NR;
        /* A full tile of a C with unit column stride is stored straight from the registers. */
        int c_direct = rows == MR && cols == NR && blk->c_cs == 1;
        SCALAR *out = c_direct ? c : tile;
        int64_t out_rs = c_direct ? blk->c_rs : NR;
        if (a_direct || b_direct)
            T(micro_kernel)(blk->kc, a_direct ? blk->a_in_place + i0 * blk->a_rs : a_packed, a_direct ? blk->a_rs : 1,
                            a_direct ? blk->a_cs : MR, b_direct ? blk->b_in_place + j0 : b_packed,
                            b_direct ? blk->b_rs : NR, out, out_rs, c_direct && blk->accumulate);
        else
            T(micro_kernel)(blk->kc, a_packed, 1, MR, b_packed, NR, out, out_rs, c_direct && blk->accumulate);
        if (!c_direct) T(store_tile)(tile, rows, cols, c, blk->c_rs, blk->c_cs, blk->accumulate);
    }
}

/* The step that cuts `size` into the fewest blocks of at most `limit`, as equal as a multiple of `unit` allows. */
static int64_t T(even_block)(int64_t size, int64_t limit, int64_t unit)
{
    int64_t blocks = ct_ceil_div(CT_MAX(size, (int64_t)1), limit);
    return CT_MIN(limit, ct_round_up(ct_ceil_div(size, blocks), unit));
}

/*
 * One batch element's product by member `member` of a team of `team` threads
 * sharing a_pack and b_pack (team = 1: a private product, no barriers).
 */
static void T(gemm_blocked)(const T(matmul_args) *p, int64_t batch_index, SCALAR *a_pack, SCALAR *b_pack,
                            int member, int team)
{
    int64_t offsets[CT_MAX_OPERANDS];
    ct_index_space_offsets(&p->batch, batch_index, offsets);
    const SCALAR *a = p->a + offsets[0], *b = p->b + offsets[1];
    T(tile_block) blk = {.a_pack = a_pack, .b_pack = b_pack, .a_rs = p->a_rs, .a_cs = p->a_cs, .b_rs = p->b_rs,
                         .c_rs = p->c_rs, .c_cs = p->c_cs};
    int64_t begin, end;

    /* Equal blocks rather than full ones and a thin remainder (k = 784 runs as 4 x 196, not 3 x 256 + 16). */
    int64_t nc_step = p->b_in_place ? p->n : T(even_block)(p->n, NC, NR), kc_step = T(even_block)(p->kdim, KC, 1);
    int64_t mc_step = p->a_in_place ? p->m : T(even_block)(p->m, MC, MR);
    for (int64_t jc = 0; jc < p->n; jc += nc_step) {
        blk.nc = CT_MIN(nc_step, p->n - jc);
        int64_t col_panels = ct_ceil_div(blk.nc, NR);
        for (int64_t pc = 0; pc < p->kdim; pc += kc_step) {
            blk.kc = CT_MIN(kc_step, p->kdim - pc);
            blk.accumulate = pc > 0;
            for (int64_t ic = 0; ic < p->m; ic += mc_step) {
                blk.mc = CT_MIN(mc_step, p->m - ic);
                int64_t row_panels = ct_ceil_div(blk.mc, MR);
                if (team > 1) ct_team_barrier(); /* everyone is done with the previous packs */
                if (ic == 0)
                    blk.b_in_place = T(pack_block)(NR, p->b_in_place, b + pc * p->b_rs + jc * p->b_cs, p->b_cs,
                                                   p->b_rs, blk.nc, blk.kc, member, team, b_pack);
                blk.a_in_place = T(pack_block)(MR, p->a_in_place, a + ic * p->a_rs + pc * p->a_cs, p->a_rs, p->a_cs,
                                               blk.mc, blk.kc, member, team, a_pack);
                if (team > 1) ct_team_barrier(); /* packs are complete */
                blk.c = p->c + offsets[2] + ic * p->c_rs + jc * p->c_cs;
                ct_split_range(row_panels * col_panels, member, team, &begin, &end);
                T(compute_tiles)(&blk, begin, end);
            }
        }
    }
}

typedef struct {
    const T(matmul_args) *args;
    SCALAR *pack_memory;
    int64_t a_pack_len, b_pack_len; /* elements per copy */
    int split_batches;              /* 1: each member owns whole batch elements and its own pack copy */
} T(packed_job);

static void T(packed_member)(void *ctx, int member, int team)
{
    const T(packed_job) *job = ctx;
    int64_t copy_len = job->a_pack_len + job->b_pack_len;
    if (job->split_batches) {
        SCALAR *a_pack = job->pack_memory + member * copy_len;
        int64_t begin, end;
        ct_split_range(job->args->batch_count, member, team, &begin, &end);
        for (int64_t bi = begin; bi < end; bi++) T(gemm_blocked)(job->args, bi, a_pack, a_pack + job->a_pack_len, 0, 1);
    } else {
        SCALAR *a_pack = job->pack_memory;
        for (int64_t bi = 0; bi < job->args->batch_count; bi++)
            T(gemm_blocked)(job->args, bi, a_pack, a_pack + job->a_pack_len, member, team);
    }
}

/* Elements of C computed including zero padding, in this orientation. */
static int64_t T(padded_area)(int64_t m, int64_t n) { return ct_round_up(m, MR) * ct_round_up(n, NR); }

/* Whether a k x cols operand takes at most IN_PLACE_B_BYTES. */
static int T(fits_in_place)(int64_t kdim, int64_t cols)
{
    return (double)kdim * (double)cols * sizeof(SCALAR) <= IN_PLACE_B_BYTES;
}

/*
 * Picks the orientation (C = A B or C^T = B^T A^T) and whether the large operand of a skinny product is
 * read where it lies instead of packed (for a thin product, packing copies as much memory as the multiply
 * reads):
 *   B in place, two vectors of a contiguous row per k step, when m <= 2 MR (each strip of B is read at
 *   most twice) and B is at most IN_PLACE_B_BYTES: a strip runs down rows far apart, which pays only
 *   while they stay in the caches (1.2-1.5x the packed path's speed at 0.5 MiB, 0.4-0.6x at 2-16 MiB);
 *   A in place, MR contiguous rows side by side, when n <= 2 NR (1.0-1.8x; rows stream from memory).
 * Otherwise both are packed, in the orientation that pads the short side least (on a tie, the one that
 * walks C along its contiguous direction).
 */
static void T(choose_layout)(T(matmul_args) *p)
{
    if (p->m <= 2 * MR && p->b_cs == 1 && T(fits_in_place)(p->kdim, p->n)) {
        p->b_in_place = 1;
    } else if (p->n <= 2 * MR && p->a_rs == 1 && T(fits_in_place)(p->kdim, p->m)) {
        T(transpose_problem)(p);
        p->b_in_place = 1;
    } else if (p->n <= 2 * NR && p->a_cs == 1) {
        p->a_in_place = 1;
    } else if (p->m <= 2 * NR && p->b_rs == 1) {
        T(transpose_problem)(p);
        p->a_in_place = 1;
    } else {
        int64_t area = T(padded_area)(p->m, p->n), area_transposed = T(padded_area)(p->n, p->m);
        if (area_transposed < area || (area_transposed == area && p->c_rs == 1 && p->c_cs != 1))
            T(transpose_problem)(p);
    }
}

static int T(packed_matmul)(T(matmul_args) *p)
{
    T(choose_layout)(p);
    double macs = (double)p->m * (double)p->n * (double)p->kdim;
    int64_t tiles = ct_ceil_div(p->m, MR) * ct_ceil_div(p->n, NR);
    int threads = ct_threads_for(macs * (double)p->batch_count, MIN_MACS_PER_THREAD,
                                 tiles > INT64_MAX / p->batch_count ? INT64_MAX : tiles * p->batch_count);
    T(packed_job) job = {
        .args = p,
        .a_pack_len = ct_round_up(ct_round_up(CT_MIN(p->m, (int64_t)MC), MR) * CT_MIN(p->kdim, (int64_t)KC),
                                  ALIGN_ELEMS),
        .b_pack_len = ct_round_up(CT_MIN(p->kdim, (int64_t)KC) * ct_round_up(CT_MIN(p->n, (int64_t)NC), NR),
                                  ALIGN_ELEMS),
        .split_batches = threads > 1 && (p->batch_count % threads == 0 || p->batch_count >= 4 * threads),
    };
    size_t copies = job.split_batches ? (size_t)threads : 1;
    job.pack_memory = ct_aligned_alloc(copies * (size_t)(job.a_pack_len + job.b_pack_len), sizeof(SCALAR));
    if (job.pack_memory == NULL) return CT_ERR_OUT_OF_MEMORY;
    ct_parallel_team(threads, T(packed_member), &job);
    ct_aligned_free(job.pack_memory);
    return CT_OK;
}

/* ---------------------------------------------------------------- small path */

/* sum_p a[p * a_step] * b[p * b_step], in interleaved partial sums when both are contiguous */
CT_INLINE SCALAR T(dot)(int64_t kdim, const SCALAR *a, int64_t a_step, const SCALAR *b, int64_t b_step)
{
    SCALAR sum = 0;
    int64_t p = 0;
    if (a_step == 1 && b_step == 1) {
        enum { PARTS = 4 * VEC_LANES };
        SCALAR part[PARTS] = {0};
        for (; p + PARTS <= kdim; p += PARTS)
            for (int l = 0; l < PARTS; l++) part[l] += a[p + l] * b[p + l];
        for (int l = 0; l < PARTS; l++) sum += part[l];
        for (; p < kdim; p++) sum += a[p] * b[p];
        return sum;
    }
    for (; p < kdim; p++) sum += a[p * a_step] * b[p * b_step];
    return sum;
}

/* c_row[j] = sum_p a_row[p] * B[p, j] for j < cols, as a sum of B rows (unit column stride) scaled by a_row[p] */
CT_INLINE void T(axpy_row)(int64_t kdim, const SCALAR *a_row, int64_t a_step, const SCALAR *b, int64_t b_rs,
                           int64_t cols, SCALAR *c_row, int64_t c_step)
{
    SCALAR acc[SMALL_COLS];
    for (int64_t j = 0; j < cols; j++) acc[j] = 0;
    for (int64_t p = 0; p < kdim; p++) {
        SCALAR scale = a_row[p * a_step];
        const SCALAR *b_row = b + p * b_rs;
        for (int64_t j = 0; j < cols; j++) acc[j] += scale * b_row[j];
    }
    for (int64_t j = 0; j < cols; j++) c_row[j * c_step] = acc[j];
}

typedef struct {
    const T(matmul_args) *args;
    int64_t col_chunks; /* SMALL_COLS-wide pieces of a C row */
    int use_axpy;
} T(small_job);

/* Units [begin, end): unit u is batch element u / (m * col_chunks), then row, then column chunk. */
CT_SIMD_CLONES
static void T(small_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(small_job) *job = ctx;
    const T(matmul_args) *p = job->args;
    int64_t units_per_batch = p->m * job->col_chunks, batch_index = -1;
    int64_t offsets[CT_MAX_OPERANDS] = {0};
    for (int64_t u = begin; u < end; u++) {
        if (u / units_per_batch != batch_index) {
            batch_index = u / units_per_batch;
            ct_index_space_offsets(&p->batch, batch_index, offsets);
        }
        int64_t within = u % units_per_batch, i = within / job->col_chunks;
        int64_t j0 = (within % job->col_chunks) * SMALL_COLS, cols = CT_MIN((int64_t)SMALL_COLS, p->n - j0);
        const SCALAR *a_row = p->a + offsets[0] + i * p->a_rs, *b = p->b + offsets[1] + j0 * p->b_cs;
        SCALAR *c_row = p->c + offsets[2] + i * p->c_rs + j0 * p->c_cs;
        if (job->use_axpy) {
            T(axpy_row)(p->kdim, a_row, p->a_cs, b, p->b_rs, cols, c_row, p->c_cs);
        } else {
            for (int64_t j = 0; j < cols; j++)
                c_row[j * p->c_cs] = T(dot)(p->kdim, a_row, p->a_cs, b + j * p->b_cs, p->b_rs);
        }
    }
}

static int T(is_small_product)(int64_t m, int64_t n, int64_t kdim)
{
    int64_t mn, mnk;
    if (kdim == 0 || m == 1 || n == 1) return 1;
    if (__builtin_mul_overflow(m, n, &mn) || __builtin_mul_overflow(mn, kdim, &mnk)) return 0;
    return mnk <= SMALL_WORK;
}

static void T(small_matmul)(T(matmul_args) *p)
{
    /*
     * Dot products when A rows and B columns are both contiguous; otherwise sums
     * of contiguous B rows, or (transposed) of contiguous A columns, whichever
     * is wider; otherwise strided dot products.
     */
    int use_axpy = 0, rows_of_b = p->b_cs == 1, cols_of_a = p->a_rs == 1;
    if (!(p->a_cs == 1 && p->b_rs == 1) && p->kdim > 0 && (rows_of_b || cols_of_a)) {
        if (cols_of_a && (!rows_of_b || p->m > p->n)) T(transpose_problem)(p);
        use_axpy = 1;
    }
    T(small_job) job = {.args = p, .col_chunks = ct_ceil_div(p->n, SMALL_COLS), .use_axpy = use_axpy};
    int64_t units = p->batch_count * p->m * job.col_chunks;
    double macs = (double)p->batch_count * (double)p->m * (double)p->n * (double)CT_MAX(p->kdim, (int64_t)1);
    ct_parallel_for(ct_threads_for(macs, MIN_MACS_PER_THREAD / 2, units), units, T(small_units), &job);
}

/* ---------------------------------------------------------------- thin path */

/*
 * c[r * c_rs + j * c_cs] = sum_p a[r * a_rs + p] * bt[j * kdim + p] for r < rows (DOT_ROWS or 1), j < n:
 * rows x DOT_COLS dot products at a time, VEC_LANES partial sums each in registers (rows + DOT_COLS vector
 * loads per rows * DOT_COLS multiply-adds), then a fixed tree over the lanes and the k tail in order.
 * The loops are unrolled by pragma: left to itself, GCC 12 kept the sums on the stack (0.25-0.5x).
 */
CT_INLINE void T(dot_rows)(int rows, int64_t kdim, const SCALAR *a, int64_t a_rs, const SCALAR *bt, int64_t n,
                           SCALAR *c, int64_t c_rs, int64_t c_cs)
{
    int64_t k_vec = kdim / VEC_LANES * VEC_LANES;
    for (int64_t j0 = 0; j0 < n; j0 += DOT_COLS) { /* bt has whole groups of DOT_COLS rows, zero past n */
        T(vec) acc[DOT_ROWS][DOT_COLS];
#pragma GCC unroll 4
        for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
            for (int j = 0; j < DOT_COLS; j++) acc[r][j] = (T(vec)){0};
        for (int64_t p = 0; p < k_vec; p += VEC_LANES) {
            T(vec) a_vec[DOT_ROWS], b_vec[DOT_COLS];
#pragma GCC unroll 4
            for (int r = 0; r < rows; r++) memcpy(&a_vec[r], a + r * a_rs + p, sizeof a_vec[r]);
#pragma GCC unroll 4
            for (int j = 0; j < DOT_COLS; j++) memcpy(&b_vec[j], bt + (j0 + j) * kdim + p, sizeof b_vec[j]);
#pragma GCC unroll 4
            for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
                for (int j = 0; j < DOT_COLS; j++) acc[r][j] += a_vec[r] * b_vec[j];
        }
#pragma GCC unroll 4
        for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
            for (int j = 0; j < DOT_COLS; j++) { /* constant indices keep acc in registers */
                if (j0 + j >= n) continue;
                SCALAR lanes[VEC_LANES];
                memcpy(lanes, &acc[r][j], sizeof lanes);
                for (int step = VEC_LANES / 2; step > 0; step /= 2)
                    for (int l = 0; l < step; l++) lanes[l] += lanes[l + step];
                SCALAR sum = lanes[0];
                for (int64_t p = k_vec; p < kdim; p++) sum += a[r * a_rs + p] * bt[(j0 + j) * kdim + p];
                c[r * c_rs + (j0 + j) * c_cs] = sum;
            }
    }
}

typedef struct {
    const T(matmul_args) *args;
    const SCALAR *bt; /* B transposed: ct_round_up(n, DOT_COLS) rows of kdim, zero past n */
} T(thin_job);

/* Rows [DOT_ROWS * begin, DOT_ROWS * end) of C, clipped to m. */
CT_SIMD_CLONES
static void T(thin_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(thin_job) *job = ctx;
    const T(matmul_args) *p = job->args;
    for (int64_t i = begin * DOT_ROWS; i < CT_MIN(p->m, end * DOT_ROWS); i += DOT_ROWS) {
        const SCALAR *a = p->a + i * p->a_rs;
        SCALAR *c = p->c + i * p->c_rs;
        if (p->m - i >= DOT_ROWS)
            T(dot_rows)(DOT_ROWS, p->kdim, a, p->a_rs, job->bt, p->n, c, p->c_rs, p->c_cs);
        else
            for (int64_t r = i; r < p->m; r++)
                T(dot_rows)(1, p->kdim, p->a + r * p->a_rs, p->a_rs, job->bt, p->n, p->c + r * p->c_rs, p->c_rs,
                            p->c_cs);
    }
}

/*
 * A thin product (n at most THIN_COLS, one batch element, k of a few vectors at least) whose A rows are
 * contiguous, possibly after transposing the problem: C[i, j] is the dot product of A's row i and B's
 * column j, vectorised along k, with B copied transposed once. Every lane computes: the packed path would
 * pad n = 10 to 16 columns, this pads it to 12 (or none when n is a multiple of DOT_COLS).
 */
static int T(is_thin_product)(T(matmul_args) *p)
{
    if (p->batch_count != 1 || p->kdim < THIN_MIN_K) return 0;
    if (p->n <= THIN_COLS && p->a_cs == 1) return 1;
    if (p->m <= THIN_COLS && p->b_rs == 1) {
        T(transpose_problem)(p);
        return 1;
    }
    return 0;
}

static int T(thin_matmul)(const T(matmul_args) *p)
{
    int64_t bt_rows = ct_round_up(p->n, DOT_COLS);
    SCALAR *bt = ct_aligned_alloc((size_t)(bt_rows * p->kdim), sizeof(SCALAR));
    if (bt == NULL) return CT_ERR_OUT_OF_MEMORY;
    for (int64_t j = 0; j < bt_rows; j++)
        for (int64_t q = 0; q < p->kdim; q++) bt[j * p->kdim + q] = j < p->n ? p->b[q * p->b_rs + j * p->b_cs] : 0;
    T(thin_job) job = {.args = p, .bt = bt};
    int64_t units = ct_ceil_div(p->m, DOT_ROWS);
    double macs = (double)p->m * (double)p->n * (double)p->kdim;
    ct_parallel_for(ct_threads_for(macs, MIN_MACS_PER_THREAD, units), units, T(thin_units), &job);
    ct_aligned_free(bt);
    return CT_OK;
}

/* ---------------------------------------------------------------- entry point */

int CT_PASTE(ct_matmul, SUFFIX)(int64_t m, int64_t n, int64_t kdim, const SCALAR *a, int64_t a_rs, int64_t a_cs,
                                const SCALAR *b, int64_t b_rs, int64_t b_cs, SCALAR *c, int64_t c_rs, int64_t c_cs,
                                int batch_ndim, const int64_t *batch_shape, const int64_t *a_batch_strides,
                                const int64_t *b_batch_strides, const int64_t *c_batch_strides)
{
    if (m < 0 || n < 0 || kdim < 0) return CT_ERR_INVALID_ARGUMENT;
    T(matmul_args) p = {.m = m, .n = n, .kdim = kdim, .a = a, .a_rs = a_rs, .a_cs = a_cs, .b = b, .b_rs = b_rs,
                        .b_cs = b_cs, .c = c, .c_rs = c_rs, .c_cs = c_cs};
    const int64_t *batch_strides[CT_MAX_OPERANDS] = {a_batch_strides, b_batch_strides, c_batch_strides};
    int status = ct_index_space_init(&p.batch, batch_ndim, batch_shape, 3, batch_strides, &p.batch_count);
    if (status != CT_OK) return status;
    int64_t mn, outputs;
    if (__builtin_mul_overflow(m, n, &mn) || __builtin_mul_overflow(mn, p.batch_count, &outputs))
        return CT_ERR_INVALID_ARGUMENT;
    if (outputs == 0) return CT_OK;
    if (c == NULL || (kdim > 0 && (a == NULL || b == NULL))) return CT_ERR_INVALID_ARGUMENT;

    ct_index_space_simplify(&p.batch);
    if (T(is_small_product)(m, n, kdim)) {
        T(small_matmul)(&p);
        return CT_OK;
    }
    if (T(is_thin_product)(&p)) return T(thin_matmul)(&p);
    return T(packed_matmul)(&p);
}

#undef T
#undef VEC_LANES
#undef MR
#undef NR
#undef KC
#undef MC
#undef NC
#undef ALIGN_ELEMS
#undef SMALL_COLS
#undef SMALL_WORK
#undef IN_PLACE_B_BYTES
#undef DOT_COLS
#undef DOT_ROWS
#undef THIN_COLS
#undef THIN_MIN_K
#undef MIN_MACS_PER_THREAD
