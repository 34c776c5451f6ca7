/*
 * Batch norm and group norm for one dtype; norm.c includes this with SCALAR
 * (float or double) and SUFFIX (f32 or f64). See norm.c for the math.
 *
 * Batch norm views x as (n, channels, spatial) and group norm as rows of
 * channels_per_group * spatial values, one per (sample, group). Where every
 * channel's value is a single number (spatial = 1: BatchNorm1d on (N, C),
 * layer norm) the loops run across channels, where they vectorise; otherwise
 * along the runs of `spatial` values.
 */
#define T(name) CT_PASTE(name, SUFFIX)

/* ---------------------------------------------------------------- contiguous runs */

#define VLEN ((int)(32 / sizeof(SCALAR)))
#define LANE_VECTORS (LANES / VLEN)
typedef SCALAR T(vec) __attribute__((vector_size(32)));
/* p[0, VLEN) read as one vector, p aligned to SCALAR only. */
typedef SCALAR T(unaligned_vec) __attribute__((vector_size(32), aligned(sizeof(SCALAR)), may_alias));
#define LOAD(p) ((T(vec))(*(const T(unaligned_vec) *)(p)))

/*
 * Block sums about the block's own center b, added into running sums about c, in double: for each
 * value j < 4 * quads, with d = x - b, A = sum(u), B = sum(u * d) over n values and delta = b - c,
 *   sum_u[j] += A + n * delta,   sum_u_xc[j] += B + delta * (2A + n * delta),
 * which are sum(x - c) and sum((x - c)^2) when u = d (the statistics); A and B when delta is NULL (0).
 * The statistics center each block at its own mean, so d stays within the block's spread however far
 * c (the first value) lies from the rest: the SCALAR sums then lose nothing to the cancellation in
 * var = mean((x-c)^2) - mean(x-c)^2, which happens here, in double. (sum_u, sum_u_xc: any alignment.)
 */
CT_INLINE void T(add_block_sums)(double *sum_u, double *sum_u_xc, const T(vec) *u_sums, const T(vec) *u_xc_sums,
                                 const double4 *delta, double n, int quads)
{
    for (int q = 0; q < quads; q++) {
        const SCALAR *a = (const SCALAR *)u_sums + 4 * q, *b = (const SCALAR *)u_xc_sums + 4 * q;
        double4 sum_a = {a[0], a[1], a[2], a[3]}, sum_b = {b[0], b[1], b[2], b[3]}; /* (one vcvtps2pd each) */
        double4 total_u, total_u_xc;
        memcpy(&total_u, sum_u + 4 * q, sizeof total_u);
        memcpy(&total_u_xc, sum_u_xc + 4 * q, sizeof total_u_xc);
        if (delta != NULL) {
            total_u += sum_a + n * delta[q];
            total_u_xc += sum_b + delta[q] * (2 * sum_a + n * delta[q]);
        } else {
            total_u += sum_a;
            total_u_xc += sum_b;
        }
        memcpy(sum_u + 4 * q, &total_u, sizeof total_u);
        memcpy(sum_u_xc + 4 * q, &total_u_xc, sizeof total_u_xc);
    }
}

/*
 * centers[v] = the mean of x[s * step + v * VLEN ..+ VLEN) over s < steps, v < vectors, in SCALAR: a
 * block's centers for its statistics (each lane of a row's block, each column of a batch's block).
 * Any center is exact in add_block_sums; one near the block's values keeps its d small.
 */
CT_INLINE void T(block_means)(const SCALAR *x, int64_t steps, int64_t step, int vectors, T(vec) *centers)
{
    for (int v = 0; v < vectors; v++) centers[v] = (T(vec)){0};
    for (int64_t s = 0; s < steps; s++)
        for (int v = 0; v < vectors; v++) centers[v] += LOAD(x + s * step + v * VLEN);
    for (int v = 0; v < vectors; v++) centers[v] *= 1 / (SCALAR)steps;
}

/* delta[q] = block_centers[4q .. 4q+3] - center, widened to double. */
CT_INLINE void T(center_shifts)(const T(vec) *block_centers, const SCALAR *center, int center_step, double4 *delta,
                                int quads)
{
    for (int q = 0; q < quads; q++) {
        const SCALAR *b = (const SCALAR *)block_centers + 4 * q, *c = center + center_step * 4 * q;
        delta[q] = (double4){b[0], b[1], b[2], b[3]} -
                   (double4){c[0], c[center_step], c[2 * center_step], c[3 * center_step]};
    }
}

/*
 * The two sums every pass over a run needs: *sum_u += sum(u) and *sum_u_xc += sum(u * (x - center)) over
 * [0, count), with u = dy (the backward's sums), or u = x - center when dy is NULL (the statistics'
 * sums of d and d^2, d = x shifted by center). LANES interleaved sums in SCALAR over each block of
 * BLOCK_STEPS * LANES values, added into double lanes per block (statistics: each lane about its own
 * mean over the block, see add_block_sums); the last count % LANES values in double.
 */
CT_INLINE void T(paired_sums_body)(const SCALAR *x, const SCALAR *dy, int64_t count, SCALAR center, double *sum_u,
                                   double *sum_u_xc, int has_dy)
{
    double lanes_u[LANES] = {0}, lanes_u_xc[LANES] = {0};
    int64_t full = count / LANES * LANES, i = 0;
    while (i < full) {
        int64_t block_end = CT_MIN(full, i + BLOCK_STEPS * LANES), steps = (block_end - i) / LANES;
        T(vec) u_sums[LANE_VECTORS] = {0}, u_xc_sums[LANE_VECTORS] = {0}, centers[LANE_VECTORS];
        if (has_dy)
            for (int v = 0; v < LANE_VECTORS; v++) centers[v] = (T(vec)){0} + center;
        else
            T(block_means)(x + i, steps, LANES, LANE_VECTORS, centers);
        for (; i < block_end; i += LANES)
            for (int v = 0; v < LANE_VECTORS; v++) {
                T(vec) xc = LOAD(x + i + v * VLEN) - centers[v], u = has_dy ? LOAD(dy + i + v * VLEN) : xc;
                u_sums[v] += u;
                u_xc_sums[v] += u * xc;
            }
        double4 delta[LANES / 4];
        if (!has_dy) T(center_shifts)(centers, &center, 0, delta, LANES / 4);
        T(add_block_sums)(lanes_u, lanes_u_xc, u_sums, u_xc_sums, has_dy ? NULL : delta, (double)steps, LANES / 4);
    }
    double tail_u = 0, tail_u_xc = 0;
    for (; i < count; i++) {
        double xc = (double)x[i] - center, u = has_dy ? dy[i] : xc;
        tail_u += u;
        tail_u_xc += u * xc;
    }
    *sum_u += lane_total(lanes_u) + tail_u;
    *sum_u_xc += lane_total(lanes_u_xc) + tail_u_xc;
}

/* (dy tested once, outside the loops: each mode gets its own.) */
CT_INLINE void T(paired_sums)(const SCALAR *x, const SCALAR *dy, int64_t count, SCALAR center, double *sum_u,
                              double *sum_u_xc)
{
    if (dy != NULL)
        T(paired_sums_body)(x, dy, count, center, sum_u, sum_u_xc, 1);
    else
        T(paired_sums_body)(x, NULL, count, center, sum_u, sum_u_xc, 0);
}

/*
 * The same two sums per column over `rows` rows `stride` apart, `width` columns each (the spatial = 1
 * layout), with center[c] per column: sum_u[c] and sum_u_xc[c]. Each block of BLOCK_ROWS rows is
 * summed in SCALAR (statistics: about the block's own column means), TILE_VECTORS vectors of columns at a
 * time in registers, and the block sums added in double (add_block_sums): the double work per element
 * drops BLOCK_ROWS-fold. Columns past the last full tile go one at a time, the same way.
 */
CT_INLINE void T(column_paired_sums_body)(const SCALAR *x, const SCALAR *dy, int64_t rows, int64_t stride,
                                          int64_t width, const SCALAR *restrict center, double *restrict sum_u,
                                          double *restrict sum_u_xc, int has_dy)
{
    const int64_t tile = TILE_VECTORS * VLEN, full = width / tile * tile;
    for (int64_t r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
        int64_t block_rows = CT_MIN(rows - r0, (int64_t)BLOCK_ROWS), first = r0 * stride;
        for (int64_t c0 = 0; c0 < full; c0 += tile) {
            T(vec) u_sums[TILE_VECTORS] = {0}, u_xc_sums[TILE_VECTORS] = {0}, centers[TILE_VECTORS];
            if (has_dy)
                for (int v = 0; v < TILE_VECTORS; v++) centers[v] = LOAD(center + c0 + v * VLEN);
            else /* (the block's rows are in L1 after this) */
                T(block_means)(x + first + c0, block_rows, stride, TILE_VECTORS, centers);
            for (int64_t r = 0; r < block_rows; r++)
                for (int v = 0; v < TILE_VECTORS; v++) {
                    int64_t at = first + r * stride + c0 + v * VLEN;
                    T(vec) xc = LOAD(x + at) - centers[v], u = has_dy ? LOAD(dy + at) : xc;
                    u_sums[v] += u;
                    u_xc_sums[v] += u * xc;
                }
            double4 delta[TILE_VECTORS * VLEN / 4];
            if (!has_dy) T(center_shifts)(centers, center + c0, 1, delta, TILE_VECTORS * VLEN / 4);
            T(add_block_sums)(sum_u + c0, sum_u_xc + c0, u_sums, u_xc_sums, has_dy ? NULL : delta, (double)block_rows,
                              tile / 4);
        }
        for (int64_t c = full; c < width; c++) {
            SCALAR u_sum = 0, u_xc_sum = 0, block_center = center[c];
            if (!has_dy) {
                block_center = 0;
                for (int64_t r = 0; r < block_rows; r++) block_center += x[first + r * stride + c];
                block_center /= (SCALAR)block_rows;
            }
            for (int64_t r = 0; r < block_rows; r++) {
                int64_t at = first + r * stride + c;
                SCALAR xc = x[at] - block_center, u = has_dy ? dy[at] : xc;
                u_sum += u;
                u_xc_sum += u * xc;
            }
            double shift = (double)block_center - center[c];
            sum_u[c] += u_sum + block_rows * shift;
            sum_u_xc[c] += u_xc_sum + shift * (2.0 * u_sum + block_rows * shift);
        }
    }
}

CT_INLINE void T(column_paired_sums)(const SCALAR *x, const SCALAR *dy, int64_t rows, int64_t stride, int64_t width,
                                     const SCALAR *restrict center, double *restrict sum_u,
                                     double *restrict sum_u_xc)
{
    if (dy != NULL)
        T(column_paired_sums_body)(x, dy, rows, stride, width, center, sum_u, sum_u_xc, 1);
    else
        T(column_paired_sums_body)(x, NULL, rows, stride, width, center, sum_u, sum_u_xc, 0);
}

/* y = (x - center) * scale + shift over [0, count). */
CT_INLINE void T(normalize_run)(const SCALAR *x, SCALAR *y, int64_t count, SCALAR center, SCALAR scale, SCALAR shift)
{
    for (int64_t i = 0; i < count; i++) y[i] = (x[i] - center) * scale + shift;
}

/* dx = k_dy * dy - k_const - (x - center) * k_x over [0, count): the three terms with their constants. */
CT_INLINE void T(input_grad_run)(const SCALAR *x, const SCALAR *dy, SCALAR *dx, int64_t count, SCALAR center,
                                 SCALAR k_dy, SCALAR k_const, SCALAR k_x)
{
    for (int64_t i = 0; i < count; i++) dx[i] = k_dy * dy[i] - k_const - (x[i] - center) * k_x;
}

/* ---------------------------------------------------------------- batch norm */

/*
 * Two passes, each streaming x (and dy) in memory order. Pass 1 (units: chunks of samples) adds
 * each channel's sums into its chunk's partials; the partials are combined in chunk order into
 * per-channel constants. Pass 2 (units: samples) is elementwise with those constants.
 */
typedef struct {
    int64_t n, channels, spatial, sample_len; /* sample_len = channels * spatial */
    const SCALAR *x, *dy;
    const SCALAR *center;      /* per channel: pass 1 of the forward, x at (0, c, 0); else the mean */
    double *partials;          /* pass 1: per chunk, two sums per channel (2 x channels) */
    int64_t samples_per_chunk; /* pass 1 */
    const SCALAR *k_a, *k_b, *k_c; /* pass 2, per channel: y = (x - center)*k_a + k_b; dx = k_a*dy - k_b - (x - center)*k_c */
    SCALAR *out;               /* pass 2: y or dx */
} T(batch_norm_job);

/*
 * Pass 1, chunks [begin, end) of samples: per channel, the paired sums of u and u * (x - center) over the
 * chunk's samples into its partials, with u = x - center (the forward: center is the shift) or u = dy.
 */
CT_SIMD_CLONES
static void T(batch_norm_sums_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(batch_norm_job) *job = ctx;
    const int64_t channels = job->channels, spatial = job->spatial, len = job->sample_len;
    for (int64_t u = begin; u < end; u++) {
        double *sum_u = job->partials + u * 2 * channels, *sum_u_xc = sum_u + channels;
        for (int64_t c = 0; c < 2 * channels; c++) sum_u[c] = 0;
        int64_t first = u * job->samples_per_chunk, last = CT_MIN(job->n, first + job->samples_per_chunk);
        const SCALAR *dy = job->dy != NULL ? job->dy + first * len : NULL;
        if (spatial == 1) {
            T(column_paired_sums)(job->x + first * len, dy, last - first, len, channels, job->center, sum_u, sum_u_xc);
            continue;
        }
        for (int64_t r = first; r < last; r++) {
            const SCALAR *x = job->x + r * len, *dy_r = job->dy != NULL ? job->dy + r * len : NULL;
            for (int64_t c = 0; c < channels; c++)
                T(paired_sums)(x + c * spatial, dy_r != NULL ? dy_r + c * spatial : NULL, spatial, job->center[c],
                               &sum_u[c], &sum_u_xc[c]);
        }
    }
}

/* Pass 2 of the forward, samples [begin, end): y = (x - center) * k_a + k_b per channel. */
CT_SIMD_CLONES
static void T(batch_norm_normalize_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(batch_norm_job) *job = ctx;
    const int64_t channels = job->channels, spatial = job->spatial;
    const SCALAR *center = job->center, *scale = job->k_a, *shift = job->k_b;
    for (int64_t r = begin; r < end; r++) {
        const SCALAR *x = job->x + r * job->sample_len;
        SCALAR *y = job->out + r * job->sample_len;
        if (spatial == 1) {
            for (int64_t c = 0; c < channels; c++) y[c] = (x[c] - center[c]) * scale[c] + shift[c];
        } else {
            for (int64_t c = 0; c < channels; c++)
                T(normalize_run)(x + c * spatial, y + c * spatial, spatial, center[c], scale[c], shift[c]);
        }
    }
}

/* Pass 2 of the backward, samples [begin, end): dx = k_a*dy - k_b - (x - center)*k_c per channel. */
CT_SIMD_CLONES
static void T(batch_norm_input_grad_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(batch_norm_job) *job = ctx;
    const int64_t channels = job->channels, spatial = job->spatial;
    const SCALAR *center = job->center, *k_dy = job->k_a, *k_const = job->k_b, *k_x = job->k_c;
    for (int64_t r = begin; r < end; r++) {
        const SCALAR *x = job->x + r * job->sample_len, *dy = job->dy + r * job->sample_len;
        SCALAR *dx = job->out + r * job->sample_len;
        if (spatial == 1) {
            for (int64_t c = 0; c < channels; c++) dx[c] = k_dy[c] * dy[c] - k_const[c] - (x[c] - center[c]) * k_x[c];
        } else {
            for (int64_t c = 0; c < channels; c++)
                T(input_grad_run)(x + c * spatial, dy + c * spatial, dx + c * spatial, spatial, center[c], k_dy[c],
                                  k_const[c], k_x[c]);
        }
    }
}

/* Pass 1 over chunks of samples, then the partials combined in chunk order into job->partials[0, 2 x channels). */
static void T(batch_norm_sums)(T(batch_norm_job) *job, int64_t total)
{
    int64_t chunks = sample_chunks(job->n, total, &job->samples_per_chunk);
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, chunks), chunks,
                    T(batch_norm_sums_units), job);
    combine_partials(job->partials, chunks, 2 * job->channels);
}

/* Pass 2 over samples. */
static void T(batch_norm_elementwise)(T(batch_norm_job) *job, int64_t total, ct_range_body body)
{
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, job->n), job->n, body, job);
}

/*
 * Scratch for one call: partials (sample_chunks x 2 x channels doubles) and the per-channel
 * constants (4 x channels SCALARs: center, k_a, k_b and k_c, or the statistics' shift in forward).
 */
static int T(batch_norm_scratch)(T(batch_norm_job) *job, int64_t total, double **sums, SCALAR **constants)
{
    int64_t per_chunk, chunks = sample_chunks(job->n, total, &per_chunk);
    *sums = ct_aligned_alloc((size_t)(2 * chunks * job->channels), sizeof(double));
    *constants = ct_aligned_alloc((size_t)(4 * job->channels), sizeof(SCALAR));
    if (*sums != NULL && *constants != NULL) return CT_OK;
    ct_aligned_free(*sums);
    ct_aligned_free(*constants);
    return CT_ERR_OUT_OF_MEMORY;
}

/* Validates the sizes and fills the job's shape. */
static int T(batch_norm_setup)(T(batch_norm_job) *job, int64_t n, int64_t channels, int64_t spatial, int64_t *total)
{
    if (!sizes_valid(n, channels, spatial, 1, total)) return CT_ERR_INVALID_ARGUMENT;
    job->n = n, job->channels = channels, job->spatial = spatial, job->sample_len = channels * spatial;
    return CT_OK;
}

/* Channel c's mean and rstd from this batch's sums; its running statistics updated when given. */
CT_INLINE void T(batch_norm_channel_statistics)(int64_t c, double shift, double s1, double s2, int64_t count,
                                                double eps, SCALAR *running_mean, SCALAR *running_var,
                                                double momentum, SCALAR *mean_out, SCALAR *rstd_out)
{
    double mean, var;
    moments_from_sums(shift, s1, s2, count, &mean, &var);
    mean_out[c] = (SCALAR)mean;
    rstd_out[c] = (SCALAR)(1.0 / sqrt(var + eps));
    if (running_mean != NULL) {
        double unbiased = count > 1 ? var * (double)count / (double)(count - 1) : var;
        running_mean[c] = (SCALAR)((1.0 - momentum) * running_mean[c] + momentum * mean);
        running_var[c] = (SCALAR)((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
}

/* (Cloned for AVX2 too: its per-channel loop, 1/sqrt and the running statistics, then runs 4 channels
 * to a vector, 1.5x as fast with 16384 channels.) */
CT_SIMD_CLONES
int CT_PASTE(ct_batch_norm_forward, SUFFIX)(int64_t n, int64_t channels, int64_t spatial, const SCALAR *x,
                                            const SCALAR *weight, const SCALAR *bias, double eps, int batch_stats,
                                            SCALAR *running_mean, SCALAR *running_var, double momentum, SCALAR *y,
                                            SCALAR *mean, SCALAR *rstd)
{
    T(batch_norm_job) job = {.x = x};
    int64_t total;
    if (T(batch_norm_setup)(&job, n, channels, spatial, &total) != CT_OK || !constants_valid(eps, momentum))
        return CT_ERR_INVALID_ARGUMENT;
    if ((running_mean == NULL) != (running_var == NULL)) return CT_ERR_INVALID_ARGUMENT;
    if (!batch_stats && running_mean == NULL) return CT_ERR_INVALID_ARGUMENT; /* eval needs running statistics */
    if (channels == 0) return CT_OK;
    if (mean == NULL || rstd == NULL || (total > 0 && (x == NULL || y == NULL))) return CT_ERR_INVALID_ARGUMENT;
    if (total == 0) { /* no values: batch statistics are NaN, running ones stay */
        for (int64_t c = 0; c < channels; c++) {
            mean[c] = batch_stats ? (SCALAR)NAN : running_mean[c];
            rstd[c] = batch_stats ? (SCALAR)NAN : (SCALAR)(1.0 / sqrt((double)running_var[c] + eps));
        }
        return CT_OK;
    }
    double *sums;
    SCALAR *constants;
    if (T(batch_norm_scratch)(&job, total, &sums, &constants) != CT_OK) return CT_ERR_OUT_OF_MEMORY;
    job.partials = sums;
    SCALAR *center = constants, *scale = center + channels, *offset = scale + channels, *shift = offset + channels;
    if (batch_stats) {
        for (int64_t c = 0; c < channels; c++) shift[c] = x[c * spatial];
        job.center = shift;
        T(batch_norm_sums)(&job, total);
        for (int64_t c = 0; c < channels; c++)
            T(batch_norm_channel_statistics)(c, shift[c], job.partials[c], job.partials[channels + c], n * spatial, eps,
                                             running_mean, running_var, momentum, mean, rstd);
    } else {
        for (int64_t c = 0; c < channels; c++) {
            mean[c] = running_mean[c];
            rstd[c] = (SCALAR)(1.0 / sqrt((double)running_var[c] + eps));
        }
    }
    for (int64_t c = 0; c < channels; c++) {
        center[c] = mean[c];
        scale[c] = (weight != NULL ? weight[c] : 1) * rstd[c];
        offset[c] = bias != NULL ? bias[c] : 0;
    }
    job.center = center, job.k_a = scale, job.k_b = offset, job.out = y;
    T(batch_norm_elementwise)(&job, total, T(batch_norm_normalize_units));
    ct_aligned_free(sums);
    ct_aligned_free(constants);
    return CT_OK;
}

/*
 * With a = sum(dy), b = sum(dy * (x - mean)) per channel (pass 1, skipped when only the eval-mode dx is
 * wanted): dx = k_dy*dy - k_const - (x - mean)*k_x with k_dy = gamma*rstd, and with batch statistics
 * k_const = gamma*rstd*a/count, k_x = gamma*rstd^3*b/count (else 0); dweight = rstd*b, dbias = a.
 */
int CT_PASTE(ct_batch_norm_backward, SUFFIX)(int64_t n, int64_t channels, int64_t spatial, const SCALAR *x,
                                             const SCALAR *dy, const SCALAR *mean, const SCALAR *rstd,
                                             const SCALAR *weight, int batch_stats, SCALAR *dx, SCALAR *dweight,
                                             SCALAR *dbias)
{
    T(batch_norm_job) job = {.x = x, .dy = dy, .center = mean};
    int64_t total;
    if (T(batch_norm_setup)(&job, n, channels, spatial, &total) != CT_OK) return CT_ERR_INVALID_ARGUMENT;
    if (channels == 0) return CT_OK;
    if (mean == NULL || rstd == NULL || (total > 0 && (x == NULL || dy == NULL))) return CT_ERR_INVALID_ARGUMENT;
    if (total == 0) { /* sums of nothing */
        for (int64_t c = 0; c < channels; c++) {
            if (dweight != NULL) dweight[c] = 0;
            if (dbias != NULL) dbias[c] = 0;
        }
        return CT_OK;
    }
    double *sums;
    SCALAR *constants;
    if (T(batch_norm_scratch)(&job, total, &sums, &constants) != CT_OK) return CT_ERR_OUT_OF_MEMORY;
    job.partials = sums;
    const double *sum_dy = job.partials, *sum_dy_xc = job.partials + channels;
    int wants_sums = batch_stats || dweight != NULL || dbias != NULL;
    if (wants_sums) T(batch_norm_sums)(&job, total);
    SCALAR *k_dy = constants, *k_const = k_dy + channels, *k_x = k_const + channels;
    double count = (double)(n * spatial);
    for (int64_t c = 0; c < channels; c++) {
        double r = rstd[c], gamma_rstd = (weight != NULL ? weight[c] : 1) * r;
        if (dweight != NULL) dweight[c] = (SCALAR)(sum_dy_xc[c] * r);
        if (dbias != NULL) dbias[c] = (SCALAR)sum_dy[c];
        k_dy[c] = (SCALAR)gamma_rstd;
        k_const[c] = batch_stats ? (SCALAR)(gamma_rstd * sum_dy[c] / count) : 0;
        k_x[c] = batch_stats ? (SCALAR)(gamma_rstd * r * r * sum_dy_xc[c] / count) : 0;
    }
    if (dx != NULL) {
        job.k_a = k_dy, job.k_b = k_const, job.k_c = k_x, job.out = dx;
        T(batch_norm_elementwise)(&job, total, T(batch_norm_input_grad_units));
    }
    ct_aligned_free(sums);
    ct_aligned_free(constants);
    return CT_OK;
}

/* ---------------------------------------------------------------- group norm */

typedef struct {
    int64_t n, groups, channels_per_group, spatial, row_len; /* row_len = channels_per_group * spatial */
    int centered;
    double eps;
    const SCALAR *x, *dy, *weight, *bias; /* weight and bias never NULL here: ones and zeros stand in */
    SCALAR *y, *mean, *rstd, *dx;
    SCALAR *defaults;          /* ones then zeros (2 x channels), allocated when weight or bias is NULL */
    double *partials;          /* backward: per chunk, dweight then dbias partials (2 x channels); or NULL */
    SCALAR *blocks;            /* backward, layer norm layout: per chunk, the same sums over BLOCK_ROWS samples */
    int64_t samples_per_chunk; /* backward */
} T(group_norm_job);

/* Forward: unit = one (sample, group) row. */
CT_SIMD_CLONES
static void T(group_norm_forward_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(group_norm_job) *job = ctx;
    const int64_t len = job->row_len, spatial = job->spatial, per_group = job->channels_per_group;
    for (int64_t r = begin; r < end; r++) {
        const SCALAR *x = job->x + r * len;
        SCALAR *y = job->y + r * len;
        int64_t c0 = (r % job->groups) * per_group;
        const SCALAR *weight = job->weight + c0, *bias = job->bias + c0;
        double shift = job->centered ? x[0] : 0, s1 = 0, s2 = 0, mean_d = 0, var;
        T(paired_sums)(x, NULL, len, shift, &s1, &s2);
        if (job->centered)
            moments_from_sums(shift, s1, s2, len, &mean_d, &var);
        else
            var = s2 / (double)len; /* RMS norm: the mean of squares */
        SCALAR mean = (SCALAR)mean_d, rstd = (SCALAR)(1.0 / sqrt(var + job->eps));
        job->mean[r] = mean;
        job->rstd[r] = rstd;
        if (spatial == 1) {
            for (int64_t j = 0; j < len; j++) y[j] = (x[j] - mean) * (rstd * weight[j]) + bias[j];
        } else {
            for (int64_t k = 0; k < per_group; k++)
                T(normalize_run)(x + k * spatial, y + k * spatial, spatial, mean, rstd * weight[k], bias[k]);
        }
    }
}

/*
 * One row of the layer norm layout (a channel per value): *a = sum(g), *b = sum(g * (x - center)) with
 * g = weight * dy, blocked as paired_sums; and, when block_dweight is not NULL, block_dweight[j] +=
 * dy * (x - center) * rstd and block_dbias[j] += dy in the same pass (x and dy are loaded once): sums
 * over a few rows in SCALAR, which the caller adds into double.
 */
CT_INLINE void T(layer_gradient_sums)(const SCALAR *x, const SCALAR *dy, const SCALAR *weight, int64_t len,
                                      SCALAR center, SCALAR rstd, double *a, double *b,
                                      SCALAR *restrict block_dweight, SCALAR *restrict block_dbias)
{
    double sum_a[LANES] = {0}, sum_b[LANES] = {0};
    int64_t full = len / LANES * LANES, i = 0;
    while (i < full) {
        int64_t block_end = CT_MIN(full, i + BLOCK_STEPS * LANES);
        T(vec) va[LANE_VECTORS] = {0}, vb[LANE_VECTORS] = {0};
        for (; i < block_end; i += LANES)
            for (int v = 0; v < LANE_VECTORS; v++) {
                int64_t j = i + v * VLEN;
                T(vec) d = LOAD(dy + j), xc = LOAD(x + j) - center, g = d * LOAD(weight + j);
                va[v] += g;
                vb[v] += g * xc;
                if (block_dweight != NULL) {
                    T(vec) dw = LOAD(block_dweight + j) + d * xc * rstd, db = LOAD(block_dbias + j) + d;
                    memcpy(block_dweight + j, &dw, sizeof dw);
                    memcpy(block_dbias + j, &db, sizeof db);
                }
            }
        T(add_block_sums)(sum_a, sum_b, va, vb, NULL, 0, LANES / 4);
    }
    double tail_a = 0, tail_b = 0;
    for (; i < len; i++) {
        SCALAR d = dy[i], xc = x[i] - center;
        tail_a += d * weight[i];
        tail_b += (double)(d * weight[i]) * xc;
        if (block_dweight != NULL) block_dweight[i] += d * xc * rstd, block_dbias[i] += d;
    }
    *a = lane_total(sum_a) + tail_a, *b = lane_total(sum_b) + tail_b;
}

/*
 * Backward of row r: a = sum(g), b = sum(g * (x - mean)) with g = gamma * dy, while adding the row's
 * dgamma/dbeta terms to its chunk's sums (when wanted: SCALAR block sums in the layer norm layout,
 * else the double partials); then dx (when wanted).
 */
CT_INLINE void T(group_norm_backward_row)(const T(group_norm_job) *job, int64_t r, double *dweight, double *dbias,
                                          SCALAR *block_dweight, SCALAR *block_dbias)
{
    const int64_t len = job->row_len, spatial = job->spatial, per_group = job->channels_per_group;
    int64_t c0 = (r % job->groups) * per_group;
    const SCALAR *x = job->x + r * len, *dy = job->dy + r * len, *weight = job->weight + c0;
    SCALAR mean = job->mean[r], rstd = job->rstd[r];
    double a = 0, b = 0;
    if (spatial == 1) { /* one channel per value: the layer norm layout */
        if (block_dweight != NULL) block_dweight += c0, block_dbias += c0;
        T(layer_gradient_sums)(x, dy, weight, len, mean, rstd, &a, &b, block_dweight, block_dbias);
    } else {
        if (dweight != NULL) dweight += c0, dbias += c0;
        for (int64_t k = 0; k < per_group; k++) {
            double sum_dy = 0, sum_dy_xc = 0;
            T(paired_sums)(x + k * spatial, dy + k * spatial, spatial, mean, &sum_dy, &sum_dy_xc);
            a += weight[k] * sum_dy;
            b += weight[k] * sum_dy_xc;
            if (dweight != NULL) dweight[k] += sum_dy_xc * (double)rstd, dbias[k] += sum_dy;
        }
    }
    if (job->dx == NULL) return;
    double rstd_d = rstd;
    SCALAR k_const = job->centered ? (SCALAR)(rstd_d * a / (double)len) : 0;
    SCALAR k_x = (SCALAR)(rstd_d * rstd_d * rstd_d * b / (double)len);
    SCALAR *dx = job->dx + r * len;
    if (spatial == 1) {
        for (int64_t j = 0; j < len; j++) dx[j] = rstd * weight[j] * dy[j] - k_const - (x[j] - mean) * k_x;
    } else {
        for (int64_t k = 0; k < per_group; k++)
            T(input_grad_run)(x + k * spatial, dy + k * spatial, dx + k * spatial, spatial, mean, rstd * weight[k],
                              k_const, k_x);
    }
}

/*
 * Backward: unit = one chunk of samples, which owns partials[unit] (2 x channels doubles) and, in the
 * layer norm layout, blocks[unit] (2 x channels SCALARs), added into the partials every BLOCK_ROWS samples.
 */
CT_SIMD_CLONES
static void T(group_norm_backward_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(group_norm_job) *job = ctx;
    const int64_t groups = job->groups, channels = groups * job->channels_per_group;
    for (int64_t u = begin; u < end; u++) {
        double *dweight = NULL, *dbias = NULL;
        SCALAR *block = NULL;
        if (job->partials != NULL) {
            dweight = job->partials + u * 2 * channels, dbias = dweight + channels;
            for (int64_t c = 0; c < 2 * channels; c++) dweight[c] = 0;
            if (job->spatial == 1) block = job->blocks + u * 2 * channels;
        }
        int64_t first = u * job->samples_per_chunk, last = CT_MIN(job->n, first + job->samples_per_chunk);
        for (int64_t s0 = first; s0 < last; s0 += BLOCK_ROWS) {
            int64_t s_end = CT_MIN(last, s0 + BLOCK_ROWS);
            if (block != NULL)
                for (int64_t c = 0; c < 2 * channels; c++) block[c] = 0;
            for (int64_t r = s0 * groups; r < s_end * groups; r++)
                T(group_norm_backward_row)(job, r, dweight, dbias, block, block == NULL ? NULL : block + channels);
            if (block != NULL)
                for (int64_t c = 0; c < 2 * channels; c++) dweight[c] += block[c];
        }
    }
}

/*
 * Validates the sizes, fills the job's shape and points a NULL weight/bias at job->defaults (ones and
 * zeros, allocated here; the caller frees them).
 */
static int T(group_norm_setup)(T(group_norm_job) *job, int64_t n, int64_t groups, int64_t per_group,
                               int64_t spatial, int64_t *total)
{
    int64_t channels;
    if (!sizes_valid(n, groups, per_group, spatial, total) || !sizes_valid(groups, per_group, 1, 1, &channels))
        return CT_ERR_INVALID_ARGUMENT;
    job->n = n, job->groups = groups, job->channels_per_group = per_group, job->spatial = spatial;
    job->row_len = per_group * spatial;
    if (job->weight != NULL && job->bias != NULL) return CT_OK;
    job->defaults = ct_aligned_alloc((size_t)(2 * channels), sizeof(SCALAR));
    if (job->defaults == NULL) return CT_ERR_OUT_OF_MEMORY;
    for (int64_t c = 0; c < channels; c++) job->defaults[c] = 1, job->defaults[channels + c] = 0;
    if (job->weight == NULL) job->weight = job->defaults;
    if (job->bias == NULL) job->bias = job->defaults + channels;
    return CT_OK;
}

int CT_PASTE(ct_group_norm_forward, SUFFIX)(int64_t n, int64_t groups, int64_t channels_per_group, int64_t spatial,
                                            int centered, const SCALAR *x, const SCALAR *weight, const SCALAR *bias,
                                            double eps, SCALAR *y, SCALAR *mean, SCALAR *rstd)
{
    T(group_norm_job) job = {.centered = centered != 0, .eps = eps, .x = x, .weight = weight, .bias = bias,
                             .y = y, .mean = mean, .rstd = rstd};
    int64_t total;
    if (!constants_valid(eps, 0) || !sizes_valid(n, groups, channels_per_group, spatial, &total))
        return CT_ERR_INVALID_ARGUMENT;
    int64_t rows = n * groups;
    if (rows == 0) return CT_OK;
    if (mean == NULL || rstd == NULL || (total > 0 && (x == NULL || y == NULL))) return CT_ERR_INVALID_ARGUMENT;
    if (total == 0) { /* empty rows: statistics of nothing */
        for (int64_t r = 0; r < rows; r++) mean[r] = rstd[r] = (SCALAR)NAN;
        return CT_OK;
    }
    int status = T(group_norm_setup)(&job, n, groups, channels_per_group, spatial, &total);
    if (status != CT_OK) return status;
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, rows), rows,
                    T(group_norm_forward_units), &job);
    ct_aligned_free(job.defaults);
    return CT_OK;
}

int CT_PASTE(ct_group_norm_backward, SUFFIX)(int64_t n, int64_t groups, int64_t channels_per_group, int64_t spatial,
                                             int centered, const SCALAR *x, const SCALAR *dy, const SCALAR *mean,
                                             const SCALAR *rstd, const SCALAR *weight, SCALAR *dx, SCALAR *dweight,
                                             SCALAR *dbias)
{
    T(group_norm_job) job = {.centered = centered != 0, .x = x, .dy = dy, .weight = weight, .bias = NULL,
                             .mean = (SCALAR *)mean, .rstd = (SCALAR *)rstd, .dx = dx};
    int64_t total;
    if (!sizes_valid(n, groups, channels_per_group, spatial, &total)) return CT_ERR_INVALID_ARGUMENT;
    int64_t channels = groups * channels_per_group;
    int wants_affine = dweight != NULL || dbias != NULL;
    if (wants_affine && channels > 0 && total == 0) { /* nothing to sum */
        for (int64_t c = 0; c < channels; c++) {
            if (dweight != NULL) dweight[c] = 0;
            if (dbias != NULL) dbias[c] = 0;
        }
    }
    if (n * groups == 0 || total == 0) return CT_OK;
    if (x == NULL || dy == NULL || mean == NULL || rstd == NULL) return CT_ERR_INVALID_ARGUMENT;
    int status = T(group_norm_setup)(&job, n, groups, channels_per_group, spatial, &total);
    if (status != CT_OK) return status;

    int64_t chunks = sample_chunks(n, total, &job.samples_per_chunk);
    if (wants_affine) {
        job.partials = ct_aligned_alloc((size_t)(chunks * 2 * channels), sizeof(double));
        if (spatial == 1) job.blocks = ct_aligned_alloc((size_t)(chunks * 2 * channels), sizeof(SCALAR));
        if (job.partials == NULL || (spatial == 1 && job.blocks == NULL)) {
            ct_aligned_free(job.partials);
            ct_aligned_free(job.blocks);
            ct_aligned_free(job.defaults);
            return CT_ERR_OUT_OF_MEMORY;
        }
    }
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, chunks), chunks,
                    T(group_norm_backward_units), &job);
    if (wants_affine) {
        const double *sums = job.partials;
        combine_partials(job.partials, chunks, 2 * channels);
        for (int64_t c = 0; c < channels; c++) {
            if (dweight != NULL) dweight[c] = (SCALAR)sums[c];
            if (dbias != NULL) dbias[c] = (SCALAR)sums[channels + c];
        }
        ct_aligned_free(job.partials);
        ct_aligned_free(job.blocks);
    }
    ct_aligned_free(job.defaults);
    return CT_OK;
}

#undef T
#undef VLEN
#undef LOAD
#undef LANE_VECTORS
