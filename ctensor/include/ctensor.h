/*
 * ctensor: the C kernels behind tinygrad_bn.
 *
 * Usage. Every kernel is a plain function over raw pointers, shapes and
 * strides; strides count elements (not bytes) and may be zero (broadcast) or
 * negative. The caller owns and allocates every buffer, including outputs,
 * which are written densely (row-major, contiguous) unless strides are given.
 * Every entry point returns a status code: CT_OK (0) on success, otherwise a
 * ct_status that ct_status_string() turns into a message. The library never
 * exits, aborts or prints.
 *
 *     float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, c[4];
 *     // (2x3) @ (3x2): row stride 3, column stride 1 for a; 2 and 1 for b.
 *     int status = ct_matmul_f32(2, 2, 3, a, 3, 1, b, 2, 1, c, 2, 1,
 *                                0, NULL, NULL, NULL, NULL);
 *     if (status != CT_OK) fprintf(stderr, "%s\n", ct_status_string(status));
 *
 * Threads: kernels use up to ct_get_num_threads() OpenMP threads (default 1;
 * set it with ct_set_num_threads). Results are bit-identical for every thread
 * count. SIMD: AVX2/FMA code paths are chosen at run time when the CPU has
 * them (ct_simd_name() says which); a portable path runs everywhere else.
 *
 * The declarations between CDEF_BEGIN and CDEF_END are also read by the cffi
 * build script (ctensor/build_ctensor.py), so they hold no preprocessor lines.
 */
#ifndef CTENSOR_H
#define CTENSOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CDEF_BEGIN */
#define CT_MAX_DIMS 16

typedef enum {
    CT_OK = 0,
    CT_ERR_INVALID_ARGUMENT = 1,
    CT_ERR_OUT_OF_MEMORY = 2,
    CT_ERR_UNAVAILABLE = 3
} ct_status;

typedef enum {
    CT_REDUCE_SUM = 0,
    CT_REDUCE_MAX = 1,
    CT_REDUCE_MIN = 2
} ct_reduce_op;

typedef enum {
    CT_ACTIVATION_SIGMOID = 0,
    CT_ACTIVATION_TANH = 1,
    CT_ACTIVATION_SWISH = 2,
    CT_ACTIVATION_ELU = 3,
    CT_ACTIVATION_GELU = 4,
    CT_ACTIVATION_GELU_TANH = 5,
    CT_ACTIVATION_RELU = 6
} ct_activation;

const char *ct_status_string(int status);

/* Thread count for the kernels that follow; n must be >= 1. */
int ct_set_num_threads(int n);
int ct_get_num_threads(void);

/* "avx2+fma" or "generic": the SIMD path this CPU runs. */
const char *ct_simd_name(void);

/*
 * Batched strided matmul:
 *     C[b][i, j] = sum_k A[b][i, k] * B[b][k, j]
 * for i < m, j < n, k < kdim and every index b of the batch shape
 * (batch_ndim dims, batch_ndim <= CT_MAX_DIMS; batch_ndim = 0 means one
 * product and the batch pointers may be NULL). Element A[b][i, k] sits at
 * a + sum_d b_d * a_batch_strides[d] + i * a_rs + k * a_cs, likewise for B and
 * C. Transposed or strided operands are expressed by their strides; nothing is
 * copied. C must not overlap A or B. kdim = 0 writes zeros.
 */
int ct_matmul_f32(int64_t m, int64_t n, int64_t kdim,
                  const float *a, int64_t a_rs, int64_t a_cs,
                  const float *b, int64_t b_rs, int64_t b_cs,
                  float *c, int64_t c_rs, int64_t c_cs,
                  int batch_ndim, const int64_t *batch_shape,
                  const int64_t *a_batch_strides, const int64_t *b_batch_strides,
                  const int64_t *c_batch_strides);
int ct_matmul_f64(int64_t m, int64_t n, int64_t kdim,
                  const double *a, int64_t a_rs, int64_t a_cs,
                  const double *b, int64_t b_rs, int64_t b_cs,
                  double *c, int64_t c_rs, int64_t c_cs,
                  int batch_ndim, const int64_t *batch_shape,
                  const int64_t *a_batch_strides, const int64_t *b_batch_strides,
                  const int64_t *c_batch_strides);

/*
 * Reduction. x is read as a two-level index space: outer dims (kept) and
 * inner dims (reduced), each with its own shape and strides (at most
 * CT_MAX_DIMS dims each, 0 dims allowed). out is contiguous with the outer
 * shape:
 *     out[o] = op_{i} x[o, i]        op in {sum, max, min}
 * sum over an empty inner space is 0; max/min over it is
 * CT_ERR_INVALID_ARGUMENT. max/min propagate NaN. Sums accumulate in double
 * for float32 and pairwise (blocked) for float64, so they are at least as
 * accurate as NumPy's pairwise sum.
 */
int ct_reduce_f32(int op, const float *x,
                  int outer_ndim, const int64_t *outer_shape, const int64_t *outer_strides,
                  int inner_ndim, const int64_t *inner_shape, const int64_t *inner_strides,
                  float *out);
int ct_reduce_f64(int op, const double *x,
                  int outer_ndim, const int64_t *outer_shape, const int64_t *outer_strides,
                  int inner_ndim, const int64_t *inner_shape, const int64_t *inner_strides,
                  double *out);

/*
 * Arg-max along one axis: x is read as outer dims plus one reduced axis of
 * length axis_len (>= 1) and stride axis_stride. out (int64, contiguous,
 * outer shape) receives the first index of the maximum; a NaN counts as
 * larger than any number, so the first NaN wins.
 */
int ct_argmax_f32(const float *x,
                  int outer_ndim, const int64_t *outer_shape, const int64_t *outer_strides,
                  int64_t axis_len, int64_t axis_stride, int64_t *out);
int ct_argmax_f64(const double *x,
                  int outer_ndim, const int64_t *outer_shape, const int64_t *outer_strides,
                  int64_t axis_len, int64_t axis_stride, int64_t *out);

/*
 * Fused activations over n contiguous elements, one pass each way:
 *     forward   y[i] = f(x[i])
 *     backward  dx[i] = dy[i] * f'(.) from saved[i]: the output y for
 *               SIGMOID, TANH and RELU, the input x for the others.
 * kind is a ct_activation:
 *     SIGMOID    1/(1 + e^-x)
 *     TANH       tanh x
 *     SWISH      x * sigmoid(beta * x)        (beta = 1: SiLU)
 *     ELU        scale * (x > 0 ? x : alpha * (e^x - 1))  (SELU: its alpha and scale)
 *     GELU       x/2 * (1 + erf(x/sqrt 2))
 *     GELU_TANH  x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
 *     RELU       x <= 0 ? 0 : x   (NaN stays NaN; backward: y <= 0 ? 0 : dy, so a
 *                NaN passes its gradient and the slope at 0 is 0, as in PyTorch)
 * Parameters a kind does not use are ignored. Outputs must not overlap inputs.
 * Accurate to a few ulps; finite for every finite x; NaN in, NaN out. GELU's
 * erf is our own (branch-free, vectorised); for x < 0 it takes Phi(x) from
 * erfc's tail, so the forward stays within ~8 ulps relative where
 * 1 + erf(x/sqrt 2) would cancel.
 */
int ct_activation_forward_f32(int kind, int64_t n, const float *x, float *y, double alpha, double scale,
                              double beta);
int ct_activation_forward_f64(int kind, int64_t n, const double *x, double *y, double alpha, double scale,
                              double beta);
int ct_activation_backward_f32(int kind, int64_t n, const float *saved, const float *dy, float *dx,
                               double alpha, double scale, double beta);
int ct_activation_backward_f64(int kind, int64_t n, const double *saved, const double *dy, double *dx,
                               double alpha, double scale, double beta);

/*
 * Softmax cross entropy with class-index targets (PyTorch's cross_entropy,
 * classes on dim 1). x is contiguous (outer, classes, inner): row r =
 * (o, i), r = o * inner + i, holds the logits x[o, c, i], its target
 * target[r] and (backward) grad[r]. With lse[r] = log sum_c e^x[r,c], w =
 * class_weight (NULL: all 1), eps = label_smoothing in [0, 1], C = classes:
 *     loss[r] = (1 - eps) w[t] (lse - x[r,t]) + (eps/C) sum_c w[c] (lse - x[r,c])
 *     dx[r,c] = grad[r] (A e^(x[r,c] - lse) - (eps/C) w[c] - (1 - eps) w[t] [c == t])
 * with t = target[r] and A = (1 - eps) w[t] + (eps/C) sum_c w[c]; rows whose
 * target is ignore_index get loss 0 and dx 0. Forward writes lse (double,
 * one per row) for backward, and sums[0] = sum_r loss[r], sums[1] = sum of
 * w[t] over the rows not ignored (PyTorch's 'mean' divides the first by the
 * second), both added in row order. A target that is neither ignore_index nor in
 * [0, classes) is CT_ERR_INVALID_ARGUMENT, found before anything is read.
 */
int ct_cross_entropy_forward_f32(int64_t outer, int64_t classes, int64_t inner, const float *x,
                                 const int64_t *target, const float *class_weight, int64_t ignore_index,
                                 double label_smoothing, float *loss, double *logsumexp, double *sums);
int ct_cross_entropy_forward_f64(int64_t outer, int64_t classes, int64_t inner, const double *x,
                                 const int64_t *target, const double *class_weight, int64_t ignore_index,
                                 double label_smoothing, double *loss, double *logsumexp, double *sums);
int ct_cross_entropy_backward_f32(int64_t outer, int64_t classes, int64_t inner, const float *x,
                                  const int64_t *target, const float *class_weight, int64_t ignore_index,
                                  double label_smoothing, const double *logsumexp, const float *grad,
                                  float *dx);
int ct_cross_entropy_backward_f64(int64_t outer, int64_t classes, int64_t inner, const double *x,
                                  const int64_t *target, const double *class_weight, int64_t ignore_index,
                                  double label_smoothing, const double *logsumexp, const double *grad,
                                  double *dx);

typedef enum {
    CT_OPTIMIZER_SGD = 0,
    CT_OPTIMIZER_ADAM = 1,
    CT_OPTIMIZER_RMSPROP = 2,
    CT_OPTIMIZER_ADAGRAD = 3
} ct_optimizer;

/* Hyperparameters of one optimizer step; each kind reads the fields its rule names. */
typedef struct {
    double lr, weight_decay;
    double momentum, dampening;          /* SGD (momentum also RMSprop) */
    double beta1, beta2, eps;            /* Adam (eps also RMSprop, Adagrad) */
    double alpha;                        /* RMSprop */
    double lr_decay;                     /* Adagrad */
    int nesterov, amsgrad, centered, maximize;
    int decoupled_weight_decay;          /* Adam: AdamW's p *= 1 - lr * weight_decay */
} ct_optimizer_settings;

/*
 * One step of a PyTorch optimizer over `count` tensors at once, elementwise
 * and in torch's operation order (see optim_impl.h for the rules): tensor i
 * has sizes[i] elements at params[i] (updated in place) and grads[i]; its
 * state buffers (updated in place) are the i-th entries of
 *     SGD      state0 = momentum buffers (when momentum != 0); fresh[i] = 1:
 *              the buffer starts as this step's gradient (its first step)
 *     Adam     state0 = exp_avg, state1 = exp_avg_sq, state2 = max_exp_avg_sq (amsgrad)
 *     RMSprop  state0 = square_avg, state1 = momentum buffer (momentum > 0),
 *              state2 = grad_avg (centered)
 *     Adagrad  state0 = sum
 * steps[i] (Adam, Adagrad) is the tensor's step count including this step.
 * Lists a kind does not read may be NULL. Buffers must not overlap.
 */
int ct_optimizer_step_f32(int kind, int64_t count, float *const *params, const float *const *grads,
                          float *const *state0, float *const *state1, float *const *state2,
                          const int64_t *sizes, const int64_t *steps, const uint8_t *fresh,
                          const ct_optimizer_settings *settings);
int ct_optimizer_step_f64(int kind, int64_t count, double *const *params, const double *const *grads,
                          double *const *state0, double *const *state1, double *const *state2,
                          const int64_t *sizes, const int64_t *steps, const uint8_t *fresh,
                          const ct_optimizer_settings *settings);

/*
 * Normalization, forward and backward, each one fused pass (or two where
 * statistics must come first). Every array is dense (row-major); statistics
 * are computed in double and stored in the array's dtype; weight/bias NULL
 * mean 1 and 0. With xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps)
 * and var the biased variance:
 *     y = weight[c] * xhat + bias[c]
 *
 * Batch norm: x is (n, channels, spatial); statistics per channel over the
 * count = n * spatial values of that channel. mean and rstd (channels) are
 * outputs. With batch_stats = 0 they come from running_mean/running_var
 * (inputs, required) instead. With batch_stats = 1 and running_mean/
 * running_var given (both or neither), those are updated in place:
 *     running_mean = (1 - momentum) * running_mean + momentum * mean
 *     running_var  = (1 - momentum) * running_var + momentum * var * count / (count - 1)
 * (unbiased; count = 1 updates with var itself).
 */
int ct_batch_norm_forward_f32(int64_t n, int64_t channels, int64_t spatial, const float *x,
                              const float *weight, const float *bias, double eps, int batch_stats,
                              float *running_mean, float *running_var, double momentum,
                              float *y, float *mean, float *rstd);
int ct_batch_norm_forward_f64(int64_t n, int64_t channels, int64_t spatial, const double *x,
                              const double *weight, const double *bias, double eps, int batch_stats,
                              double *running_mean, double *running_var, double momentum,
                              double *y, double *mean, double *rstd);

/*
 * Batch norm backward from the forward's x, mean and rstd and the output
 * gradient dy (all as above). dx, dweight, dbias may each be NULL (not
 * wanted). With batch_stats = 1 (statistics of this batch):
 *     dx = weight * rstd * (dy - mean(dy) - xhat * mean(dy * xhat))
 * means over each channel's count values; with batch_stats = 0 (running
 * statistics, constants): dx = weight * rstd * dy. Always
 *     dweight = sum(dy * xhat), dbias = sum(dy)  per channel.
 */
int ct_batch_norm_backward_f32(int64_t n, int64_t channels, int64_t spatial, const float *x, const float *dy,
                               const float *mean, const float *rstd, const float *weight, int batch_stats,
                               float *dx, float *dweight, float *dbias);
int ct_batch_norm_backward_f64(int64_t n, int64_t channels, int64_t spatial, const double *x, const double *dy,
                               const double *mean, const double *rstd, const double *weight, int batch_stats,
                               double *dx, double *dweight, double *dbias);

/*
 * Group norm: x is (n, groups, channels_per_group, spatial); statistics per
 * (sample, group) row of channels_per_group * spatial values; mean and rstd
 * are (n, groups). weight and bias have groups * channels_per_group entries,
 * one per channel. Layer norm is groups = 1, spatial = 1 (channels_per_group
 * = the normalized size, affine per element); instance norm is
 * channels_per_group = 1. centered = 0 gives RMS norm: no mean is
 * subtracted (mean is written as 0), rstd = 1 / sqrt(mean(x^2) + eps).
 */
int ct_group_norm_forward_f32(int64_t n, int64_t groups, int64_t channels_per_group, int64_t spatial, int centered,
                              const float *x, const float *weight, const float *bias, double eps,
                              float *y, float *mean, float *rstd);
int ct_group_norm_forward_f64(int64_t n, int64_t groups, int64_t channels_per_group, int64_t spatial, int centered,
                              const double *x, const double *weight, const double *bias, double eps,
                              double *y, double *mean, double *rstd);

/*
 * Group norm backward, with g = weight[c] * dy and means over each row:
 *     dx = rstd * (g - mean(g) - xhat * mean(g * xhat))   (centered)
 *     dx = rstd * (g - xhat * mean(g * xhat))             (RMS)
 * and per channel, over samples and spatial positions, dweight =
 * sum(dy * xhat), dbias = sum(dy). dx, dweight, dbias may each be NULL.
 */
int ct_group_norm_backward_f32(int64_t n, int64_t groups, int64_t channels_per_group, int64_t spatial,
                               int centered, const float *x, const float *dy, const float *mean, const float *rstd,
                               const float *weight, float *dx, float *dweight, float *dbias);
int ct_group_norm_backward_f64(int64_t n, int64_t groups, int64_t channels_per_group, int64_t spatial,
                               int centered, const double *x, const double *dy, const double *mean,
                               const double *rstd, const double *weight, double *dx, double *dweight,
                               double *dbias);

/*
 * The OpenCL runtime, loaded at run time (no link-time dependency).
 * ct_cl_open dlopens the ICD loader (library_path, or "libOpenCL.so.1" when
 * NULL or empty) and lists every device of every platform; it returns
 * CT_ERR_UNAVAILABLE, with the reason in ct_cl_error(), when the loader, a
 * driver or a device is missing. The first call decides; later calls return
 * the same status. Not thread-safe: call it before using devices.
 */
typedef struct {
    char name[256];
    char platform[256];
    char version[256];
    int64_t compute_units;
    int64_t global_memory; /* bytes */
    int has_fp64;          /* the device reports cl_khr_fp64 */
    int local_memory;      /* __local memory is dedicated on-chip memory (GPUs), not cached global memory */
} ct_cl_device;

int ct_cl_open(const char *library_path);
const char *ct_cl_error(void);
int64_t ct_cl_device_count(void);
/* Device `index` (0 .. ct_cl_device_count() - 1); long strings are cut to fit. */
int ct_cl_device_info(int64_t index, ct_cl_device *info);
/*
 * OpenCL device work (after a successful ct_cl_open). A queue is a context
 * and an in-order command queue on one device; buffers, programs and kernels
 * are opaque handles (cl_mem, cl_program, cl_kernel) made on it. A buffer
 * made from `host` bytes (not NULL) holds a copy of them at once, without
 * waiting for the queue. Writes and reads block until done (so they wait for
 * the work queued before them); copies, fills and kernel runs are enqueued in
 * order. Byte ranges past a buffer's end are refused (CT_ERR_INVALID_ARGUMENT);
 * a buffer larger than the device's largest allocation is CT_ERR_OUT_OF_MEMORY.
 * On failure the reason, with the OpenCL error code, is in ct_cl_last_error()
 * (per thread). Release functions accept NULL.
 *
 * ct_cl_program_build compiles OpenCL C `source` with `options`; a compile
 * error returns CT_ERR_INVALID_ARGUMENT with the build log in
 * log[0, log_capacity). ct_cl_kernel_set_arg takes a NULL value for a
 * __local argument of `size` bytes. ct_cl_kernel_run enqueues a `dims`-D
 * range (1 to 3) of global[d] work-items, in groups of local[d] (local NULL:
 * the driver chooses). ct_cl_kernel_launch sets `arg_count` arguments packed
 * one after another in arg_data, argument i taking arg_sizes[i] bytes (1 to
 * 128, read as unsigned), then runs the kernel.
 */
typedef struct ct_cl_queue ct_cl_queue;

const char *ct_cl_last_error(void);
int ct_cl_queue_create(int64_t device_index, ct_cl_queue **queue);
void ct_cl_queue_release(ct_cl_queue *queue);
int64_t ct_cl_queue_max_work_group_size(const ct_cl_queue *queue);
int ct_cl_finish(ct_cl_queue *queue);
int ct_cl_buffer_create(ct_cl_queue *queue, int64_t bytes, const void *host, void **buffer);
void ct_cl_buffer_release(void *buffer);
int ct_cl_buffer_write(ct_cl_queue *queue, void *buffer, int64_t offset, int64_t bytes, const void *host);
int ct_cl_buffer_read(ct_cl_queue *queue, void *buffer, int64_t offset, int64_t bytes, void *host);
int ct_cl_buffer_copy(ct_cl_queue *queue, void *source, int64_t source_offset, void *destination,
                      int64_t destination_offset, int64_t bytes);
int ct_cl_buffer_fill(ct_cl_queue *queue, void *buffer, const void *pattern, int64_t pattern_size, int64_t offset,
                      int64_t bytes);
int ct_cl_program_build(ct_cl_queue *queue, const char *source, const char *options, void **program, char *log,
                        int64_t log_capacity);
void ct_cl_program_release(void *program);
int ct_cl_kernel_create(void *program, const char *name, void **kernel);
void ct_cl_kernel_release(void *kernel);
int ct_cl_kernel_set_arg(void *kernel, int64_t index, int64_t size, const void *value);
int ct_cl_kernel_run(ct_cl_queue *queue, void *kernel, int dims, const int64_t *global, const int64_t *local);
int ct_cl_kernel_launch(ct_cl_queue *queue, void *kernel, int64_t arg_count, const char *arg_sizes,
                        const char *arg_data, int dims, const int64_t *global, const int64_t *local);
/* CDEF_END */

#ifdef __cplusplus
}
#endif

#endif /* CTENSOR_H */
