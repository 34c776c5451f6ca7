/*
 * ct_matmul_f32 / ct_matmul_f64: one template (matmul_impl.h) per dtype.
 *
 * Contraction a * b + c into one fused multiply-add is what GEMM wants (one
 * rounding instead of two) and what BLAS libraries do; -std=c11 turns it off
 * by default, so it is turned back on for this file only.
 */
#pragma GCC optimize("fp-contract=fast")

#include <stdint.h>
#include <string.h>

#include "ctensor_internal.h"

/* MC: rows of A packed per block, a multiple of MR sized so MC x KC stays in L2. */
#define SCALAR float
#define SUFFIX f32
#define MC_ROWS 144
#include "matmul_impl.h"
#undef SCALAR
#undef SUFFIX
#undef MC_ROWS

#define SCALAR double
#define SUFFIX f64
#define MC_ROWS 72
#include "matmul_impl.h"
#undef SCALAR
#undef SUFFIX
#undef MC_ROWS
