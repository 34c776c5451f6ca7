/*
 * ct_activation_forward_* and ct_activation_backward_*: one template
 * (activation_impl.h) per dtype. The constants below make its exponential
 * exact to about an ulp in each dtype.
 */
#include <stdint.h>
#include <string.h>
#include <tgmath.h> /* fabs, copysign, erf follow the template's SCALAR */

#include "ctensor_internal.h"

/* Elements per work unit: fixed, so every element is computed the same way for any thread count. */
#define ACTIVATION_CHUNK ((int64_t)1 << 13)
/* Elements per thread before a second thread pays for itself. */
#define ACTIVATION_MIN_PER_THREAD ((int64_t)1 << 14)

/*
 * EXP_TAYLOR_DEGREE: the tail of e^r - 1 on |r| <= ln2/2 is below ~r^(d+1)/(d+1)!, under half an ulp
 * (2^-24 resp. 2^-53) at d = 7 resp. 13.
 * EXP_FLOOR: e^x rounds to 0 below it. EXPM1_FLOOR: e^x - 1 rounds to -1 below it.
 */
#define SCALAR float
#define BITS uint32_t
#define SUFFIX f32
#define MANTISSA_BITS 23
#define EXPONENT_BIAS 127
#define EXP_TAYLOR_DEGREE 7
#define EXP_FLOOR (-104.0f)
#define EXPM1_FLOOR (-20.0f)
#include "activation_impl.h"

#define SCALAR double
#define BITS uint64_t
#define SUFFIX f64
#define MANTISSA_BITS 52
#define EXPONENT_BIAS 1023
#define EXP_TAYLOR_DEGREE 13
#define EXP_FLOOR (-746.0)
#define EXPM1_FLOOR (-40.0)
#include "activation_impl.h"
