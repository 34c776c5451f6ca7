/* ct_cross_entropy_forward_* and ct_cross_entropy_backward_*: one template (loss_impl.h) per dtype. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ctensor_internal.h"

/* Interleaved columns a contiguous row is read as, so the row loops vectorise. */
#define LANES 16
/* Logits per thread before a second thread pays for itself. */
#define CROSS_ENTROPY_MIN_PER_THREAD ((int64_t)1 << 15)

#define DTYPE_TEMPLATE "loss_impl.h"
#include "dtype_instances.h"
