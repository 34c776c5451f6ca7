/*
 * Softmax cross entropy for one dtype; loss.c includes this with SCALAR,
 * BITS and SUFFIX (see exp_impl.h), and it undefines them at its end.
 *
 * Row r = (o, i) of x (outer, classes, inner) holds the logits x[r, c] =
 * x[o*classes*inner + c*inner + i]. With t the row's target, w the class
 * weights (1 when absent), eps the label smoothing and C the class count:
 *
 *   lse     = m + log sum_c e^(x[r,c] - m),  m = max_c x[r,c]
 *   loss[r] = (1 - eps) w[t] (lse - x[r,t]) + (eps/C) sum_c w[c] (lse - x[r,c])
 *
 * i.e. -sum_c a[c] log p[c] with log p = x - lse and a[c] = (1 - eps) w[t] [c = t]
 * + (eps/C) w[c]. Since d lse / d x[r,c] = p[c]:
 *
 *   dx[r,c] = grad[r] (A p[c] - a[c]),   A = sum_c a[c] = (1 - eps) w[t] + (eps/C) sum_c w[c]
 *
 * Rows whose target is ignore_index have loss 0 and gradient 0. Sums run in double.
 */
#define T(name) CT_PASTE(name, SUFFIX)

#include "exp_impl.h"

typedef struct {
    int64_t classes, inner;
    const SCALAR *x;
    const int64_t *target;
    const SCALAR *class_weight; /* NULL: every class weighs 1 */
    int64_t ignore_index;
    double smoothing;
    double *logsumexp;
    SCALAR *loss;       /* forward */
    const SCALAR *grad; /* backward */
    SCALAR *dx;
} T(cross_entropy_job);

CT_INLINE double T(class_weight)(const T(cross_entropy_job) *job, int64_t c)
{
    return job->class_weight == NULL ? 1.0 : (double)job->class_weight[c];
}

/*
 * log sum_c e^x[c] over one row of `classes` logits `stride` apart. A contiguous row is read as
 * LANES interleaved columns (a lane-wise max, then lane-wise sums in double) so both loops
 * vectorise; the lanes are combined in a fixed order. A NaN logit makes the sum, and lse, NaN.
 */
CT_INLINE double T(row_logsumexp)(const SCALAR *x, int64_t classes, int64_t stride)
{
    int64_t blocked = stride == 1 ? classes / LANES * LANES : 0;
    SCALAR m = x[0], lane_max[LANES];
    double lane_sum[LANES], sum = 0;
    for (int j = 0; j < LANES; j++) lane_max[j] = blocked > 0 ? x[j] : x[0];
    for (int64_t c = 0; c < blocked; c += LANES)
        for (int j = 0; j < LANES; j++) lane_max[j] = x[c + j] > lane_max[j] ? x[c + j] : lane_max[j];
    for (int j = 0; j < LANES; j++) m = lane_max[j] > m ? lane_max[j] : m;
    for (int64_t c = blocked; c < classes; c++) m = x[c * stride] > m ? x[c * stride] : m;
    for (int j = 0; j < LANES; j++) lane_sum[j] = 0;
    for (int64_t c = 0; c < blocked; c += LANES)
        for (int j = 0; j < LANES; j++) lane_sum[j] += (double)T(exp_nonpositive)(x[c + j] - m);
    for (int j = 0; j < LANES; j++) sum += lane_sum[j];
    for (int64_t c = blocked; c < classes; c++) sum += (double)T(exp_nonpositive)(x[c * stride] - m);
    return (double)m + log(sum);
}

/* softmax p = e^(x - lse), the difference taken in double */
CT_INLINE SCALAR T(probability)(SCALAR logit, double lse) { return T(exp_nonpositive)((SCALAR)((double)logit - lse)); }

/* sum_c w[c] (lse - x[c]): the smoothing term, without the cancellation of sum w lse - sum w x. */
CT_INLINE double T(smoothing_sum)(const T(cross_entropy_job) *job, const SCALAR *x, double lse)
{
    double sum = 0;
    if (job->class_weight == NULL) /* two loops: see cross_entropy_backward_rows */
        for (int64_t c = 0; c < job->classes; c++) sum += lse - (double)x[c * job->inner];
    else
        for (int64_t c = 0; c < job->classes; c++) sum += job->class_weight[c] * (lse - (double)x[c * job->inner]);
    return sum;
}

CT_SIMD_CLONES
static void T(cross_entropy_forward_rows)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(cross_entropy_job) *job = ctx;
    int64_t classes = job->classes, inner = job->inner;
    for (int64_t r = begin; r < end; r++) {
        const SCALAR *x = job->x + (r / inner) * classes * inner + r % inner;
        int64_t t = job->target[r];
        double lse = T(row_logsumexp)(x, classes, inner), loss = 0;
        if (t != job->ignore_index) {
            loss = (1 - job->smoothing) * T(class_weight)(job, t) * (lse - (double)x[t * inner]);
            if (job->smoothing > 0) loss += job->smoothing / (double)classes * T(smoothing_sum)(job, x, lse);
        }
        job->logsumexp[r] = lse;
        job->loss[r] = (SCALAR)loss;
    }
}

CT_SIMD_CLONES
static void T(cross_entropy_backward_rows)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(cross_entropy_job) *job = ctx;
    int64_t classes = job->classes, inner = job->inner;
    double spread = job->smoothing / (double)classes; /* eps/C */
    double weight_sum = 0;
    for (int64_t c = 0; c < classes && spread > 0; c++) weight_sum += T(class_weight)(job, c);
    for (int64_t r = begin; r < end; r++) {
        int64_t offset = (r / inner) * classes * inner + r % inner, t = job->target[r];
        const SCALAR *x = job->x + offset;
        SCALAR *dx = job->dx + offset;
        if (t == job->ignore_index) {
            for (int64_t c = 0; c < classes; c++) dx[c * inner] = 0;
            continue;
        }
        double g = (double)job->grad[r], lse = job->logsumexp[r];
        double target_share = (1 - job->smoothing) * T(class_weight)(job, t); /* (1 - eps) w[t] */
        SCALAR total = (SCALAR)(g * (target_share + spread * weight_sum));    /* g A */
        SCALAR spread_grad = (SCALAR)(g * spread);                             /* g eps/C */
        /* NOTE: two loops, not a select on class_weight == NULL inside one: a vectorised select
         * becomes a masked load, whose all-false form from a NULL address costs ~100x on AMD. */
        if (job->class_weight == NULL)
            for (int64_t c = 0; c < classes; c++)
                dx[c * inner] = total * T(probability)(x[c * inner], lse) - spread_grad;
        else
            for (int64_t c = 0; c < classes; c++)
                dx[c * inner] = total * T(probability)(x[c * inner], lse) - spread_grad * job->class_weight[c];
        dx[t * inner] -= (SCALAR)(g * target_share);
    }
}

/* Every target is ignore_index or a class: checked before any row reads x[r, t]. */
static int T(check_targets)(const T(cross_entropy_job) *job, int64_t rows)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t t = job->target[r];
        if (t != job->ignore_index && (t < 0 || t >= job->classes)) return CT_ERR_INVALID_ARGUMENT;
    }
    return CT_OK;
}

static int T(run_cross_entropy)(T(cross_entropy_job) *job, int64_t outer, ct_range_body rows_body)
{
    if (outer < 0 || job->classes < 1 || job->inner < 0 || !(job->smoothing >= 0 && job->smoothing <= 1))
        return CT_ERR_INVALID_ARGUMENT;
    int64_t rows;
    if (__builtin_mul_overflow(outer, job->inner, &rows)) return CT_ERR_INVALID_ARGUMENT;
    if (rows == 0) return CT_OK;
    if (job->x == NULL || job->target == NULL || job->logsumexp == NULL) return CT_ERR_INVALID_ARGUMENT;
    int status = T(check_targets)(job, rows);
    if (status != CT_OK) return status;
    double work = (double)rows * (double)job->classes;
    ct_parallel_for(ct_threads_for(work, (double)CROSS_ENTROPY_MIN_PER_THREAD, rows), rows, rows_body, job);
    return CT_OK;
}

int CT_PASTE(ct_cross_entropy_forward, SUFFIX)(int64_t outer, int64_t classes, int64_t inner, const SCALAR *x,
                                               const int64_t *target, const SCALAR *class_weight,
                                               int64_t ignore_index, double label_smoothing, SCALAR *loss,
                                               double *logsumexp, double *sums)
{
    T(cross_entropy_job) job = {classes, inner, x, target, class_weight, ignore_index, label_smoothing,
                                logsumexp, loss, NULL, NULL};
    if ((loss == NULL || sums == NULL) && outer > 0 && inner > 0) return CT_ERR_INVALID_ARGUMENT;
    int status = T(run_cross_entropy)(&job, outer, T(cross_entropy_forward_rows));
    if (status != CT_OK || outer == 0 || inner == 0) return status;
    /* In row order, after the threads: the same sums for any thread count. */
    sums[0] = sums[1] = 0;
    for (int64_t r = 0; r < outer * inner; r++) {
        sums[0] += (double)loss[r];
        if (target[r] != ignore_index) sums[1] += T(class_weight)(&job, target[r]);
    }
    return CT_OK;
}

int CT_PASTE(ct_cross_entropy_backward, SUFFIX)(int64_t outer, int64_t classes, int64_t inner, const SCALAR *x,
                                                const int64_t *target, const SCALAR *class_weight,
                                                int64_t ignore_index, double label_smoothing,
                                                const double *logsumexp, const SCALAR *grad, SCALAR *dx)
{
    T(cross_entropy_job) job = {classes, inner, x, target, class_weight, ignore_index, label_smoothing,
                                (double *)logsumexp, NULL, grad, dx};
    if ((grad == NULL || dx == NULL) && outer > 0 && inner > 0) return CT_ERR_INVALID_ARGUMENT;
    return T(run_cross_entropy)(&job, outer, T(cross_entropy_backward_rows));
}

#undef T
#undef SCALAR
#undef BITS
#undef SUFFIX
