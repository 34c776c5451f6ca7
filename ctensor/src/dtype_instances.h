/*
 * Instantiates a kernel template once per dtype: define DTYPE_TEMPLATE as the
 * template's file name, then include this. Each instance sees SCALAR (float,
 * double), BITS (the unsigned integer as wide) and SUFFIX (f32, f64), and
 * undefines them at its end.
 */
#define SCALAR float
#define BITS uint32_t
#define SUFFIX f32
#include DTYPE_TEMPLATE

#define SCALAR double
#define BITS uint64_t
#define SUFFIX f64
#include DTYPE_TEMPLATE

#undef DTYPE_TEMPLATE
