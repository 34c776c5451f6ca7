/*
 * Batch norm and group norm for one dtype; norm.c includes this with SCALAR
 * (float or double) and SUFFIX (f32 or f64). See norm.c for the math.
 *
 * Batch norm views x as (n, channels, spatial). spatial = 1 (BatchNorm1d on
 * (N, C)): a unit is a tile of channels, read as columns of each row, with
 * per-column sums that vectorise across the tile. spatial > 1: a unit is one
 * channel, read as n runs of `spatial` values. Group norm views x as rows of
 * channels_per_group * spatial values, one per (sample, group).
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

typedef struct {
    int64_t n, channels, spatial, tile, count; /* count = n * spatial values per channel */
    int batch_stats;
    double eps, momentum;
    const SCALAR *x, *dy, *weight, *bias;
    SCALAR *running_mean, *running_var;
    SCALAR *y, *mean, *rstd;
    SCALAR *dx, *dweight, *dbias;
} T(batch_norm_job);

/* Stores channel c's statistics from its shifted sums and updates its running statistics. */
CT_INLINE void T(batch_norm_finish_statistics)(const T(batch_norm_job) *job, int64_t c, double shift, double s1,
                                               double s2)
{
    double mean, var;
    moments_from_sums(shift, s1, s2, job->count, &mean, &var);
    job->mean[c] = (SCALAR)mean;
    job->rstd[c] = (SCALAR)(1.0 / sqrt(var + job->eps));
    if (job->running_mean != NULL) {
        double unbiased = job->count > 1 ? var * (double)job->count / (double)(job->count - 1) : var;
        double keep = 1.0 - job->momentum;
        job->running_mean[c] = (SCALAR)(keep * job->running_mean[c] + job->momentum * mean);
        job->running_var[c] = (SCALAR)(keep * job->running_var[c] + job->momentum * unbiased);
    }
}

/* Statistics of channels [c0, c0 + width) from this batch. */
CT_INLINE void T(batch_norm_statistics)(const T(batch_norm_job) *job, int64_t c0, int64_t width)
{
    const int64_t channels = job->channels, spatial = job->spatial;
    if (spatial == 1) {
        double shift[MAX_TILE], s1[MAX_TILE], s2[MAX_TILE];
        const SCALAR *x = job->x + c0;
        for (int64_t j = 0; j < width; j++) shift[j] = x[j], s1[j] = 0, s2[j] = 0;
        for (int64_t r = 0; r < job->n; r++) {
            const SCALAR *row = x + r * channels;
            for (int64_t j = 0; j < width; j++) {
                double d = (double)row[j] - shift[j];
                s1[j] += d;
                s2[j] += d * d;
            }
        }
        for (int64_t j = 0; j < width; j++) T(batch_norm_finish_statistics)(job, c0 + j, shift[j], s1[j], s2[j]);
        return;
    }
    for (int64_t c = c0; c < c0 + width; c++) {
        double shift = job->x[c * spatial], s1 = 0, s2 = 0;
        for (int64_t r = 0; r < job->n; r++)
            T(shifted_sums)(job->x + (r * channels + c) * spatial, spatial, shift, &s1, &s2);
        T(batch_norm_finish_statistics)(job, c, shift, s1, s2);
    }
}

/* y for channels [c0, c0 + width), from the stored mean and rstd. */
CT_INLINE void T(batch_norm_normalize)(const T(batch_norm_job) *job, int64_t c0, int64_t width)
{
    const int64_t channels = job->channels, spatial = job->spatial;
    SCALAR center[MAX_TILE], scale[MAX_TILE], shift[MAX_TILE];
    for (int64_t j = 0; j < width; j++) {
        int64_t c = c0 + j;
        center[j] = job->mean[c];
        scale[j] = (job->weight != NULL ? job->weight[c] : 1) * job->rstd[c];
        shift[j] = job->bias != NULL ? job->bias[c] : 0;
    }
    if (spatial == 1) {
        for (int64_t r = 0; r < job->n; r++) {
            const SCALAR *x = job->x + r * channels + c0;
            SCALAR *y = job->y + r * channels + c0;
            for (int64_t j = 0; j < width; j++) y[j] = (x[j] - center[j]) * scale[j] + shift[j];
        }
        return;
    }
    for (int64_t j = 0; j < width; j++)
        for (int64_t r = 0; r < job->n; r++) {
            int64_t offset = (r * channels + c0 + j) * spatial;
            T(normalize_run)(job->x + offset, job->y + offset, spatial, center[j], scale[j], shift[j]);
        }
}

CT_SIMD_CLONES
static void T(batch_norm_forward_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(batch_norm_job) *job = ctx;
    for (int64_t u = begin; u < end; u++) {
        int64_t c0 = u * job->tile, width = CT_MIN(job->tile, job->channels - c0);
        if (job->batch_stats) {
            T(batch_norm_statistics)(job, c0, width);
        } else {
            for (int64_t c = c0; c < c0 + width; c++) {
                job->mean[c] = job->running_mean[c];
                job->rstd[c] = (SCALAR)(1.0 / sqrt((double)job->running_var[c] + job->eps));
            }
        }
        T(batch_norm_normalize)(job, c0, width);
    }
}

/*
 * Backward for channels [c0, c0 + width): a = sum(dy), b = sum(dy * (x - mean)) per channel (one pass,
 * skipped when only the eval-mode dx is wanted), then dx = k_dy*dy - k_const - (x - mean)*k_x with
 * k_dy = gamma*rstd, k_const = gamma*rstd*a/count, k_x = gamma*rstd^3*b/count (batch statistics).
 */
CT_INLINE void T(batch_norm_backward_tile)(const T(batch_norm_job) *job, int64_t c0, int64_t width)
{
    const int64_t channels = job->channels, spatial = job->spatial;
    double sum_dy[MAX_TILE], sum_dy_xc[MAX_TILE], center_d[MAX_TILE];
    SCALAR center[MAX_TILE], k_dy[MAX_TILE], k_const[MAX_TILE], k_x[MAX_TILE];
    for (int64_t j = 0; j < width; j++) center[j] = job->mean[c0 + j], center_d[j] = center[j];
    for (int64_t j = 0; j < width; j++) sum_dy[j] = 0, sum_dy_xc[j] = 0;
    if (job->batch_stats || job->dweight != NULL || job->dbias != NULL) {
        for (int64_t r = 0; r < job->n; r++) {
            if (spatial == 1) {
                const SCALAR *x = job->x + r * channels + c0, *dy = job->dy + r * channels + c0;
                for (int64_t j = 0; j < width; j++) {
                    double g = dy[j];
                    sum_dy[j] += g;
                    sum_dy_xc[j] += g * ((double)x[j] - center_d[j]);
                }
            } else {
                for (int64_t j = 0; j < width; j++) {
                    int64_t offset = (r * channels + c0 + j) * spatial;
                    T(gradient_sums)(job->x + offset, job->dy + offset, spatial, center_d[j], &sum_dy[j],
                                     &sum_dy_xc[j]);
                }
            }
        }
    }
    for (int64_t j = 0; j < width; j++) {
        int64_t c = c0 + j;
        double rstd = job->rstd[c], gamma_rstd = (job->weight != NULL ? job->weight[c] : 1) * rstd;
        if (job->dweight != NULL) job->dweight[c] = (SCALAR)(sum_dy_xc[j] * rstd);
        if (job->dbias != NULL) job->dbias[c] = (SCALAR)sum_dy[j];
        k_dy[j] = (SCALAR)gamma_rstd;
        k_const[j] = job->batch_stats ? (SCALAR)(gamma_rstd * sum_dy[j] / (double)job->count) : 0;
        k_x[j] = job->batch_stats ? (SCALAR)(gamma_rstd * rstd * rstd * sum_dy_xc[j] / (double)job->count) : 0;
    }
    if (job->dx == NULL) return;
    for (int64_t r = 0; r < job->n; r++) {
        if (spatial == 1) {
            int64_t offset = r * channels + c0;
            const SCALAR *x = job->x + offset, *dy = job->dy + offset;
            SCALAR *dx = job->dx + offset;
            for (int64_t j = 0; j < width; j++) dx[j] = k_dy[j] * dy[j] - k_const[j] - (x[j] - center[j]) * k_x[j];
        } else {
            for (int64_t j = 0; j < width; j++) {
                int64_t offset = (r * channels + c0 + j) * spatial;
                T(input_grad_run)(job->x + offset, job->dy + offset, job->dx + offset, spatial, center[j], k_dy[j],
                                  k_const[j], k_x[j]);
            }
        }
    }
}

CT_SIMD_CLONES
static void T(batch_norm_backward_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(batch_norm_job) *job = ctx;
    for (int64_t u = begin; u < end; u++) {
        int64_t c0 = u * job->tile;
        T(batch_norm_backward_tile)(job, c0, CT_MIN(job->tile, job->channels - c0));
    }
}

/* Validates the shared arguments and fills the job's shape; CT_OK or CT_ERR_INVALID_ARGUMENT. */
static int T(batch_norm_setup)(T(batch_norm_job) *job, int64_t n, int64_t channels, int64_t spatial, int64_t *total)
{
    if (!sizes_valid(n, channels, spatial, 1, total)) return CT_ERR_INVALID_ARGUMENT;
    job->n = n, job->channels = channels, job->spatial = spatial;
    job->count = n * spatial;
    job->tile = batch_norm_tile(channels, spatial);
    return CT_OK;
}

static void T(batch_norm_run)(T(batch_norm_job) *job, int64_t total, ct_range_body body)
{
    int64_t units = ct_ceil_div(job->channels, job->tile);
    ct_parallel_for(ct_threads_for((double)total, (double)MIN_ELEMS_PER_THREAD, units), units, body, job);
}

int CT_PASTE(ct_batch_norm_forward, SUFFIX)(int64_t n, int64_t channels, int64_t spatial, const SCALAR *x,
                                            const SCALAR *weight, const SCALAR *bias, double eps, int batch_stats,
                                            SCALAR *running_mean, SCALAR *running_var, double momentum, SCALAR *y,
                                            SCALAR *mean, SCALAR *rstd)
{
    T(batch_norm_job) job = {.batch_stats = batch_stats != 0, .eps = eps, .momentum = momentum, .x = x,
                             .weight = weight, .bias = bias, .running_mean = running_mean,
                             .running_var = running_var, .y = y, .mean = mean, .rstd = rstd};
    int64_t total;
    if (T(batch_norm_setup)(&job, n, channels, spatial, &total) != CT_OK || !constants_valid(eps, momentum))
        return CT_ERR_INVALID_ARGUMENT;
    if ((running_mean == NULL) != (running_var == NULL)) return CT_ERR_INVALID_ARGUMENT;
    if (!job.batch_stats && running_mean == NULL) return CT_ERR_INVALID_ARGUMENT; /* eval needs running statistics */
    if (channels == 0) return CT_OK;
    if (mean == NULL || rstd == NULL || (total > 0 && (x == NULL || y == NULL))) return CT_ERR_INVALID_ARGUMENT;
    if (total == 0) { /* no values: batch statistics are NaN, running ones stay */
        for (int64_t c = 0; c < channels; c++) {
            mean[c] = job.batch_stats ? (SCALAR)NAN : running_mean[c];
            rstd[c] = job.batch_stats ? (SCALAR)NAN : (SCALAR)(1.0 / sqrt((double)running_var[c] + eps));
        }
        return CT_OK;
    }
    T(batch_norm_run)(&job, total, T(batch_norm_forward_units));
    return CT_OK;
}

int CT_PASTE(ct_batch_norm_backward, SUFFIX)(int64_t n, int64_t channels, int64_t spatial, const SCALAR *x,
                                             const SCALAR *dy, const SCALAR *mean, const SCALAR *rstd,
                                             const SCALAR *weight, int batch_stats, SCALAR *dx, SCALAR *dweight,
                                             SCALAR *dbias)
{
    T(batch_norm_job) job = {.batch_stats = batch_stats != 0, .x = x, .dy = dy, .weight = weight,
                             .mean = (SCALAR *)mean, .rstd = (SCALAR *)rstd, .dx = dx, .dweight = dweight,
                             .dbias = dbias};
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
    T(batch_norm_run)(&job, total, T(batch_norm_backward_units));
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
        double a_lanes[LANES] = {0}, b_lanes[LANES] = {0};
        int64_t j = 0;
        for (; j + LANES <= len; j += LANES)
            for (int l = 0; l < LANES; l++) {
                double g = (double)dy[j + l] * weight[j + l];
                a_lanes[l] += g;
                b_lanes[l] += g * ((double)x[j + l] - center);
            }
        for (int l = 0; j + l < len; l++) {
            double g = (double)dy[j + l] * weight[j + l];
            a_lanes[l] += g;
            b_lanes[l] += g * ((double)x[j + l] - center);
        }
        a = lane_total(a_lanes), b = lane_total(b_lanes);
        if (dweight != NULL)
            for (j = 0; j < len; j++) {
                dweight[j] += (double)dy[j] * ((double)x[j] - center) * (double)rstd;
                dbias[j] += dy[j];
            }
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

    /* Chunks depend on the shape only: at most MAX_CHUNKS, at least MIN_ELEMS_PER_THREAD elements each. */
    int64_t chunks = CT_MIN(CT_MIN(n, (int64_t)MAX_CHUNKS), CT_MAX(total / MIN_ELEMS_PER_THREAD, (int64_t)1));
    job.samples_per_chunk = ct_ceil_div(n, chunks);
    chunks = ct_ceil_div(n, job.samples_per_chunk);
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
        double *sums = job.partials; /* chunk 0's partials accumulate the rest, in chunk order */
        for (int64_t u = 1; u < chunks; u++)
            for (int64_t c = 0; c < 2 * channels; c++) sums[c] += job.partials[u * 2 * channels + c];
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
