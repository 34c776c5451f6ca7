/*
 * Fused activation kernels for one dtype; activation.c includes this with
 * SCALAR (float or double), BITS (uint32_t or uint64_t, as wide as SCALAR),
 * SUFFIX (f32 or f64) and undefines them at its end.
 *
 * Each activation is one pass over x (forward) or over (saved, dy) (backward).
 * The exponentials (exp_impl.h) and the normal CDF (erf_impl.h) are our own,
 * branch-free, so the loops vectorise: every exponential the activations need
 * has a non-positive argument (sigmoid takes e^-|x|, tanh e^-2|x|, ELU
 * e^min(x,0), GELU e^-x^2/2).
 */
#define T(name) CT_PASTE(name, SUFFIX)

#include "exp_impl.h"
#include "erf_impl.h"

/* sigma(x) = 1/(1 + e^-x); with z = e^-|x| <= 1: 1/(1 + z) for x >= 0, z/(1 + z) below. */
CT_INLINE SCALAR T(sigmoid)(SCALAR x)
{
    SCALAR z = T(exp_nonpositive)(-fabs(x));
    return (x >= 0 ? 1 : z) / (1 + z);
}

/* tanh|x| = -expm1(-2|x|)/(2 + expm1(-2|x|)), with the sign of x. */
CT_INLINE SCALAR T(tanh)(SCALAR x)
{
    SCALAR m = T(expm1_nonpositive)(-2 * fabs(x));
    return copysign(-m / (2 + m), x);
}

/* GELU's tanh form: u = sqrt(2/pi)(x + 0.044715 x^3), and u' = du/dx. */
#define GELU_TANH_K ((SCALAR)0.79788456080286535588)
#define GELU_TANH_C ((SCALAR)0.044715)

/* ---------------------------------------------------------------- one pass over a range */

/* y = f(x) on [begin, end). */
CT_INLINE void T(forward_range)(int kind, const SCALAR *restrict x, SCALAR *restrict y, int64_t begin, int64_t end,
                                SCALAR alpha, SCALAR scale, SCALAR beta)
{
    switch (kind) {
    case CT_ACTIVATION_SIGMOID:
        for (int64_t i = begin; i < end; i++) y[i] = T(sigmoid)(x[i]);
        break;
    case CT_ACTIVATION_TANH:
        for (int64_t i = begin; i < end; i++) y[i] = T(tanh)(x[i]);
        break;
    case CT_ACTIVATION_SWISH: /* x sigma(beta x) */
        for (int64_t i = begin; i < end; i++) y[i] = x[i] * T(sigmoid)(beta * x[i]);
        break;
    case CT_ACTIVATION_ELU: /* NOTE: NaN takes the linear branch, as in PyTorch */
        for (int64_t i = begin; i < end; i++) {
            SCALAR negative = alpha * T(expm1_nonpositive)(x[i] <= 0 ? x[i] : 0);
            y[i] = scale * (x[i] <= 0 ? negative : x[i]);
        }
        break;
    case CT_ACTIVATION_GELU: /* x Phi(x) = x/2 (1 + erf(x/sqrt 2)), Phi without cancellation for x < 0 */
        for (int64_t i = begin; i < end; i++) {
            SCALAR density;
            y[i] = x[i] * T(normal_cdf)(x[i], &density);
        }
        break;
    case CT_ACTIVATION_GELU_TANH: /* x/2 (1 + tanh u) = x sigma(2u): no cancellation for x < 0 */
        for (int64_t i = begin; i < end; i++) {
            SCALAR u = GELU_TANH_K * (x[i] + GELU_TANH_C * x[i] * x[i] * x[i]);
            y[i] = x[i] * T(sigmoid)(2 * u);
        }
        break;
    case CT_ACTIVATION_RELU: /* NOTE: NaN fails x <= 0 and stays NaN, as in PyTorch */
        for (int64_t i = begin; i < end; i++) y[i] = x[i] <= 0 ? 0 : x[i];
        break;
    }
}

/*
 * dx = dy f'(.) on [begin, end), from `saved`: the output y for sigmoid and
 * tanh, the input x for the rest.
 *   sigmoid   y' = y(1 - y)
 *   tanh      y' = 1 - y^2
 *   swish     y = x s, s = sigma(beta x):  y' = s + x beta s(1 - s) = s(1 + beta x(1 - s))
 *   elu       y' = scale for x > 0, scale alpha e^x otherwise
 *   gelu      y = x Phi(x):  y' = Phi(x) + x phi(x), phi(x) = e^(-x^2/2)/sqrt(2 pi)
 *   gelu_tanh y = x/2 (1 + tanh u) = x s, s = sigma(2u):  y' = s + 2x s(1 - s) u', u' = k(1 + 3c x^2)
 *   relu      y' = 0 where y <= 0 (x <= 0: the slope at 0 is 0), 1 elsewhere (a NaN passes dy)
 */
CT_INLINE void T(backward_range)(int kind, const SCALAR *restrict saved, const SCALAR *restrict dy,
                                 SCALAR *restrict dx, int64_t begin, int64_t end, SCALAR alpha, SCALAR scale,
                                 SCALAR beta)
{
    switch (kind) {
    case CT_ACTIVATION_SIGMOID:
        for (int64_t i = begin; i < end; i++) dx[i] = dy[i] * (saved[i] * (1 - saved[i]));
        break;
    case CT_ACTIVATION_TANH:
        for (int64_t i = begin; i < end; i++) dx[i] = dy[i] * (1 - saved[i] * saved[i]);
        break;
    case CT_ACTIVATION_SWISH:
        for (int64_t i = begin; i < end; i++) {
            SCALAR s = T(sigmoid)(beta * saved[i]);
            dx[i] = dy[i] * (s + saved[i] * (beta * s * (1 - s))); /* the tiny factor first: no inf * 0 */
        }
        break;
    case CT_ACTIVATION_ELU: /* NOTE: a NaN input takes the linear branch's slope, as in PyTorch */
        for (int64_t i = begin; i < end; i++) {
            SCALAR negative = alpha * T(exp_nonpositive)(saved[i] <= 0 ? saved[i] : 0);
            dx[i] = dy[i] * (scale * (saved[i] <= 0 ? negative : 1));
        }
        break;
    case CT_ACTIVATION_GELU:
        for (int64_t i = begin; i < end; i++) {
            SCALAR x = saved[i], density, cdf = T(normal_cdf)(x, &density);
            dx[i] = dy[i] * (cdf + x * density);
        }
        break;
    case CT_ACTIVATION_GELU_TANH:
        for (int64_t i = begin; i < end; i++) {
            SCALAR x = saved[i];
            SCALAR s = T(sigmoid)(2 * GELU_TANH_K * (x + GELU_TANH_C * x * x * x));
            SCALAR du = GELU_TANH_K * (1 + 3 * GELU_TANH_C * x * x);
            dx[i] = dy[i] * (s + 2 * x * s * (1 - s) * du);
        }
        break;
    case CT_ACTIVATION_RELU: /* a select, not dy * 0: an infinite dy where y <= 0 gives 0, not NaN */
        for (int64_t i = begin; i < end; i++) dx[i] = saved[i] <= 0 ? 0 : dy[i];
        break;
    }
}

/* ---------------------------------------------------------------- entry points */

typedef struct {
    int kind;
    int64_t n;
    const SCALAR *in;
    const SCALAR *dy; /* NULL for the forward pass */
    SCALAR *out;
    SCALAR alpha, scale, beta;
} T(activation_job);

/* Units are CHUNK-element pieces of the arrays. */
CT_SIMD_CLONES
static void T(activation_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(activation_job) *job = ctx;
    int64_t first = begin * ACTIVATION_CHUNK, last = end * ACTIVATION_CHUNK;
    if (last > job->n) last = job->n;
    if (job->dy == NULL)
        T(forward_range)(job->kind, job->in, job->out, first, last, job->alpha, job->scale, job->beta);
    else
        T(backward_range)(job->kind, job->in, job->dy, job->out, first, last, job->alpha, job->scale, job->beta);
}

static int T(run_activation)(T(activation_job) *job)
{
    if (job->kind < CT_ACTIVATION_SIGMOID || job->kind > CT_ACTIVATION_RELU || job->n < 0)
        return CT_ERR_INVALID_ARGUMENT;
    if (job->n == 0) return CT_OK;
    if (job->in == NULL || job->out == NULL) return CT_ERR_INVALID_ARGUMENT;
    int64_t chunks = ct_ceil_div(job->n, ACTIVATION_CHUNK);
    ct_parallel_for(ct_threads_for((double)job->n, (double)ACTIVATION_MIN_PER_THREAD, chunks), chunks,
                    T(activation_units), job);
    return CT_OK;
}

int CT_PASTE(ct_activation_forward, SUFFIX)(int kind, int64_t n, const SCALAR *x, SCALAR *y, double alpha,
                                            double scale, double beta)
{
    T(activation_job) job = {kind, n, x, NULL, y, (SCALAR)alpha, (SCALAR)scale, (SCALAR)beta};
    return T(run_activation)(&job);
}

int CT_PASTE(ct_activation_backward, SUFFIX)(int kind, int64_t n, const SCALAR *saved, const SCALAR *dy, SCALAR *dx,
                                             double alpha, double scale, double beta)
{
    if (n > 0 && dy == NULL) return CT_ERR_INVALID_ARGUMENT;
    T(activation_job) job = {kind, n, saved, dy, dx, (SCALAR)alpha, (SCALAR)scale, (SCALAR)beta};
    return T(run_activation)(&job);
}

#undef T
#undef GELU_TANH_K
#undef GELU_TANH_C
#undef SCALAR
#undef BITS
#undef SUFFIX
