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

/* The element offsets, in three operands, of the output's dense index i. */
inline void strided_offsets(long i, int ndim, long8 shape, long8 strides0, long8 strides1, long8 strides2,
                            long *offset0, long *offset1, long *offset2)
{
    long sizes[8], s0[8], s1[8], s2[8];
    vstore8(shape, 0, sizes);
    vstore8(strides0, 0, s0);
    vstore8(strides1, 0, s1);
    vstore8(strides2, 0, s2);
    long o0 = 0, o1 = 0, o2 = 0;
    for (int d = ndim - 1; d >= 0; d--) {
        long coordinate = i % sizes[d];
        i /= sizes[d];
        o0 += coordinate * s0[d];
        o1 += coordinate * s1[d];
        o2 += coordinate * s2[d];
    }
    *offset0 += o0;
    *offset1 += o1;
    *offset2 += o2;
}
