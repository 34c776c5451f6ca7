/*
 * Reductions for one element type T. The output is dense, one element per
 * kept position; outer_* are the kept dims (strided, of x) and inner_* the
 * reduced ones. sum accumulates in RACC (float sums compensated, Kahan's way),
 * max and min propagate NaN.
 */
#define REDUCE_SUM 0
#define REDUCE_MAX 1
#define REDUCE_MIN 2
#define GROUP_MAX 256 /* the largest work-group reduce_groups is launched with (a power of two) */

#if defined(T_BOOL)
#define RACC long
#else
#define RACC T
#endif

/* NaN wins; otherwise the larger (max) or smaller (min). */
inline RACC extremum(int op, RACC a, RACC b)
{
    if (IS_NAN(a)) return a;
    if (IS_NAN(b)) return b;
    return op == REDUCE_MAX ? (b > a ? b : a) : (b < a ? b : a);
}

/* A running sum with its compensation (the low-order bits lost so far). */
typedef struct {
    RACC sum, compensation;
} running_sum;

/* NOTE: once the sum is inf or NaN the compensation is dropped: (inf - sum) - y is NaN, and carrying it
 * would turn sum([inf, 1]) into NaN where NumPy gives inf. */
inline void add_value(running_sum *s, RACC v)
{
#ifdef T_FLOAT
    RACC y = v - s->compensation, t = s->sum + y;
    s->compensation = isfinite(t) ? (t - s->sum) - y : (RACC)0;
    s->sum = t;
#else
    s->sum += v;
#endif
}

/* The work-item's own pass: inner elements first, first + step, ... of one output position. */
inline RACC reduce_strided(int op, __global const T *x, long base, int inner_ndim, long8 inner_shape,
                           long8 inner_strides, long inner_n, long first, long step)
{
    running_sum s = {0, 0};
    RACC best = 0;
    int started = 0;
    for (long j = first; j < inner_n; j += step) {
        long offset = base, unused = 0;
        strided_offsets(j, inner_ndim, inner_shape, inner_strides, (long8)(0), (long8)(0), &offset, &unused,
                        &unused);
        RACC v = x[offset];
        if (op == REDUCE_SUM) {
            add_value(&s, v);
        } else {
            best = started ? extremum(op, best, v) : v;
            started = 1;
        }
    }
    return op == REDUCE_SUM ? s.sum : best;
}

inline long outer_base(long o, long x_offset, int outer_ndim, long8 outer_shape, long8 outer_strides)
{
    long unused = 0;
    strided_offsets(o, outer_ndim, outer_shape, outer_strides, (long8)(0), (long8)(0), &x_offset, &unused, &unused);
    return x_offset;
}

/* One work-item per output position (many outputs, short reductions). */
__kernel void reduce_items(__global T *out, __global const T *x, long x_offset, int op, int outer_ndim,
                           long8 outer_shape, long8 outer_strides, int inner_ndim, long8 inner_shape,
                           long8 inner_strides, long inner_n, long out_n)
{
    long o = get_global_id(0);
    if (o >= out_n) return;
    long base = outer_base(o, x_offset, outer_ndim, outer_shape, outer_strides);
    out[o] = TO_T(reduce_strided(op, x, base, inner_ndim, inner_shape, inner_strides, inner_n, 0, 1));
}

/* One work-group per output position: each work-item reduces a strided share, then a tree in local memory. */
__kernel void reduce_groups(__global T *out, __global const T *x, long x_offset, int op, int outer_ndim,
                            long8 outer_shape, long8 outer_strides, int inner_ndim, long8 inner_shape,
                            long8 inner_strides, long inner_n)
{
    __local RACC partial[GROUP_MAX];
    __local uchar started[GROUP_MAX];
    long o = get_group_id(0);
    int lid = get_local_id(0), size = get_local_size(0);
    long base = outer_base(o, x_offset, outer_ndim, outer_shape, outer_strides);
    partial[lid] = reduce_strided(op, x, base, inner_ndim, inner_shape, inner_strides, inner_n, lid, size);
    started[lid] = lid < inner_n; /* max/min: a work-item that saw nothing holds no value */
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = size / 2; span > 0; span /= 2) {
        if (lid < span && started[lid + span]) {
            partial[lid] = op == REDUCE_SUM ? partial[lid] + partial[lid + span]
                                            : extremum(op, partial[lid], partial[lid + span]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[o] = TO_T(partial[0]);
}

/*
 * Index of the first maximum (or minimum) along one axis, one work-item per output position; NaN wins
 * (the first NaN).
 */
__kernel void arg_extremum(__global long *out, __global const T *x, long x_offset, int find_min, int outer_ndim,
                           long8 outer_shape, long8 outer_strides, long axis_size, long axis_stride, long out_n)
{
    long o = get_global_id(0);
    if (o >= out_n) return;
    long base = outer_base(o, x_offset, outer_ndim, outer_shape, outer_strides);
    T best = x[base];
    long best_index = 0;
    for (long j = 1; j < axis_size && !IS_NAN(best); j++) {
        T v = x[base + j * axis_stride];
        if (IS_NAN(v) || (find_min ? v < best : v > best)) {
            best = v;
            best_index = j;
        }
    }
    out[o] = best_index;
}
