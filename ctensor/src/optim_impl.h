/*
 * Optimizer steps for one dtype (optim.c includes this once per dtype; see
 * dtype_instances.h). Each entry point updates `count` tensors in one call:
 * tensor i has sizes[i] elements at params[i], its gradient at grads[i] and
 * its state buffers at the i-th pointer of each state list. Elementwise, in
 * PyTorch's operation order (single-tensor path), so float64 runs match
 * torch.optim to rounding; with g the gradient (negated when maximize):
 *
 *   SGD      g += wd p;  b = fresh ? g : mu b + (1 - dampening) g;
 *            g = nesterov ? g + mu b : b;  p -= lr g
 *   Adam     g += wd p (AdamW instead: p *= 1 - lr wd);  m += (1 - b1)(g - m);
 *            v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v) with amsgrad;
 *            p -= lr/(1 - b1^t) * m / (sqrt(v)/sqrt(1 - b2^t) + eps)
 *   RMSprop  g += wd p;  v = a v + (1 - a) g^2;  centered: ga += (1 - a)(g - ga), v' = v - ga^2;
 *            d = sqrt(v') + eps;  momentum: b = mu b + g/d, p -= lr b;  else p -= lr g/d
 *   Adagrad  g += wd p;  s += g^2;  p -= lr/(1 + (t - 1) lr_decay) * g/(sqrt(s) + eps)
 */
#define T(name) CT_PASTE(name, SUFFIX)

typedef struct {
    int kind;
    int64_t count;
    SCALAR *const *params;
    const SCALAR *const *grads;
    SCALAR *const *state[3];
    const int64_t *sizes;
    const int64_t *steps;       /* Adam, Adagrad: the step number t of each tensor (after this step's increment) */
    const uint8_t *fresh;       /* SGD: 1 where the momentum buffer starts as this step's g */
    ct_optimizer_settings settings;
} T(optimizer_job);

/*
 * The element loops take the options that decide which state they store as constant arguments
 * (`with_*`), and the range functions call them with literal 0 and 1: each call is then a loop
 * without conditional stores, which vectorises. Value choices (weight decay on or off, Nesterov,
 * a fresh buffer) are selects between computed values, which vectorise as they are.
 */
CT_INLINE void T(sgd_elements)(const T(optimizer_job) *job, int64_t i, int64_t begin, int64_t end,
                               const int with_momentum)
{
    const ct_optimizer_settings *s = &job->settings;
    SCALAR *restrict p = job->params[i], *restrict buf = with_momentum ? job->state[0][i] : NULL;
    const SCALAR *restrict grad = job->grads[i];
    const SCALAR lr = (SCALAR)s->lr, wd = (SCALAR)s->weight_decay, mu = (SCALAR)s->momentum;
    const SCALAR keep = (SCALAR)(1 - s->dampening), sign = s->maximize ? -1 : 1;
    const int fresh = job->fresh != NULL && job->fresh[i], nesterov = s->nesterov, decay = wd != 0;
    for (int64_t e = begin; e < end; e++) {
        SCALAR g = sign * grad[e];
        g = decay ? g + wd * p[e] : g;
        if (with_momentum) {
            buf[e] = fresh ? g : mu * buf[e] + keep * g;
            g = nesterov ? g + mu * buf[e] : buf[e];
        }
        p[e] = p[e] + -lr * g;
    }
}

CT_INLINE void T(adam_elements)(const T(optimizer_job) *job, int64_t i, int64_t begin, int64_t end,
                                const int with_amsgrad)
{
    const ct_optimizer_settings *s = &job->settings;
    SCALAR *restrict p = job->params[i], *restrict m = job->state[0][i], *restrict v = job->state[1][i];
    SCALAR *restrict vmax = with_amsgrad ? job->state[2][i] : NULL;
    const SCALAR *restrict grad = job->grads[i];
    const double t = (double)job->steps[i];
    const SCALAR minus_step = (SCALAR)(-s->lr / (1 - pow(s->beta1, t)));
    const SCALAR correction2_sqrt = (SCALAR)sqrt(1 - pow(s->beta2, t));
    const SCALAR one_minus_b1 = (SCALAR)(1 - s->beta1), b2 = (SCALAR)s->beta2, one_minus_b2 = (SCALAR)(1 - s->beta2);
    const SCALAR eps = (SCALAR)s->eps, sign = s->maximize ? -1 : 1, wd = (SCALAR)s->weight_decay;
    /* AdamW: p *= 1 - lr wd (a factor of exactly 1 for Adam); Adam: g += wd p, skipped when wd = 0 as in PyTorch */
    const SCALAR shrink = (SCALAR)(s->decoupled_weight_decay ? 1 - s->lr * s->weight_decay : 1);
    const int coupled = !s->decoupled_weight_decay && wd != 0;
    for (int64_t e = begin; e < end; e++) {
        SCALAR g = sign * grad[e];
        p[e] = p[e] * shrink;
        g = coupled ? g + wd * p[e] : g;
        m[e] = m[e] + one_minus_b1 * (g - m[e]);
        v[e] = v[e] * b2 + one_minus_b2 * (g * g);
        SCALAR second = v[e];
        if (with_amsgrad) second = vmax[e] = vmax[e] > v[e] ? vmax[e] : v[e];
        SCALAR denom = sqrt(second) / correction2_sqrt + eps;
        p[e] = p[e] + minus_step * (m[e] / denom);
    }
}

CT_INLINE void T(rmsprop_elements)(const T(optimizer_job) *job, int64_t i, int64_t begin, int64_t end,
                                   const int with_momentum, const int with_centering)
{
    const ct_optimizer_settings *s = &job->settings;
    SCALAR *restrict p = job->params[i], *restrict sq = job->state[0][i];
    SCALAR *restrict buf = with_momentum ? job->state[1][i] : NULL;
    SCALAR *restrict ga = with_centering ? job->state[2][i] : NULL;
    const SCALAR *restrict grad = job->grads[i];
    const SCALAR lr = (SCALAR)s->lr, wd = (SCALAR)s->weight_decay, mu = (SCALAR)s->momentum, eps = (SCALAR)s->eps;
    const SCALAR alpha = (SCALAR)s->alpha, one_minus_alpha = (SCALAR)(1 - s->alpha), sign = s->maximize ? -1 : 1;
    const int decay = wd != 0;
    for (int64_t e = begin; e < end; e++) {
        SCALAR g = sign * grad[e];
        g = decay ? g + wd * p[e] : g;
        sq[e] = sq[e] * alpha + one_minus_alpha * (g * g);
        SCALAR second = sq[e];
        if (with_centering) {
            ga[e] = ga[e] + one_minus_alpha * (g - ga[e]);
            second = second + -1 * (ga[e] * ga[e]);
        }
        SCALAR denom = sqrt(second) + eps;
        if (with_momentum) {
            buf[e] = buf[e] * mu + g / denom;
            p[e] = p[e] + -lr * buf[e];
        } else {
            p[e] = p[e] + -lr * (g / denom);
        }
    }
}

CT_INLINE void T(adagrad_elements)(const T(optimizer_job) *job, int64_t i, int64_t begin, int64_t end)
{
    const ct_optimizer_settings *s = &job->settings;
    SCALAR *restrict p = job->params[i], *restrict sum = job->state[0][i];
    const SCALAR *restrict grad = job->grads[i];
    const SCALAR wd = (SCALAR)s->weight_decay, eps = (SCALAR)s->eps, sign = s->maximize ? -1 : 1;
    const SCALAR minus_clr = (SCALAR)(-(s->lr / (1 + ((double)job->steps[i] - 1) * s->lr_decay)));
    const int decay = wd != 0;
    for (int64_t e = begin; e < end; e++) {
        SCALAR g = sign * grad[e];
        g = decay ? g + wd * p[e] : g;
        sum[e] = sum[e] + g * g;
        p[e] = p[e] + minus_clr * (g / (sqrt(sum[e]) + eps));
    }
}

/* Elements [begin, end) of tensor i, through the loop specialised for this step's options. */
CT_INLINE void T(update_range)(const T(optimizer_job) *job, int64_t i, int64_t begin, int64_t end)
{
    const ct_optimizer_settings *s = &job->settings;
    switch (job->kind) {
    case CT_OPTIMIZER_SGD:
        if (s->momentum != 0) T(sgd_elements)(job, i, begin, end, 1);
        else T(sgd_elements)(job, i, begin, end, 0);
        break;
    case CT_OPTIMIZER_ADAM:
        if (s->amsgrad) T(adam_elements)(job, i, begin, end, 1);
        else T(adam_elements)(job, i, begin, end, 0);
        break;
    case CT_OPTIMIZER_RMSPROP:
        if (s->momentum > 0 && s->centered) T(rmsprop_elements)(job, i, begin, end, 1, 1);
        else if (s->momentum > 0) T(rmsprop_elements)(job, i, begin, end, 1, 0);
        else if (s->centered) T(rmsprop_elements)(job, i, begin, end, 0, 1);
        else T(rmsprop_elements)(job, i, begin, end, 0, 0);
        break;
    default: T(adagrad_elements)(job, i, begin, end); break;
    }
}

/* Units are OPTIMIZER_CHUNK-element pieces of the tensors, numbered tensor by tensor. */
CT_SIMD_CLONES
static void T(optimizer_units)(void *ctx, int64_t begin, int64_t end, int member)
{
    (void)member;
    const T(optimizer_job) *job = ctx;
    int64_t first_unit = 0; /* of tensor i */
    for (int64_t i = 0; i < job->count && first_unit < end; i++) {
        int64_t units = ct_ceil_div(job->sizes[i], OPTIMIZER_CHUNK);
        int64_t from = CT_MAX(begin, first_unit), to = CT_MIN(end, first_unit + units);
        if (from < to) {
            int64_t lo = (from - first_unit) * OPTIMIZER_CHUNK;
            int64_t hi = CT_MIN(job->sizes[i], (to - first_unit) * OPTIMIZER_CHUNK);
            T(update_range)(job, i, lo, hi);
        }
        first_unit += units;
    }
}

/* The state lists each kind reads: non-NULL, and non-NULL entries, for every tensor. */
static int T(check_optimizer)(const T(optimizer_job) *job, int64_t *total_units)
{
    const ct_optimizer_settings *s = &job->settings;
    int needed[3] = {0, 0, 0};
    switch (job->kind) {
    case CT_OPTIMIZER_SGD: needed[0] = s->momentum != 0; break;
    case CT_OPTIMIZER_ADAM: needed[0] = needed[1] = 1, needed[2] = s->amsgrad; break;
    case CT_OPTIMIZER_RMSPROP: needed[0] = 1, needed[1] = s->momentum > 0, needed[2] = s->centered; break;
    case CT_OPTIMIZER_ADAGRAD: needed[0] = 1; break;
    default: return CT_ERR_INVALID_ARGUMENT;
    }
    int steps_needed = job->kind == CT_OPTIMIZER_ADAM || job->kind == CT_OPTIMIZER_ADAGRAD;
    if (job->count < 0 || (job->count > 0 && (job->params == NULL || job->grads == NULL || job->sizes == NULL)) ||
        (steps_needed && job->count > 0 && job->steps == NULL))
        return CT_ERR_INVALID_ARGUMENT;
    for (int q = 0; q < 3; q++)
        if (needed[q] && job->count > 0 && job->state[q] == NULL) return CT_ERR_INVALID_ARGUMENT;
    *total_units = 0;
    for (int64_t i = 0; i < job->count; i++) {
        if (job->sizes[i] < 0) return CT_ERR_INVALID_ARGUMENT;
        if (job->sizes[i] == 0) continue;
        if (job->params[i] == NULL || job->grads[i] == NULL) return CT_ERR_INVALID_ARGUMENT;
        for (int q = 0; q < 3; q++)
            if (needed[q] && job->state[q][i] == NULL) return CT_ERR_INVALID_ARGUMENT;
        if (steps_needed && job->steps[i] < 1) return CT_ERR_INVALID_ARGUMENT;
        *total_units += ct_ceil_div(job->sizes[i], OPTIMIZER_CHUNK);
    }
    return CT_OK;
}

int CT_PASTE(ct_optimizer_step, SUFFIX)(int kind, int64_t count, SCALAR *const *params, const SCALAR *const *grads,
                                        SCALAR *const *state0, SCALAR *const *state1, SCALAR *const *state2,
                                        const int64_t *sizes, const int64_t *steps, const uint8_t *fresh,
                                        const ct_optimizer_settings *settings)
{
    if (settings == NULL) return CT_ERR_INVALID_ARGUMENT;
    T(optimizer_job) job = {kind, count, params, grads, {state0, state1, state2}, sizes, steps, fresh, *settings};
    int64_t units;
    int status = T(check_optimizer)(&job, &units);
    if (status != CT_OK || units == 0) return status;
    int threads = ct_threads_for((double)units * OPTIMIZER_CHUNK, (double)OPTIMIZER_MIN_PER_THREAD, units);
    ct_parallel_for(threads, units, T(optimizer_units), &job);
    return CT_OK;
}

#undef T
#undef SCALAR
#undef BITS
#undef SUFFIX
