/*
 * Fused layer kernels for a floating T, with the CPU backend's formulas (ctensor/src/activation_impl.h,
 * norm_impl.h, loss_impl.h, optim_impl.h): activations, batch norm and group norm (statistics in ACC,
 * double where the device has it), softmax cross entropy, optimizer steps. Every buffer is dense.
 * Kernels named *_groups run one work-group (a power of two, at most GROUP_MAX) per channel or row.
 */
#define GROUP_MAX 256

/* Each work-item's (a, b) summed over the work-group (a tree in local memory); every work-item gets the totals. */
inline void group_sum2(ACC *a, ACC *b, __local ACC *scratch_a, __local ACC *scratch_b)
{
    int lid = get_local_id(0);
    scratch_a[lid] = *a;
    scratch_b[lid] = *b;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = get_local_size(0) / 2; span > 0; span /= 2) {
        if (lid < span) {
            scratch_a[lid] += scratch_a[lid + span];
            scratch_b[lid] += scratch_b[lid + span];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    *a = scratch_a[0];
    *b = scratch_b[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* the scratch may be reused next */
}

/* ---------------------------------------------------------------- activations */

#define ACTIVATION_SIGMOID 0
#define ACTIVATION_TANH 1
#define ACTIVATION_SWISH 2
#define ACTIVATION_ELU 3
#define ACTIVATION_GELU 4
#define ACTIVATION_GELU_TANH 5
#define ACTIVATION_RELU 6
#define GELU_TANH_K ((T)0.79788456080286535588)
#define GELU_TANH_C ((T)0.044715)

/* sigma(x) = 1/(1 + e^-x); with z = e^-|x| <= 1: 1/(1 + z) for x >= 0, z/(1 + z) below. */
inline T sigmoid_value(T x)
{
    T z = exp(-fabs(x));
    return (x >= 0 ? (T)1 : z) / (1 + z);
}

/* tanh|x| = -expm1(-2|x|)/(2 + expm1(-2|x|)), with the sign of x. */
inline T tanh_value(T x)
{
    T m = expm1(-2 * fabs(x));
    return copysign(-m / (2 + m), x);
}

/* Phi(x) = erfc(-x/sqrt 2)/2 (no cancellation for x < 0), and the density e^(-x^2/2)/sqrt(2 pi). */
inline T normal_cdf(T x, T *density)
{
    *density = exp(-x * x / 2) * (T)0.39894228040143267794;
    return erfc(-x * (T)0.70710678118654752440) / 2;
}

__kernel void activation_forward(__global T *y, __global const T *x, int kind, T alpha, T scale, T beta, long n)
{
    long i = get_global_id(0);
    if (i >= n) return;
    T v = x[i], density;
    switch (kind) {
    case ACTIVATION_SIGMOID: y[i] = sigmoid_value(v); break;
    case ACTIVATION_TANH: y[i] = tanh_value(v); break;
    case ACTIVATION_SWISH: y[i] = v * sigmoid_value(beta * v); break;
    case ACTIVATION_ELU: y[i] = scale * (v <= 0 ? alpha * expm1(v <= 0 ? v : (T)0) : v); break; /* NaN: linear */
    case ACTIVATION_GELU: y[i] = v * normal_cdf(v, &density); break;
    case ACTIVATION_RELU: y[i] = v <= 0 ? (T)0 : v; break; /* NaN stays NaN */
    default: y[i] = v * sigmoid_value(2 * (GELU_TANH_K * (v + GELU_TANH_C * v * v * v))); break;
    }
}

/* dx = dy f'(.), from `saved`: the output for sigmoid, tanh and relu, the input otherwise (see activation_impl.h). */
__kernel void activation_backward(__global T *dx, __global const T *saved, __global const T *dy, int kind, T alpha,
                                  T scale, T beta, long n)
{
    long i = get_global_id(0);
    if (i >= n) return;
    T v = saved[i], g = dy[i], s, density, cdf;
    switch (kind) {
    case ACTIVATION_SIGMOID: dx[i] = g * (v * (1 - v)); break;
    case ACTIVATION_TANH: dx[i] = g * (1 - v * v); break;
    case ACTIVATION_SWISH:
        s = sigmoid_value(beta * v);
        dx[i] = g * (s + v * (beta * s * (1 - s)));
        break;
    case ACTIVATION_ELU: dx[i] = g * (scale * (v <= 0 ? alpha * exp(v <= 0 ? v : (T)0) : (T)1)); break;
    case ACTIVATION_GELU:
        cdf = normal_cdf(v, &density);
        dx[i] = g * (cdf + v * density);
        break;
    case ACTIVATION_RELU: dx[i] = v <= 0 ? (T)0 : g; break; /* a select: an infinite dy where y <= 0 gives 0 */
    default:
        s = sigmoid_value(2 * GELU_TANH_K * (v + GELU_TANH_C * v * v * v));
        dx[i] = g * (s + 2 * v * s * (1 - s) * (GELU_TANH_K * (1 + 3 * GELU_TANH_C * v * v)));
        break;
    }
}

/* ---------------------------------------------------------------- batch norm: x (n, channels, spatial) */

/* mean = shift + s1/count, biased var = s2/count - (s1/count)^2 (at least 0), from shifted sums. */
inline void moments(ACC shift, ACC s1, ACC s2, long count, ACC *mean, ACC *var)
{
    ACC mean_shifted = s1 / count, variance = s2 / count - mean_shifted * mean_shifted;
    *mean = shift + mean_shifted;
    *var = variance > 0 ? variance : 0;
}

/*
 * One work-group per channel: this batch's mean and rstd, and the running statistics updated (work-item 0)
 * when has_running: rate `momentum`, or 1/counter[counter_offset] when momentum_from_counter.
 */
__kernel void batch_norm_statistics_groups(__global const T *x, long n, long channels, long spatial, ACC eps,
                                           __global T *mean, __global T *rstd, int has_running,
                                           __global T *running_mean, long running_mean_offset,
                                           __global T *running_var, long running_var_offset, ACC momentum,
                                           int momentum_from_counter, __global const long *counter,
                                           long counter_offset)
{
    __local ACC scratch_a[GROUP_MAX], scratch_b[GROUP_MAX];
    long c = get_group_id(0), count = n * spatial;
    ACC shift = x[c * spatial], s1 = 0, s2 = 0;
    for (long j = get_local_id(0); j < count; j += get_local_size(0)) {
        ACC d = (ACC)x[(j / spatial) * channels * spatial + c * spatial + j % spatial] - shift;
        s1 += d;
        s2 += d * d;
    }
    group_sum2(&s1, &s2, scratch_a, scratch_b);
    if (get_local_id(0) != 0) return;
    ACC batch_mean, var;
    moments(shift, s1, s2, count, &batch_mean, &var);
    mean[c] = (T)batch_mean;
    rstd[c] = (T)(1 / sqrt(var + eps));
    if (has_running) {
        ACC rate = momentum_from_counter ? (ACC)1 / (ACC)counter[counter_offset] : momentum;
        ACC unbiased = count > 1 ? var * (ACC)count / (ACC)(count - 1) : var;
        running_mean += running_mean_offset;
        running_var += running_var_offset;
        running_mean[c] = (T)((1 - rate) * running_mean[c] + rate * batch_mean);
        running_var[c] = (T)((1 - rate) * running_var[c] + rate * unbiased);
    }
}

/* Eval mode: the running statistics are the statistics. */
__kernel void batch_norm_running_statistics(__global const T *running_mean, long running_mean_offset,
                                            __global const T *running_var, long running_var_offset, ACC eps,
                                            __global T *mean, __global T *rstd, long channels)
{
    long c = get_global_id(0);
    if (c >= channels) return;
    mean[c] = running_mean[running_mean_offset + c];
    rstd[c] = (T)(1 / sqrt((ACC)running_var[running_var_offset + c] + eps));
}

/* y = (x - mean[c]) * (weight[c] * rstd[c]) + bias[c]. */
__kernel void batch_norm_normalize(__global T *y, __global const T *x, __global const T *mean,
                                   __global const T *rstd, int has_weight, __global const T *weight, int has_bias,
                                   __global const T *bias, long channels, long spatial, long total)
{
    long i = get_global_id(0);
    if (i >= total) return;
    long c = (i / spatial) % channels;
    T scale = (has_weight ? weight[c] : (T)1) * rstd[c];
    y[i] = (x[i] - mean[c]) * scale + (has_bias ? bias[c] : (T)0);
}

/*
 * One work-group per channel: a = sum(dy), b = sum(dy (x - mean)); then dweight = rstd b, dbias = a, and
 * the constants of dx = k_dy dy - k_const - (x - mean) k_x (constants: 3 x channels):
 * k_dy = gamma rstd, and with batch statistics k_const = gamma rstd a/count, k_x = gamma rstd^3 b/count.
 */
__kernel void batch_norm_gradient_groups(__global const T *x, __global const T *dy, __global const T *mean,
                                         __global const T *rstd, int has_weight, __global const T *weight,
                                         int batch_stats, long n, long channels, long spatial,
                                         __global T *constants, int wants_dweight, __global T *dweight,
                                         int wants_dbias, __global T *dbias)
{
    __local ACC scratch_a[GROUP_MAX], scratch_b[GROUP_MAX];
    long c = get_group_id(0), count = n * spatial;
    ACC center = mean[c], a = 0, b = 0;
    for (long j = get_local_id(0); j < count; j += get_local_size(0)) {
        long i = (j / spatial) * channels * spatial + c * spatial + j % spatial;
        ACC g = dy[i];
        a += g;
        b += g * ((ACC)x[i] - center);
    }
    group_sum2(&a, &b, scratch_a, scratch_b);
    if (get_local_id(0) != 0) return;
    ACC r = rstd[c], gamma_rstd = (has_weight ? (ACC)weight[c] : 1) * r;
    if (wants_dweight) dweight[c] = (T)(b * r);
    if (wants_dbias) dbias[c] = (T)a;
    constants[c] = (T)gamma_rstd;
    constants[channels + c] = batch_stats ? (T)(gamma_rstd * a / count) : (T)0;
    constants[2 * channels + c] = batch_stats ? (T)(gamma_rstd * r * r * b / count) : (T)0;
}

__kernel void batch_norm_input_grad(__global T *dx, __global const T *x, __global const T *dy,
                                    __global const T *mean, __global const T *constants, long channels,
                                    long spatial, long total)
{
    long i = get_global_id(0);
    if (i >= total) return;
    long c = (i / spatial) % channels;
    dx[i] = constants[c] * dy[i] - constants[channels + c] - (x[i] - mean[c]) * constants[2 * channels + c];
}

/* ---------------------------------------------------------------- group norm: x (n, groups, per_group, spatial) */

/* One work-group per (sample, group) row: its mean and rstd (RMS norm: mean 0, var = mean of squares), then y. */
__kernel void group_norm_forward_groups(__global T *y, __global const T *x, int has_weight, __global const T *weight,
                                        int has_bias, __global const T *bias, long groups, long per_group,
                                        long spatial, int centered, ACC eps, __global T *mean, __global T *rstd)
{
    __local ACC scratch_a[GROUP_MAX], scratch_b[GROUP_MAX];
    long r = get_group_id(0), len = per_group * spatial;
    __global const T *row = x + r * len;
    ACC shift = centered ? (ACC)row[0] : 0, s1 = 0, s2 = 0;
    for (long j = get_local_id(0); j < len; j += get_local_size(0)) {
        ACC d = (ACC)row[j] - shift;
        s1 += d;
        s2 += d * d;
    }
    group_sum2(&s1, &s2, scratch_a, scratch_b);
    ACC row_mean = 0, var;
    if (centered)
        moments(shift, s1, s2, len, &row_mean, &var);
    else
        var = s2 / len;
    T m = (T)row_mean, rs = (T)(1 / sqrt(var + eps));
    if (get_local_id(0) == 0) mean[r] = m, rstd[r] = rs;
    long c0 = (r % groups) * per_group;
    for (long j = get_local_id(0); j < len; j += get_local_size(0)) {
        long c = c0 + j / spatial;
        y[r * len + j] = (row[j] - m) * (rs * (has_weight ? weight[c] : (T)1)) + (has_bias ? bias[c] : (T)0);
    }
}

/* One work-group per row: a = sum(g), b = sum(g (x - mean)) with g = weight dy, then
 * dx = rstd weight dy - k_const - (x - mean) k_x, k_const = rstd a/len (centered), k_x = rstd^3 b/len. */
__kernel void group_norm_input_grad_groups(__global T *dx, __global const T *x, __global const T *dy,
                                           __global const T *mean, __global const T *rstd, int has_weight,
                                           __global const T *weight, long groups, long per_group, long spatial,
                                           int centered)
{
    __local ACC scratch_a[GROUP_MAX], scratch_b[GROUP_MAX];
    long r = get_group_id(0), len = per_group * spatial, c0 = (r % groups) * per_group;
    T m = mean[r], rs = rstd[r];
    ACC a = 0, b = 0;
    for (long j = get_local_id(0); j < len; j += get_local_size(0)) {
        ACC g = (ACC)dy[r * len + j] * (has_weight ? (ACC)weight[c0 + j / spatial] : 1);
        a += g;
        b += g * ((ACC)x[r * len + j] - (ACC)m);
    }
    group_sum2(&a, &b, scratch_a, scratch_b);
    ACC rstd_acc = rs;
    T k_const = centered ? (T)(rstd_acc * a / len) : (T)0, k_x = (T)(rstd_acc * rstd_acc * rstd_acc * b / len);
    for (long j = get_local_id(0); j < len; j += get_local_size(0)) {
        long i = r * len + j;
        dx[i] = rs * (has_weight ? weight[c0 + j / spatial] : (T)1) * dy[i] - k_const - (x[i] - m) * k_x;
    }
}

/* One work-group per channel: dweight = sum(dy (x - mean) rstd), dbias = sum(dy) over samples and positions. */
__kernel void group_norm_affine_grad_groups(__global const T *x, __global const T *dy, __global const T *mean,
                                            __global const T *rstd, long n, long groups, long per_group,
                                            long spatial, int wants_dweight, __global T *dweight, int wants_dbias,
                                            __global T *dbias)
{
    __local ACC scratch_a[GROUP_MAX], scratch_b[GROUP_MAX];
    long c = get_group_id(0), channels = groups * per_group, g = c / per_group, count = n * spatial;
    ACC a = 0, b = 0;
    for (long j = get_local_id(0); j < count; j += get_local_size(0)) {
        long sample = j / spatial, i = (sample * channels + c) * spatial + j % spatial, r = sample * groups + g;
        ACC d = dy[i];
        a += d;
        b += d * ((ACC)x[i] - (ACC)mean[r]) * (ACC)rstd[r];
    }
    group_sum2(&a, &b, scratch_a, scratch_b);
    if (get_local_id(0) != 0) return;
    if (wants_dweight) dweight[c] = (T)b;
    if (wants_dbias) dbias[c] = (T)a;
}

/* ---------------------------------------------------------------- softmax cross entropy (see loss_impl.h) */

/* NaN wins, as in max. */
inline ACC nan_max(ACC a, ACC b) { return isnan(a) || a > b ? a : b; }

/*
 * One work-group per row r = (o, i) of x (outer, classes, inner): lse = m + log sum e^(x - m), and
 * loss = (1 - eps) w[t] (lse - x[t]) + (eps/C) sum_c w[c] (lse - x[c]) (0 where t = ignore_index).
 * A target neither ignore_index nor a class sets *bad (the host raises) and gives a NaN loss.
 */
__kernel void cross_entropy_forward_groups(__global T *loss, __global ACC *logsumexp, __global const T *x,
                                           __global const long *target, long target_offset, int has_weight,
                                           __global const T *weight, long classes, long inner, long ignore_index,
                                           ACC smoothing, __global int *bad)
{
    __local ACC scratch_a[GROUP_MAX], scratch_b[GROUP_MAX];
    int lid = get_local_id(0), size = get_local_size(0);
    long r = get_group_id(0);
    __global const T *row = x + (r / inner) * classes * inner + r % inner;
    ACC m = -INFINITY;
    for (long c = lid; c < classes; c += size) m = nan_max(m, row[c * inner]);
    scratch_a[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = size / 2; span > 0; span /= 2) {
        if (lid < span) scratch_a[lid] = nan_max(scratch_a[lid], scratch_a[lid + span]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    m = scratch_a[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    ACC sum = 0, unused = 0;
    for (long c = lid; c < classes; c += size) sum += (ACC)exp((T)(row[c * inner] - (T)m));
    group_sum2(&sum, &unused, scratch_a, scratch_b);
    ACC lse = m + log(sum), smooth = 0, none = 0;
    for (long c = lid; c < classes && smoothing > 0; c += size)
        smooth += (has_weight ? (ACC)weight[c] : 1) * (lse - (ACC)row[c * inner]);
    group_sum2(&smooth, &none, scratch_a, scratch_b);
    if (lid != 0) return;
    long t = target[target_offset + r];
    ACC value = 0;
    if (t != ignore_index && (t < 0 || t >= classes)) {
        *bad = 1;
        value = NAN;
    } else if (t != ignore_index) {
        value = (1 - smoothing) * (has_weight ? (ACC)weight[t] : 1) * (lse - (ACC)row[t * inner]);
        if (smoothing > 0) value += smoothing / classes * smooth;
    }
    logsumexp[r] = lse;
    loss[r] = (T)value;
}

/* One work-group: sums = [sum of the losses, sum of w[t] over the targets not ignored]. */
__kernel void cross_entropy_sums_groups(__global ACC *sums, __global const T *loss, __global const long *target,
                                        long target_offset, int has_weight, __global const T *weight,
                                        long ignore_index, long rows)
{
    __local ACC scratch_a[GROUP_MAX], scratch_b[GROUP_MAX];
    ACC total = 0, weights = 0;
    for (long r = get_local_id(0); r < rows; r += get_local_size(0)) {
        long t = target[target_offset + r];
        total += loss[r];
        if (t != ignore_index) weights += has_weight ? (ACC)weight[t] : 1;
    }
    group_sum2(&total, &weights, scratch_a, scratch_b);
    if (get_local_id(0) == 0) sums[0] = total, sums[1] = weights;
}

/* dx[r, c] = g (A p[c] - a[c]) elementwise over x, with g = grad[r] and p = e^(x - lse) (see loss_impl.h). */
__kernel void cross_entropy_backward(__global T *dx, __global const T *x, __global const long *target,
                                     long target_offset, int has_weight, __global const T *weight,
                                     __global const ACC *weight_sum, long classes, long inner, long ignore_index,
                                     ACC smoothing, __global const ACC *logsumexp, __global const T *grad,
                                     long total)
{
    long i = get_global_id(0);
    if (i >= total) return;
    long c = (i / inner) % classes, r = (i / (classes * inner)) * inner + i % inner;
    long t = target[target_offset + r];
    if (t == ignore_index) {
        dx[i] = 0;
        return;
    }
    ACC g = grad[r], spread = smoothing / classes;
    ACC weights = has_weight ? weight_sum[0] : (ACC)classes;
    ACC target_share = (1 - smoothing) * (has_weight ? (ACC)weight[t] : 1);
    T scale = (T)(g * (target_share + spread * weights)), spread_grad = (T)(g * spread);
    T p = exp((T)((ACC)x[i] - logsumexp[r]));
    T value = scale * p - spread_grad * (has_weight ? weight[c] : (T)1);
    if (c == t) value -= (T)(g * target_share);
    dx[i] = value;
}

/* ---------------------------------------------------------------- optimizer steps (see optim_impl.h) */

__kernel void sgd_step(__global T *p, __global const T *grad, __global T *momentum_buffer, long n, T lr, T wd, T mu,
                       T keep, T sign, int fresh, int nesterov, int has_momentum)
{
    long e = get_global_id(0);
    if (e >= n) return;
    T g = sign * grad[e];
    g = wd != 0 ? g + wd * p[e] : g;
    if (has_momentum) {
        T b = fresh ? g : mu * momentum_buffer[e] + keep * g;
        momentum_buffer[e] = b;
        g = nesterov ? g + mu * b : b;
    }
    p[e] = p[e] + -lr * g;
}

__kernel void adam_step(__global T *p, __global const T *grad, __global T *exp_avg, __global T *exp_avg_sq,
                        __global T *max_exp_avg_sq, long n, T minus_step, T correction2_sqrt, T one_minus_b1, T b2,
                        T one_minus_b2, T eps, T sign, T wd, T shrink, int coupled, int amsgrad)
{
    long e = get_global_id(0);
    if (e >= n) return;
    T g = sign * grad[e];
    T value = p[e] * shrink;
    g = coupled ? g + wd * value : g;
    T m = exp_avg[e] + one_minus_b1 * (g - exp_avg[e]);
    T v = exp_avg_sq[e] * b2 + one_minus_b2 * (g * g);
    exp_avg[e] = m;
    exp_avg_sq[e] = v;
    T second = v;
    if (amsgrad) second = max_exp_avg_sq[e] = max_exp_avg_sq[e] > v ? max_exp_avg_sq[e] : v;
    T denom = sqrt(second) / correction2_sqrt + eps;
    p[e] = value + minus_step * (m / denom);
}

__kernel void rmsprop_step(__global T *p, __global const T *grad, __global T *square_avg,
                           __global T *momentum_buffer, __global T *grad_avg, long n, T lr, T wd, T mu, T eps,
                           T alpha, T one_minus_alpha, T sign, int has_momentum, int centered)
{
    long e = get_global_id(0);
    if (e >= n) return;
    T g = sign * grad[e];
    g = wd != 0 ? g + wd * p[e] : g;
    T second = square_avg[e] = square_avg[e] * alpha + one_minus_alpha * (g * g);
    if (centered) {
        T average = grad_avg[e] = grad_avg[e] + one_minus_alpha * (g - grad_avg[e]);
        second = second + -1 * (average * average);
    }
    T denom = sqrt(second) + eps;
    if (has_momentum) {
        T b = momentum_buffer[e] = momentum_buffer[e] * mu + g / denom;
        p[e] = p[e] + -lr * b;
    } else {
        p[e] = p[e] + -lr * (g / denom);
    }
}

__kernel void adagrad_step(__global T *p, __global const T *grad, __global T *sum, long n, T wd, T eps, T sign,
                           T minus_clr)
{
    long e = get_global_id(0);
    if (e >= n) return;
    T g = sign * grad[e];
    g = wd != 0 ? g + wd * p[e] : g;
    T s = sum[e] = sum[e] + g * g;
    p[e] = p[e] + minus_clr * (g / (sqrt(s) + eps));
}
