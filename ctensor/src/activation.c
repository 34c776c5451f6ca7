/*
 * ct_activation_forward_* and ct_activation_backward_*: one template
 * (activation_impl.h) per dtype.
 */
#include <stdint.h>
#include <string.h>
#include <tgmath.h> /* fabs and copysign follow the template's SCALAR */

#include "ctensor_internal.h"

/* Elements per work unit: fixed, so every element is computed the same way for any thread count. */
#define ACTIVATION_CHUNK ((int64_t)1 << 13)
/* Elements per thread before a second thread pays for itself. */
#define ACTIVATION_MIN_PER_THREAD ((int64_t)1 << 14)

#define DTYPE_TEMPLATE "activation_impl.h"
#include "dtype_instances.h"
