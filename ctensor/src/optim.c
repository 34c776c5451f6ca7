/* ct_optimizer_step_*: one template (optim_impl.h) per dtype. */
#include <math.h>
#include <stdint.h>

#include "ctensor_internal.h"

/* Elements per work unit: fixed, so each element is updated the same way for any thread count. */
#define OPTIMIZER_CHUNK ((int64_t)1 << 14)
/* Elements per thread before a second thread pays for itself. */
#define OPTIMIZER_MIN_PER_THREAD ((int64_t)1 << 16)

#define DTYPE_TEMPLATE "optim_impl.h"
#include "dtype_instances.h"
