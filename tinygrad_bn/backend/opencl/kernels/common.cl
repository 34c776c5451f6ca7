/*
 * Prepended to every program. The host defines T (the element type: float,
 * double, long or uchar for bool), T_FLOAT when T is a floating type, T_BOOL
 * for bool, HAS_FP64 where the device has cl_khr_fp64.
 *
 * Strided operands travel as (buffer, element offset) plus the dims of the
 * output they are read for, coalesced by the host: up to 8 sizes and element
 * strides in a long8 each (stride 0 repeats an element: broadcasting).
 */
#ifdef HAS_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define ACC double /* statistics and loss sums accumulate in double where the device has it */
#else
#define ACC float
#endif

#ifdef T_FLOAT
#define IS_NAN(v) isnan(v)
#else
#define IS_NAN(v) 0
#endif

#ifdef T_BOOL
#define TO_T(v) ((T)((v) != 0))
#else
#define TO_T(v) ((T)(v))
#endif

/*
 * The element offsets, in three operands, of the output's dense index i: dims from the innermost
 * (ndim - 1) out, unrolled so that every vector component is a constant; the outermost dim needs
 * no division (what is left of i is its coordinate), so a 1-d layout costs one multiply-add.
 */
#define STRIDED_STEP(d, sd)                                  \
    if (ndim > d) {                                          \
        long coordinate = i % shape.sd;                      \
        i /= shape.sd;                                       \
        o0 += coordinate * strides0.sd;                      \
        o1 += coordinate * strides1.sd;                      \
        o2 += coordinate * strides2.sd;                      \
    }

inline void strided_offsets(long i, int ndim, long8 shape, long8 strides0, long8 strides1, long8 strides2,
                            long *offset0, long *offset1, long *offset2)
{
    long o0 = 0, o1 = 0, o2 = 0;
    STRIDED_STEP(7, s7)
    STRIDED_STEP(6, s6)
    STRIDED_STEP(5, s5)
    STRIDED_STEP(4, s4)
    STRIDED_STEP(3, s3)
    STRIDED_STEP(2, s2)
    STRIDED_STEP(1, s1)
    if (ndim > 0) {
        o0 += i * strides0.s0;
        o1 += i * strides1.s0;
        o2 += i * strides2.s0;
    }
    *offset0 += o0;
    *offset1 += o1;
    *offset2 += o2;
}
