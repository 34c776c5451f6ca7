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

/* *s1 += sum(x - shift), *s2 += sum((x - shift)^2) over x[0, count), in double. */
CT_INLINE void T(shifted_sums)(const SCALAR *x, int64_t count, double shift, double *s1, double *s2)
{
    double sum[LANES] = {0}, squares[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= count; i += LANES)
        for (int l = 0; l < LANES; l++) {
            double d = (double)x[i + l] - shift;
            sum[l] += d;
            squares[l] += d * d;
        }
    for (int l = 0; i + l < count; l++) {
        double d = (double)x[i + l] - shift;
        sum[l] += d;
        squares[l] += d * d;
    }
    *s1 += lane_total(sum);
    *s2 += lane_total(squares);
}

/* *sum_dy += sum(dy), *sum_dy_xc += sum(dy * (x - center)) over [0, count), in double. */
CT_INLINE void T(gradient_sums)(const SCALAR *x, const SCALAR *dy, int64_t count, double center, double *sum_dy,
                                double *sum_dy_xc)
{
    double a[LANES] = {0}, b[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= count; i += LANES)
        for (int l = 0; l < LANES; l++) {
            double g = dy[i + l];
            a[l] += g;
            b[l] += g * ((double)x[i + l] - center);
        }
    for (int l = 0; i + l < count; l++) {
        double g = dy[i + l];
        a[l] += g;
        b[l] += g * ((double)x[i + l] - center);
    }
    *sum_dy += lane_total(a);
    *sum_dy_xc += lane_total(b);
}

/*
 * Column sums over `rows` rows `stride` apart, `width` columns each (the spatial = 1 layout):
 * s1[c] += sum(x - shift[c]), s2[c] += sum((x - shift[c])^2). Four rows per update of the
 * accumulators, which then move through the caches a quarter as often; the order is fixed.
 */
CT_INLINE void T(column_shifted_sums)(const SCALAR *x, int64_t rows, int64_t stride, int64_t width,
                                      const double *restrict shift, double *restrict s1, double *restrict s2)
{
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const SCALAR *restrict x0 = x + r * stride, *restrict x1 = x0 + stride, *restrict x2 = x1 + stride,
                               *restrict x3 = x2 + stride;
        for (int64_t c = 0; c < width; c++) {
            double d0 = (double)x0[c] - shift[c], d1 = (double)x1[c] - shift[c];
            double d2 = (double)x2[c] - shift[c], d3 = (double)x3[c] - shift[c];
            s1[c] += (d0 + d1) + (d2 + d3);
            s2[c] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
        }
    }
    for (; r < rows; r++) {
        const SCALAR *restrict row = x + r * stride;
        for (int64_t c = 0; c < width; c++) {
            double d = (double)row[c] - shift[c];
            s1[c] += d;
            s2[c] += d * d;
        }
    }
}

/* The same for the backward's sums: sum_dy[c] += sum(dy), sum_dy_xc[c] += sum(dy * (x - center[c])). */
CT_INLINE void T(column_gradient_sums)(const SCALAR *x, const SCALAR *dy, int64_t rows, int64_t stride, int64_t width,
                                       const SCALAR *restrict center, double *restrict sum_dy,
                                       double *restrict sum_dy_xc)
{
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const SCALAR *restrict x0 = x + r * stride, *restrict x1 = x0 + stride, *restrict x2 = x1 + stride,
                               *restrict x3 = x2 + stride;
        const SCALAR *restrict g0 = dy + r * stride, *restrict g1 = g0 + stride, *restrict g2 = g1 + stride,
                               *restrict g3 = g2 + stride;
        for (int64_t c = 0; c < width; c++) {
            double m = center[c];
            double a0 = g0[c], a1 = g1[c], a2 = g2[c], a3 = g3[c];
            sum_dy[c] += (a0 + a1) + (a2 + a3);
            sum_dy_xc[c] += (a0 * ((double)x0[c] - m) + a1 * ((double)x1[c] - m)) +
                            (a2 * ((double)x2[c] - m) + a3 * ((double)x3[c] - m));
        }
    }
    for (; r < rows; r++) {
        const SCALAR *restrict row = x + r * stride, *restrict g = dy + r * stride;
        for (int64_t c = 0; c < width; c++) {
            double a = g[c];
            sum_dy[c] += a;
            sum_dy_xc[c] += a * ((double)row[c] - (double)center[c]);
        }
    }
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
    const double *shift;       /* statistics: per channel, x at (0, c, 0) */
    const SCALAR *center;      /* gradient sums and pass 2: per channel mean */
    double *partials;          /* pass 1: per chunk, two sums per channel (2 x channels) */
    int64_t samples_per_chunk; /* pass 1 */
    const SCALAR *k_a, *k_b, *k_c; /* pass 2, per channel: y = (x - center)*k_a + k_b; dx = k_a*dy - k_b - (x - center)*k_c */
    SCALAR *out;               /* pass 2: y or dx */
} T(batch_norm_job);

/* Pass 1 of the forward: sum(x - shift) and sum((x - shift)^2) per channel over the chunk's samples. */
CT_SIMD_CLONES
static void T(batch_norm_statistics_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(batch_norm_job) *job = ctx;
    const int64_t channels = job->channels, spatial = job->spatial;
    for (int64_t u = begin; u < end; u++) {
        double *s1 = job->partials + u * 2 * channels, *s2 = s1 + channels;
        for (int64_t c = 0; c < 2 * channels; c++) s1[c] = 0;
        int64_t first = u * job->samples_per_chunk, last = CT_MIN(job->n, first + job->samples_per_chunk);
        if (spatial == 1) {
            T(column_shifted_sums)(job->x + first * channels, last - first, channels, channels, job->shift, s1, s2);
            continue;
        }
        for (int64_t r = first; r < last; r++) {
            const SCALAR *x = job->x + r * job->sample_len;
            for (int64_t c = 0; c < channels; c++) T(shifted_sums)(x + c * spatial, spatial, job->shift[c], &s1[c], &s2[c]);
        }
    }
}

/* Pass 1 of the backward: sum(dy) and sum(dy * (x - center)) per channel over the chunk's samples. */
CT_SIMD_CLONES
static void T(batch_norm_gradient_sums_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(batch_norm_job) *job = ctx;
    const int64_t channels = job->channels, spatial = job->spatial;
    for (int64_t u = begin; u < end; u++) {
        double *sum_dy = job->partials + u * 2 * channels, *sum_dy_xc = sum_dy + channels;
        for (int64_t c = 0; c < 2 * channels; c++) sum_dy[c] = 0;
        int64_t first = u * job->samples_per_chunk, last = CT_MIN(job->n, first + job->samples_per_chunk);
        if (spatial == 1) {
            T(column_gradient_sums)(job->x + first * channels, job->dy + first * channels, last - first, channels,
                                    channels, job->center, sum_dy, sum_dy_xc);
            continue;
        }
        for (int64_t r = first; r < last; r++) {
            const SCALAR *x = job->x + r * job->sample_len, *dy = job->dy + r * job->sample_len;
            for (int64_t c = 0; c < channels; c++)
                T(gradient_sums)(x + c * spatial, dy + c * spatial, spatial, job->center[c], &sum_dy[c], &sum_dy_xc[c]);
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
static void T(batch_norm_sums)(T(batch_norm_job) *job, int64_t total, ct_range_body body)
{
    int64_t chunks = sample_chunks(job->n, total, &job->samples_per_chunk);
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, chunks), chunks, body, job);
    combine_partials(job->partials, chunks, 2 * job->channels);
}

/* Pass 2 over samples. */
static void T(batch_norm_elementwise)(T(batch_norm_job) *job, int64_t total, ct_range_body body)
{
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, job->n), job->n, body, job);
}

/*
 * Scratch for one call: partials (sample_chunks x 2 x channels doubles, plus channels for the
 * shifts) and the per-channel constants (4 x channels SCALARs: center and k_a, k_b, k_c).
 */
static int T(batch_norm_scratch)(T(batch_norm_job) *job, int64_t total, double **sums, SCALAR **constants)
{
    int64_t per_chunk, chunks = sample_chunks(job->n, total, &per_chunk);
    *sums = ct_aligned_alloc((size_t)((2 * chunks + 1) * job->channels), sizeof(double));
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
    job.partials = sums + channels;
    double *shift = sums;
    if (batch_stats) {
        for (int64_t c = 0; c < channels; c++) shift[c] = x[c * spatial];
        job.shift = shift;
        T(batch_norm_sums)(&job, total, T(batch_norm_statistics_units));
        for (int64_t c = 0; c < channels; c++)
            T(batch_norm_channel_statistics)(c, shift[c], job.partials[c], job.partials[channels + c], n * spatial, eps,
                                             running_mean, running_var, momentum, mean, rstd);
    } else {
        for (int64_t c = 0; c < channels; c++) {
            mean[c] = running_mean[c];
            rstd[c] = (SCALAR)(1.0 / sqrt((double)running_var[c] + eps));
        }
    }
    SCALAR *center = constants, *scale = center + channels, *offset = scale + channels;
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
    job.partials = sums + channels;
    const double *sum_dy = job.partials, *sum_dy_xc = job.partials + channels;
    int wants_sums = batch_stats || dweight != NULL || dbias != NULL;
    if (wants_sums) T(batch_norm_sums)(&job, total, T(batch_norm_gradient_sums_units));
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
        T(shifted_sums)(x, len, shift, &s1, &s2);
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
 * g = weight * dy, in LANES interleaved sums; and, when dweight is not NULL, dweight[j] += dy * (x - center)
 * * rstd and dbias[j] += dy in the same pass (x and dy are loaded once).
 */
CT_INLINE void T(layer_gradient_sums)(const SCALAR *x, const SCALAR *dy, const SCALAR *weight, int64_t len,
                                      double center, double rstd, double *a, double *b, double *restrict dweight,
                                      double *restrict dbias)
{
    double a_lanes[LANES] = {0}, b_lanes[LANES] = {0};
    int64_t full = len / LANES * LANES;
    /* One body for the full blocks and the tail. A macro because the same body as an always-inline
     * function measured 10-15 % slower with GCC 12 (at (256, 1024)); the dweight test is hoisted out
     * of the loops by unswitching. */
#define LAYER_GRADIENT_TERMS(j, l)                    \
    do {                                              \
        double d = dy[j], xc = (double)x[j] - center; \
        double g = d * weight[j];                     \
        a_lanes[l] += g;                              \
        b_lanes[l] += g * xc;                         \
        if (dweight != NULL) {                        \
            dweight[j] += d * xc * rstd;              \
            dbias[j] += d;                            \
        }                                             \
    } while (0)
    for (int64_t j0 = 0; j0 < full; j0 += LANES)
        for (int l = 0; l < LANES; l++) LAYER_GRADIENT_TERMS(j0 + l, l);
    for (int l = 0; full + l < len; l++) LAYER_GRADIENT_TERMS(full + l, l);
#undef LAYER_GRADIENT_TERMS
    *a = lane_total(a_lanes), *b = lane_total(b_lanes);
}

/*
 * Backward of row r: a = sum(g), b = sum(g * (x - mean)) with g = gamma * dy, while adding the row's
 * dgamma/dbeta terms to its chunk's partials (when wanted); then dx (when wanted).
 */
CT_INLINE void T(group_norm_backward_row)(const T(group_norm_job) *job, int64_t r, double *dweight, double *dbias)
{
    const int64_t len = job->row_len, spatial = job->spatial, per_group = job->channels_per_group;
    int64_t c0 = (r % job->groups) * per_group;
    const SCALAR *x = job->x + r * len, *dy = job->dy + r * len, *weight = job->weight + c0;
    SCALAR mean = job->mean[r], rstd = job->rstd[r];
    double a = 0, b = 0, center = mean;
    if (dweight != NULL) dweight += c0, dbias += c0;
    if (spatial == 1) { /* one channel per value: the layer norm layout */
        T(layer_gradient_sums)(x, dy, weight, len, center, rstd, &a, &b, dweight, dbias);
    } else {
        for (int64_t k = 0; k < per_group; k++) {
            double sum_dy = 0, sum_dy_xc = 0;
            T(gradient_sums)(x + k * spatial, dy + k * spatial, spatial, center, &sum_dy, &sum_dy_xc);
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

/* Backward: unit = one chunk of samples, which owns partials[unit] (2 x channels doubles). */
CT_SIMD_CLONES
static void T(group_norm_backward_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(group_norm_job) *job = ctx;
    const int64_t channels = job->groups * job->channels_per_group;
    for (int64_t u = begin; u < end; u++) {
        double *dweight = NULL, *dbias = NULL;
        if (job->partials != NULL) {
            dweight = job->partials + u * 2 * channels, dbias = dweight + channels;
            for (int64_t c = 0; c < 2 * channels; c++) dweight[c] = 0;
        }
        int64_t first = u * job->samples_per_chunk * job->groups;
        int64_t last = CT_MIN(job->n, (u + 1) * job->samples_per_chunk) * job->groups;
        for (int64_t r = first; r < last; r++) T(group_norm_backward_row)(job, r, dweight, dbias);
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
        if (job.partials == NULL) {
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
    }
    ct_aligned_free(job.defaults);
    return CT_OK;
}

#undef T
