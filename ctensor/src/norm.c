/*
 * Normalization kernels: ct_batch_norm_* (statistics per channel, over the
 * batch and spatial positions) and ct_group_norm_* (statistics per sample and
 * group of channels, which also serves layer, instance and RMS norm). One
 * template (norm_impl.h) per dtype, plus the dtype-independent pieces below.
 *
 * The math, for one block of m values that share their statistics:
 *
 *   forward   mu = mean(x), var = mean((x - mu)^2)   (biased), rstd = 1/sqrt(var + eps)
 *             xhat = (x - mu) * rstd,  y = gamma * xhat + beta
 *   backward  with g = gamma * dy (per element),
 *             d xhat_i / d x_j = rstd * (delta_ij - 1/m - xhat_i * xhat_j / m), so
 *             dx = sum_i g_i * d xhat_i / d x_j
 *                = rstd * g                     term 1: x_j itself
 *                - rstd * mean(g)               term 2: through mu
 *                - rstd * xhat * mean(g * xhat) term 3: through var (d rstd / d x_j = -rstd^3 (x_j - mu) / m)
 *             dgamma = sum(dy * xhat), dbeta = sum(dy)  (over every block a channel appears in)
 *   RMS norm  mu = 0 and var = mean(x^2): term 2 drops out.
 *   eval      running statistics are constants: only term 1.
 *
 * With a = sum(g) and b = sum(g * (x - mu)), dx = rstd*g - rstd*a/m - (x - mu) * rstd^3*b/m: each
 * kernel makes one pass for the sums (x and dy read once) and one for dx, which finds a block in
 * cache when it fits. The forward likewise reads x once for the statistics and once to write y.
 * Statistics come from sums shifted by the block's first value, var = mean(d^2) - mean(d)^2 with
 * d = x - x_0, in one pass. Every long sum is taken in the input's precision over short blocks whose
 * sums are added in double (see BLOCK_STEPS below); the statistics sum each block about its own
 * means and shift the block sums to x_0 in double, so an x_0 far from the rest (an outlier) costs
 * double rounding only, where the cancellation happens.
 *
 * Threads: sums per channel across samples (batch norm's statistics and gradient sums, every
 * dgamma/dbeta) are taken over chunks of samples fixed by the shape, one partial per chunk,
 * combined in chunk order; everything else is per row or per element. Every value is therefore
 * computed in the same order for any thread count.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ctensor_internal.h"

/* Interleaved accumulators in the row sums: each is a separate dependency chain the vectoriser keeps in registers. */
#define LANES 16
/*
 * Sums of many values are taken in the input's precision over short blocks (BLOCK_STEPS steps of
 * LANES values along a row; BLOCK_ROWS rows down a column, TILE_VECTORS vectors of columns at a
 * time) and the block sums added in double: the hot loops run at the full vector width, and a
 * block's rounding error stays within ~8 ulps of the sum of its terms' magnitudes. (Accumulating
 * every term in double, as before, ran float32 at half the width, with a conversion per value.)
 */
#define BLOCK_STEPS 8
#define BLOCK_ROWS 8
#define TILE_VECTORS 4

typedef double double4 __attribute__((vector_size(32)));
/* Most chunks of samples a pass with per-channel sums cuts the batch into (each holds 2 x channels partials). */
#define MAX_CHUNKS 32
/* Elements per thread before a second thread pays for itself. */
#define MIN_ELEMS_PER_THREAD ((int64_t)1 << 15)

/* The sum of LANES partial sums, combined as a tree (a fixed order). */
CT_INLINE double lane_total(double *lanes)
{
    for (int step = 1; step < LANES; step *= 2)
        for (int l = 0; l < LANES; l += 2 * step) lanes[l] += lanes[l + step];
    return lanes[0];
}

/* Mean and biased variance of `count` values from s1 = sum(x - shift) and s2 = sum((x - shift)^2). */
CT_INLINE void moments_from_sums(double shift, double s1, double s2, int64_t count, double *mean, double *var)
{
    double mean_shifted = s1 / (double)count;
    double variance = s2 / (double)count - mean_shifted * mean_shifted;
    *mean = shift + mean_shifted;
    *var = variance > 0 ? variance : 0;
}

/*
 * Chunks of samples for a pass whose per-channel sums are combined across samples: at most
 * MAX_CHUNKS, at least MIN_ELEMS_PER_THREAD elements each, and a function of the shape only, so the
 * order of every sum is the same for any thread count. Returns the count; *samples_per_chunk is set.
 */
static int64_t sample_chunks(int64_t n, int64_t total, int64_t *samples_per_chunk)
{
    int64_t chunks = CT_MIN(CT_MIN(n, (int64_t)MAX_CHUNKS), CT_MAX(total / MIN_ELEMS_PER_THREAD, (int64_t)1));
    *samples_per_chunk = ct_ceil_div(n, CT_MAX(chunks, (int64_t)1));
    return *samples_per_chunk > 0 ? ct_ceil_div(n, *samples_per_chunk) : 0;
}

/* partials[0, width) += partials[u * width, (u + 1) * width) for u = 1 .. chunks - 1, in that order. */
static void combine_partials(double *partials, int64_t chunks, int64_t width)
{
    for (int64_t u = 1; u < chunks; u++)
        for (int64_t j = 0; j < width; j++) partials[j] += partials[u * width + j];
}

/* Sizes are non-negative and their product (stored in *total) fits in int64. */
static int sizes_valid(int64_t a, int64_t b, int64_t c, int64_t d, int64_t *total)
{
    if (a < 0 || b < 0 || c < 0 || d < 0) return 0;
    int64_t ab, abc;
    return !__builtin_mul_overflow(a, b, &ab) && !__builtin_mul_overflow(ab, c, &abc) &&
           !__builtin_mul_overflow(abc, d, total);
}

/* eps >= 0 and finite; momentum finite. */
static int constants_valid(double eps, double momentum) { return eps >= 0 && isfinite(eps) && isfinite(momentum); }

#define SCALAR float
#define SUFFIX f32
#include "norm_impl.h"
#undef SCALAR
#undef SUFFIX

#define SCALAR double
#define SUFFIX f64
#include "norm_impl.h"
#undef SCALAR
#undef SUFFIX
