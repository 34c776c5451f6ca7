/*
 * Elementwise kernels for one element type T: the output is dense (except
 * copy's), each input strided (see common.cl). One work-item per element;
 * `op` picks the operation (the host's tables name the codes).
 */

#define UNARY_NEG 0
#define UNARY_EXP 1
#define UNARY_EXPM1 2
#define UNARY_LOG 3
#define UNARY_LOG1P 4
#define UNARY_SQRT 5
#define UNARY_SIN 6
#define UNARY_COS 7
#define UNARY_ERF 8
#define UNARY_RELU 9
#define UNARY_ABS 10
#define UNARY_SIGN 11
#define UNARY_NOT 12

inline T unary_value(int op, T x)
{
    switch (op) {
#ifndef T_BOOL
    case UNARY_NEG: return -x;
    case UNARY_RELU: return x > 0 || IS_NAN(x) ? x : (T)0; /* NaN stays NaN, as numpy's maximum */
    case UNARY_SIGN: return x > 0 ? (T)1 : (x < 0 ? (T)-1 : (T)0); /* sign(NaN) = 0, as in PyTorch */
#endif
#ifdef T_FLOAT
    case UNARY_EXP: return exp(x);
    case UNARY_EXPM1: return expm1(x);
    case UNARY_LOG: return log(x);
    case UNARY_LOG1P: return log1p(x);
    case UNARY_SQRT: return sqrt(x);
    case UNARY_SIN: return sin(x);
    case UNARY_COS: return cos(x);
    case UNARY_ERF: return erf(x);
    case UNARY_ABS: return fabs(x);
#elif !defined(T_BOOL)
    case UNARY_ABS: return x < 0 ? -x : x;
#endif
    case UNARY_NOT: return TO_T(x == 0);
    default: return x;
    }
}

#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3
#define BINARY_POW 4
#define BINARY_MAXIMUM 5
#define BINARY_MINIMUM 6
#define BINARY_AND 7
#define BINARY_OR 8

#ifndef T_FLOAT
/* a^b for integers by squaring (the host refuses negative exponents, as NumPy and PyTorch do) */
inline T integer_power(T a, T b)
{
    T result = 1;
    while (b > 0) {
        if (b & 1) result *= a;
        a *= a;
        b >>= 1;
    }
    return result;
}
#endif

inline T binary_value(int op, T a, T b)
{
    switch (op) {
    case BINARY_ADD: return TO_T(a + b);
    case BINARY_SUB: return TO_T(a - b);
    case BINARY_MUL: return TO_T(a * b);
#ifdef T_FLOAT
    case BINARY_DIV: return a / b;
    case BINARY_POW: return pow(a, b);
#else
    case BINARY_DIV: return b == 0 ? (T)0 : TO_T(a / b); /* never a trap: integer division by zero gives 0 */
    case BINARY_POW: return TO_T(integer_power(a, b));
    case BINARY_AND: return a & b;
    case BINARY_OR: return a | b;
#endif
    /* NaN wins either way, as numpy's maximum and minimum */
    case BINARY_MAXIMUM: return IS_NAN(a) ? a : (IS_NAN(b) ? b : (a > b ? a : b));
    case BINARY_MINIMUM: return IS_NAN(a) ? a : (IS_NAN(b) ? b : (a < b ? a : b));
    default: return a;
    }
}

#define COMPARE_EQ 0
#define COMPARE_NE 1
#define COMPARE_LT 2
#define COMPARE_LE 3
#define COMPARE_GT 4
#define COMPARE_GE 5

inline uchar compare_value(int op, T a, T b)
{
    switch (op) {
    case COMPARE_EQ: return a == b;
    case COMPARE_NE: return a != b;
    case COMPARE_LT: return a < b;
    case COMPARE_LE: return a <= b;
    case COMPARE_GT: return a > b;
    default: return a >= b;
    }
}

__kernel void unary(__global T *out, __global const T *x, long x_offset, int op, int ndim, long8 shape,
                    long8 x_strides, long n)
{
    long i = get_global_id(0), unused = 0;
    if (i >= n) return;
    strided_offsets(i, ndim, shape, x_strides, (long8)(0), (long8)(0), &x_offset, &unused, &unused);
    out[i] = unary_value(op, x[x_offset]);
}

__kernel void binary(__global T *out, __global const T *a, long a_offset, __global const T *b, long b_offset, int op,
                     int ndim, long8 shape, long8 a_strides, long8 b_strides, long n)
{
    long i = get_global_id(0), unused = 0;
    if (i >= n) return;
    strided_offsets(i, ndim, shape, a_strides, b_strides, (long8)(0), &a_offset, &b_offset, &unused);
    out[i] = binary_value(op, a[a_offset], b[b_offset]);
}

__kernel void compare(__global uchar *out, __global const T *a, long a_offset, __global const T *b, long b_offset,
                      int op, int ndim, long8 shape, long8 a_strides, long8 b_strides, long n)
{
    long i = get_global_id(0), unused = 0;
    if (i >= n) return;
    strided_offsets(i, ndim, shape, a_strides, b_strides, (long8)(0), &a_offset, &b_offset, &unused);
    out[i] = compare_value(op, a[a_offset], b[b_offset]);
}

__kernel void where_select(__global T *out, __global const uchar *condition, long condition_offset, __global const T *a,
                     long a_offset, __global const T *b, long b_offset, int ndim, long8 shape,
                     long8 condition_strides, long8 a_strides, long8 b_strides, long n)
{
    long i = get_global_id(0);
    if (i >= n) return;
    strided_offsets(i, ndim, shape, condition_strides, a_strides, b_strides, &condition_offset, &a_offset, &b_offset);
    out[i] = condition[condition_offset] ? a[a_offset] : b[b_offset];
}

/* out[view] = x[view]: both strided (assign into a view; contiguous copies). */
__kernel void copy(__global T *out, long out_offset, __global const T *x, long x_offset, int ndim, long8 shape,
                   long8 out_strides, long8 x_strides, long n)
{
    long i = get_global_id(0), unused = 0;
    if (i >= n) return;
    strided_offsets(i, ndim, shape, out_strides, x_strides, (long8)(0), &out_offset, &x_offset, &unused);
    out[out_offset] = x[x_offset];
}

/* A dense T copy of a strided S operand: cast_from_<S>. */
#define CAST_KERNEL(S)                                                                                              \
    __kernel void cast_from_##S(__global T *out, __global const S *x, long x_offset, int ndim, long8 shape,         \
                                long8 x_strides, long n)                                                            \
    {                                                                                                               \
        long i = get_global_id(0), unused = 0;                                                                      \
        if (i >= n) return;                                                                                         \
        strided_offsets(i, ndim, shape, x_strides, (long8)(0), (long8)(0), &x_offset, &unused, &unused);                              \
        out[i] = TO_T(x[x_offset]);                                                                                 \
    }

CAST_KERNEL(float)
CAST_KERNEL(long)
CAST_KERNEL(uchar)
#ifdef HAS_FP64
CAST_KERNEL(double)
#endif

/* batch norm's num_batches_tracked += 1 (one work-item), before its statistics read it. */
__kernel void increment_counter(__global long *counter, long offset) { counter[offset] += 1; }
