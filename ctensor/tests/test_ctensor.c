/*
 * Standalone test driver for ctensor: every kernel against naive loops in
 * double (long double for float64 sums) on many shapes and layouts, with 1
 * and 2 threads compared bit for bit, plus the error codes.
 *
 * Every operand gets its own malloc of exactly the elements its shape and
 * strides can reach, so a build with AddressSanitizer (make sanitize) flags
 * any stray read or write. Output gaps are filled with a sentinel and must
 * survive. Prints "N passed, M failed"; exits 1 if anything failed.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctensor.h"
#include "../src/ctensor_internal.h" /* ct_aligned_alloc, for the scratch tests */

/* ---------------------------------------------------------------- checks */

static int passed, failed;

static void check(int ok, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    if (failed > 50) return; /* enough to diagnose */
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
    va_end(args);
}

/* ---------------------------------------------------------------- random numbers (splitmix64) */

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* uniform integer in [lo, hi] */
static int64_t rng_int(int64_t lo, int64_t hi) { return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1)); }

/* uniform in [-1, 1) */
static double rng_uniform(void) { return (double)(rng_next() >> 11) * 0x1p-52 - 1.0; }

/* ---------------------------------------------------------------- strided tensors of either dtype */

enum { F32, F64 };
static const char *dtype_name[] = {"f32", "f64"};
static size_t dtype_size(int dtype) { return dtype == F64 ? sizeof(double) : sizeof(float); }

#define MAX_TEST_DIMS 8

typedef struct {
    int dtype;
    int ndim;
    int64_t shape[MAX_TEST_DIMS];
    int64_t strides[MAX_TEST_DIMS];
    int64_t count;     /* logical elements */
    int64_t span;      /* elements allocated: lowest to highest reachable offset */
    int64_t origin;    /* index in the allocation of offset 0 */
    char *alloc;       /* exactly span elements */
} tensor;

/* Layout options for make_strides. */
enum { LAYOUT_CONTIGUOUS = 0, LAYOUT_PERMUTED = 1, LAYOUT_GAPS = 2, LAYOUT_NEGATIVE = 4, LAYOUT_BROADCAST = 8 };

/* Strides for `shape` under a layout: a random memory order, gaps, flipped and zero (broadcast) dims. */
static void make_strides(int ndim, const int64_t *shape, int layout, int64_t *strides)
{
    int order[MAX_TEST_DIMS]; /* order[0] is the outermost dim in memory */
    for (int d = 0; d < ndim; d++) order[d] = d;
    if (layout & LAYOUT_PERMUTED)
        for (int d = ndim - 1; d > 0; d--) {
            int e = (int)rng_int(0, d), t = order[d];
            order[d] = order[e];
            order[e] = t;
        }
    int64_t step = 1;
    for (int r = ndim - 1; r >= 0; r--) {
        int d = order[r];
        if (layout & LAYOUT_GAPS) step *= rng_int(1, 3);
        strides[d] = step;
        step *= shape[d] > 0 ? shape[d] : 1;
    }
    for (int d = 0; d < ndim; d++) {
        if ((layout & LAYOUT_NEGATIVE) && rng_int(0, 1)) strides[d] = -strides[d];
        if ((layout & LAYOUT_BROADCAST) && rng_int(0, 3) == 0) strides[d] = 0;
    }
}

static void tensor_init(tensor *t, int dtype, int ndim, const int64_t *shape, const int64_t *strides)
{
    t->dtype = dtype;
    t->ndim = ndim;
    t->count = 1;
    int64_t low = 0, high = 0;
    for (int d = 0; d < ndim; d++) {
        t->shape[d] = shape[d];
        t->strides[d] = strides[d];
        t->count *= shape[d];
        if (strides[d] < 0) low += (shape[d] - 1) * strides[d];
        else high += (shape[d] - 1) * strides[d];
    }
    t->span = t->count == 0 ? 0 : high - low + 1;
    t->origin = t->count == 0 ? 0 : -low;
    t->alloc = malloc((size_t)t->span * dtype_size(dtype));
    if (t->alloc == NULL && t->span > 0) {
        fprintf(stderr, "test driver: out of memory\n");
        exit(2);
    }
}

static void tensor_free(tensor *t) { free(t->alloc); }

/* Pointer the kernels get: offset 0 of the tensor (never dereferenced when count == 0). */
static void *tensor_data(const tensor *t)
{
    return t->count == 0 ? t->alloc : t->alloc + (size_t)t->origin * dtype_size(t->dtype);
}

static double load_at(const tensor *t, int64_t index)
{
    return t->dtype == F64 ? ((double *)t->alloc)[index] : ((float *)t->alloc)[index];
}

static void store_at(tensor *t, int64_t index, double v)
{
    if (t->dtype == F64) ((double *)t->alloc)[index] = v;
    else ((float *)t->alloc)[index] = (float)v;
}

/* Allocation index of the element with flat (row-major) index `flat`. */
static int64_t tensor_index(const tensor *t, int64_t flat)
{
    int64_t offset = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        offset += (flat % t->shape[d]) * t->strides[d];
        flat /= t->shape[d];
    }
    return t->origin + offset;
}

/* The logical elements in row-major order, as doubles. */
static double *tensor_to_dense(const tensor *t)
{
    double *dense = malloc((size_t)t->count * sizeof *dense + 1);
    for (int64_t flat = 0; flat < t->count; flat++) dense[flat] = load_at(t, tensor_index(t, flat));
    return dense;
}

/* Fills every allocated slot; values in [-1, 1), or small integers (ties) when `ties`. */
static void tensor_fill_random(tensor *t, int ties)
{
    for (int64_t i = 0; i < t->span; i++) store_at(t, i, ties ? (double)rng_int(-3, 3) : rng_uniform());
}

#define SENTINEL 12345.0

static void tensor_fill(tensor *t, double v)
{
    for (int64_t i = 0; i < t->span; i++) store_at(t, i, v);
}

static int same_bytes(const tensor *x, const tensor *y)
{
    return x->span == y->span && memcmp(x->alloc, y->alloc, (size_t)x->span * dtype_size(x->dtype)) == 0;
}

static double dtype_eps(int dtype) { return dtype == F64 ? 0x1p-52 : 0x1p-23; }

static int same_value(double x, double y) { return x == y || (x != x && y != y); }

/* ---------------------------------------------------------------- wrappers over the two dtypes */

static int call_matmul(int dtype, int64_t m, int64_t n, int64_t k, const tensor *a, const tensor *b, tensor *c,
                       int batch_ndim, const int64_t *batch_shape)
{
    const int64_t *as = a->strides + batch_ndim, *bs = b->strides + batch_ndim, *cs = c->strides + batch_ndim;
    if (dtype == F64)
        return ct_matmul_f64(m, n, k, tensor_data(a), as[0], as[1], tensor_data(b), bs[0], bs[1], tensor_data(c),
                             cs[0], cs[1], batch_ndim, batch_shape, a->strides, b->strides, c->strides);
    return ct_matmul_f32(m, n, k, tensor_data(a), as[0], as[1], tensor_data(b), bs[0], bs[1], tensor_data(c), cs[0],
                         cs[1], batch_ndim, batch_shape, a->strides, b->strides, c->strides);
}

static int call_reduce(int dtype, int op, const void *x, int outer_ndim, const int64_t *outer_shape,
                       const int64_t *outer_strides, int inner_ndim, const int64_t *inner_shape,
                       const int64_t *inner_strides, void *out)
{
    if (dtype == F64)
        return ct_reduce_f64(op, x, outer_ndim, outer_shape, outer_strides, inner_ndim, inner_shape, inner_strides,
                             out);
    return ct_reduce_f32(op, x, outer_ndim, outer_shape, outer_strides, inner_ndim, inner_shape, inner_strides, out);
}

static int call_argmax(int dtype, const void *x, int outer_ndim, const int64_t *outer_shape,
                       const int64_t *outer_strides, int64_t axis_len, int64_t axis_stride, int64_t *out)
{
    if (dtype == F64) return ct_argmax_f64(x, outer_ndim, outer_shape, outer_strides, axis_len, axis_stride, out);
    return ct_argmax_f32(x, outer_ndim, outer_shape, outer_strides, axis_len, axis_stride, out);
}

/* ---------------------------------------------------------------- runtime */

static void test_runtime(void)
{
    check(strcmp(ct_status_string(CT_OK), "ok") == 0, "status string of CT_OK");
    check(strlen(ct_status_string(CT_ERR_INVALID_ARGUMENT)) > 0, "status string of CT_ERR_INVALID_ARGUMENT");
    check(strlen(ct_status_string(CT_ERR_OUT_OF_MEMORY)) > 0, "status string of CT_ERR_OUT_OF_MEMORY");
    check(strlen(ct_status_string(99)) > 0, "status string of an unknown code");
    check(ct_get_num_threads() == 1, "default thread count is 1");
    check(ct_set_num_threads(0) == CT_ERR_INVALID_ARGUMENT, "ct_set_num_threads(0) is rejected");
    check(ct_set_num_threads(-3) == CT_ERR_INVALID_ARGUMENT, "ct_set_num_threads(-3) is rejected");
    check(ct_get_num_threads() == 1, "a rejected thread count changes nothing");
    check(ct_set_num_threads(3) == CT_OK && ct_get_num_threads() == 3, "thread count round-trips");
    ct_set_num_threads(1);
    const char *simd = ct_simd_name();
    check(strcmp(simd, "avx2+fma") == 0 || strcmp(simd, "generic") == 0, "ct_simd_name is avx2+fma or generic");
    printf("simd: %s\n", simd);
}

/* A large scratch block taken and handed back on another thread, which then exits and releases it
 * (under AddressSanitizer, a bad release at the thread's exit is caught). */
static void *scratch_on_a_thread(void *arg)
{
    (void)arg;
    char *block = ct_aligned_alloc((size_t)1 << 20, 1);
    if (block != NULL) memset(block, 1, (size_t)1 << 20);
    ct_aligned_free(block);
    return block;
}

static void test_scratch_blocks(void)
{
    size_t kib = 1024;
    char *big = ct_aligned_alloc(256 * kib, 1);
    check(big != NULL && (uintptr_t)big % CT_BUFFER_ALIGN == 0, "scratch: a 256 KiB block, 64-byte aligned");
    memset(big, 7, 256 * kib);
    ct_aligned_free(big);
    char *again = ct_aligned_alloc(200 * kib, 1);
    check(again == big, "scratch: a freed large block serves the next request it can hold");
    memset(again, 7, 200 * kib);
    char *other = ct_aligned_alloc(300 * kib, 1);
    check(other != NULL && other != again, "scratch: a larger request gets a fresh block");
    memset(other, 7, 300 * kib);
    ct_aligned_free(again);
    ct_aligned_free(other);
    char *blocks[6];
    for (int i = 0; i < 6; i++) blocks[i] = ct_aligned_alloc((size_t)(100 + 10 * i) * kib, 1);
    for (int i = 0; i < 6; i++) ct_aligned_free(blocks[i]);
    char *largest = ct_aligned_alloc(150 * kib, 1);
    check(largest == blocks[5], "scratch: the largest freed blocks are the ones kept");
    ct_aligned_free(largest);
    char *small = ct_aligned_alloc(100, 8);
    check(small != NULL && (uintptr_t)small % CT_BUFFER_ALIGN == 0, "scratch: a small block, aligned");
    check(small != blocks[5] && small != blocks[4] && small != blocks[1] && small != blocks[0],
          "scratch: a small request does not take a kept large block");
    ct_aligned_free(small);
    ct_aligned_free(NULL);
    check(ct_aligned_alloc(SIZE_MAX / 2, 4) == NULL, "scratch: an overflowing size gives NULL");
    check(ct_aligned_alloc(SIZE_MAX - 8, 1) == NULL, "scratch: a size past the header gives NULL");
    pthread_t thread;
    void *result = NULL;
    check(pthread_create(&thread, NULL, scratch_on_a_thread, NULL) == 0 && pthread_join(thread, &result) == 0 &&
              result != NULL,
          "scratch: a thread keeps a block and exits");
}

/* ---------------------------------------------------------------- matmul */

/*
 * C[b] = A[b] @ B[b] against a double loop; |error| <= 2 (k + 1) eps sum_k |a||b| per element.
 * Layout flags apply to A and B; C is contiguous, transposed, gapped or flipped (never broadcast).
 * Runs with 1 and 2 threads and requires identical bytes.
 */
static void check_matmul(int dtype, int64_t m, int64_t n, int64_t k, int a_layout, int b_layout, int c_layout,
                         int batch_ndim, const int64_t *batch_shape)
{
    int ndim = batch_ndim + 2;
    int64_t a_shape[MAX_TEST_DIMS], b_shape[MAX_TEST_DIMS], c_shape[MAX_TEST_DIMS];
    int64_t a_strides[MAX_TEST_DIMS], b_strides[MAX_TEST_DIMS], c_strides[MAX_TEST_DIMS];
    for (int d = 0; d < batch_ndim; d++) a_shape[d] = b_shape[d] = c_shape[d] = batch_shape[d];
    a_shape[batch_ndim] = m, a_shape[batch_ndim + 1] = k;
    b_shape[batch_ndim] = k, b_shape[batch_ndim + 1] = n;
    c_shape[batch_ndim] = m, c_shape[batch_ndim + 1] = n;
    make_strides(ndim, a_shape, a_layout, a_strides);
    make_strides(ndim, b_shape, b_layout, b_strides);
    make_strides(ndim, c_shape, c_layout & ~LAYOUT_BROADCAST, c_strides);

    tensor a, b, c1, c2;
    tensor_init(&a, dtype, ndim, a_shape, a_strides);
    tensor_init(&b, dtype, ndim, b_shape, b_strides);
    tensor_init(&c1, dtype, ndim, c_shape, c_strides);
    tensor_init(&c2, dtype, ndim, c_shape, c_strides);
    tensor_fill_random(&a, 0);
    tensor_fill_random(&b, 0);
    tensor_fill(&c1, SENTINEL);
    tensor_fill(&c2, SENTINEL);

    ct_set_num_threads(1);
    int status1 = call_matmul(dtype, m, n, k, &a, &b, &c1, batch_ndim, batch_shape);
    ct_set_num_threads(2);
    int status2 = call_matmul(dtype, m, n, k, &a, &b, &c2, batch_ndim, batch_shape);
    ct_set_num_threads(1);

    char what[160];
    snprintf(what, sizeof what, "matmul %s m=%lld n=%lld k=%lld layouts a=%d b=%d c=%d batch_ndim=%d",
             dtype_name[dtype], (long long)m, (long long)n, (long long)k, a_layout, b_layout, c_layout, batch_ndim);
    check(status1 == CT_OK && status2 == CT_OK, "%s: status %d / %d", what, status1, status2);
    check(same_bytes(&c1, &c2), "%s: 1 and 2 threads differ", what);

    /* Every written slot must match; every other slot must still hold the sentinel. */
    char *written = calloc((size_t)c1.span + 1, 1);
    int64_t batch_count = 1, bad = 0;
    for (int d = 0; d < batch_ndim; d++) batch_count *= batch_shape[d];
    double *dense_a = tensor_to_dense(&a), *dense_b = tensor_to_dense(&b);
    for (int64_t bi = 0; bi < batch_count; bi++) {
        for (int64_t i = 0; i < m; i++) {
            for (int64_t j = 0; j < n; j++) {
                double exact = 0, magnitude = 0;
                for (int64_t p = 0; p < k; p++) {
                    double x = dense_a[(bi * m + i) * k + p], y = dense_b[(bi * k + p) * n + j];
                    exact += x * y;
                    magnitude += fabs(x * y);
                }
                int64_t slot = tensor_index(&c1, (bi * m + i) * n + j);
                written[slot] = 1;
                double got = load_at(&c1, slot);
                if (!(fabs(got - exact) <= 2.0 * (double)(k + 1) * dtype_eps(dtype) * magnitude) && bad++ == 0)
                    fprintf(stderr, "  %s: first bad element, batch %lld (%lld, %lld): got %.17g want %.17g\n", what,
                            (long long)bi, (long long)i, (long long)j, got, exact);
            }
        }
    }
    int64_t clobbered = 0;
    for (int64_t s = 0; s < c1.span; s++)
        if (!written[s] && load_at(&c1, s) != SENTINEL) clobbered++;
    check(bad == 0, "%s: %lld elements beyond the error bound", what, (long long)bad);
    check(clobbered == 0, "%s: %lld slots outside C were written", what, (long long)clobbered);
    free(written);
    free(dense_a);
    free(dense_b);
    tensor_free(&a);
    tensor_free(&b);
    tensor_free(&c1);
    tensor_free(&c2);
}

static int random_layout(int allow_broadcast)
{
    int layout = (int)rng_int(0, 7);
    if (allow_broadcast && rng_int(0, 4) == 0) layout |= LAYOUT_BROADCAST;
    return layout;
}

static void test_matmul_small_shapes(void)
{
    static const int64_t sizes[] = {0, 1, 2, 5, 6, 7, 16, 17, 33};
    const int count = (int)(sizeof sizes / sizeof sizes[0]);
    for (int dtype = F32; dtype <= F64; dtype++)
        for (int im = 0; im < count; im++)
            for (int in = 0; in < count; in++)
                for (int ik = 0; ik < count; ik++)
                    check_matmul(dtype, sizes[im], sizes[in], sizes[ik], random_layout(1), random_layout(1),
                                 random_layout(0), 0, NULL);
}

static void test_matmul_blocking_edges(void)
{
    /* m past MC (144 / 72), k past KC (256), n past NC (4096), primes, vectors, and tiny k. */
    static const int64_t shapes[][3] = {
        {300, 301, 257}, {145, 97, 300}, {73, 41, 513}, {7, 4100, 3},  {1, 500, 300}, {400, 1, 300},
        {2, 3, 1000},    {257, 2, 9},    {3, 260, 1},   {97, 89, 83},  {6, 16, 256},  {12, 32, 512},
    };
    for (int dtype = F32; dtype <= F64; dtype++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int layout = 0; layout < 3; layout++) {
                int a_layout = layout == 0 ? LAYOUT_CONTIGUOUS : random_layout(layout == 2);
                int b_layout = layout == 0 ? LAYOUT_CONTIGUOUS : random_layout(layout == 2);
                check_matmul(dtype, shapes[s][0], shapes[s][1], shapes[s][2], a_layout, b_layout,
                             layout == 0 ? 0 : random_layout(0), 0, NULL);
            }
}

static void test_matmul_skinny_products(void)
{
    /*
     * Thin m or n: the large operand is read in place when its long side is contiguous (B when m <= 12,
     * A when n <= 32 in float32 and 16 in float64, either after transposing the problem), B only up to
     * 1 MiB ({4, 2100, 160} is packed again). Every transpose of A, B and C, then random layouts.
     */
    static const int64_t shapes[][3] = {
        {256, 10, 512}, {512, 10, 256}, {10, 300, 97}, {300, 10, 97}, {13, 1000, 37}, {16, 200, 300},
        {12, 300, 64},  {5, 7, 600},    {300, 16, 5},  {2, 129, 31},  {4, 2100, 160}, {256, 512, 10},
        {300, 33, 40},  {40, 31, 300},
    };
    for (int dtype = F32; dtype <= F64; dtype++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            for (int transposes = 0; transposes < 8; transposes++)
                check_matmul(dtype, shapes[s][0], shapes[s][1], shapes[s][2], transposes & 1 ? LAYOUT_PERMUTED : 0,
                             transposes & 2 ? LAYOUT_PERMUTED : 0, transposes & 4 ? LAYOUT_PERMUTED : 0, 0, NULL);
            check_matmul(dtype, shapes[s][0], shapes[s][1], shapes[s][2], random_layout(1), random_layout(1),
                         random_layout(0), 0, NULL);
        }
    static const int64_t batch_shape[] = {3};
    for (int dtype = F32; dtype <= F64; dtype++)
        for (int transposes = 0; transposes < 4; transposes++)
            check_matmul(dtype, 40, 5, 70, transposes & 1 ? LAYOUT_PERMUTED : 0, transposes & 2 ? LAYOUT_PERMUTED : 0,
                         0, 1, batch_shape);
}

static void test_matmul_batched(void)
{
    static const int64_t batch_shapes[][2] = {{3, 1}, {2, 3}, {4, 1}, {0, 2}, {5, 2}};
    static const int64_t products[][3] = {{1, 1, 1}, {5, 7, 3}, {20, 30, 40}, {70, 33, 65}, {1, 40, 17}};
    for (int dtype = F32; dtype <= F64; dtype++)
        for (size_t s = 0; s < sizeof batch_shapes / sizeof batch_shapes[0]; s++)
            for (size_t p = 0; p < sizeof products / sizeof products[0]; p++)
                for (int batch_ndim = 1; batch_ndim <= 2; batch_ndim++)
                    check_matmul(dtype, products[p][0], products[p][1], products[p][2], random_layout(1),
                                 random_layout(1), random_layout(0), batch_ndim, batch_shapes[s]);
    /* Batch stride 0 for A and B (broadcast): every C[b] is the same product. */
    for (int dtype = F32; dtype <= F64; dtype++)
        check_matmul(dtype, 50, 40, 30, LAYOUT_BROADCAST, LAYOUT_BROADCAST, 0, 2, batch_shapes[1]);
}

static void test_matmul_kdim_zero_writes_zeros(void)
{
    for (int dtype = F32; dtype <= F64; dtype++) {
        int64_t shape[2] = {3, 4}, strides[2] = {4, 1}, empty_shape[2] = {3, 0}, empty_strides[2] = {0, 1};
        tensor a, b, c;
        tensor_init(&a, dtype, 2, empty_shape, empty_strides);
        tensor_init(&b, dtype, 2, (int64_t[]){0, 4}, (int64_t[]){4, 1});
        tensor_init(&c, dtype, 2, shape, strides);
        tensor_fill(&c, NAN);
        int status = call_matmul(dtype, 3, 4, 0, &a, &b, &c, 0, NULL);
        int zeros = 1;
        for (int64_t i = 0; i < 12; i++) zeros &= load_at(&c, i) == 0.0 && !signbit(load_at(&c, i));
        check(status == CT_OK && zeros, "matmul %s k=0 writes +0", dtype_name[dtype]);
        tensor_free(&a);
        tensor_free(&b);
        tensor_free(&c);
    }
}

static void test_matmul_errors(void)
{
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4];
    double ad[4] = {1, 2, 3, 4}, bd[4] = {1, 0, 0, 1}, cd[4];
    int64_t shape[1] = {1}, strides[1] = {0}, bad_shape[1] = {-1};
    const int E = CT_ERR_INVALID_ARGUMENT;
    check(ct_matmul_f32(-1, 2, 2, a, 2, 1, b, 2, 1, c, 2, 1, 0, NULL, NULL, NULL, NULL) == E, "matmul m < 0");
    check(ct_matmul_f32(2, -1, 2, a, 2, 1, b, 2, 1, c, 2, 1, 0, NULL, NULL, NULL, NULL) == E, "matmul n < 0");
    check(ct_matmul_f64(2, 2, -1, ad, 2, 1, bd, 2, 1, cd, 2, 1, 0, NULL, NULL, NULL, NULL) == E, "matmul k < 0");
    check(ct_matmul_f32(2, 2, 2, NULL, 2, 1, b, 2, 1, c, 2, 1, 0, NULL, NULL, NULL, NULL) == E, "matmul a NULL");
    check(ct_matmul_f32(2, 2, 2, a, 2, 1, NULL, 2, 1, c, 2, 1, 0, NULL, NULL, NULL, NULL) == E, "matmul b NULL");
    check(ct_matmul_f64(2, 2, 2, ad, 2, 1, bd, 2, 1, NULL, 2, 1, 0, NULL, NULL, NULL, NULL) == E, "matmul c NULL");
    check(ct_matmul_f64(2, 2, 0, NULL, 2, 1, NULL, 2, 1, NULL, 2, 1, 0, NULL, NULL, NULL, NULL) == E,
          "matmul c NULL with k = 0");
    check(ct_matmul_f32(2, 2, 2, a, 2, 1, b, 2, 1, c, 2, 1, -1, NULL, NULL, NULL, NULL) == E, "batch_ndim < 0");
    check(ct_matmul_f32(2, 2, 2, a, 2, 1, b, 2, 1, c, 2, 1, CT_MAX_DIMS + 1, NULL, NULL, NULL, NULL) == E,
          "batch_ndim > CT_MAX_DIMS");
    check(ct_matmul_f32(2, 2, 2, a, 2, 1, b, 2, 1, c, 2, 1, 1, NULL, strides, strides, strides) == E,
          "batch_shape NULL");
    check(ct_matmul_f32(2, 2, 2, a, 2, 1, b, 2, 1, c, 2, 1, 1, shape, strides, NULL, strides) == E,
          "b_batch_strides NULL");
    check(ct_matmul_f32(2, 2, 2, a, 2, 1, b, 2, 1, c, 2, 1, 1, bad_shape, strides, strides, strides) == E,
          "negative batch size");
    /* Nothing to compute: OK even with NULL buffers. */
    check(ct_matmul_f32(0, 2, 2, NULL, 2, 1, NULL, 2, 1, NULL, 2, 1, 0, NULL, NULL, NULL, NULL) == CT_OK,
          "matmul m = 0 with NULL buffers");
    check(ct_matmul_f64(2, 0, 2, NULL, 2, 1, NULL, 2, 1, NULL, 2, 1, 0, NULL, NULL, NULL, NULL) == CT_OK,
          "matmul n = 0 with NULL buffers");
    check(ct_matmul_f32(2, 2, 2, a, 2, 1, b, 2, 1, c, 2, 1, 0, NULL, NULL, NULL, NULL) == CT_OK &&
              c[0] == 1 && c[1] == 2 && c[2] == 3 && c[3] == 4,
          "matmul by the identity");
}

/* ---------------------------------------------------------------- reductions */

static const char *op_name[] = {"sum", "max", "min"};

/*
 * Reduces the dims of a random tensor flagged in reduce_mask with every op,
 * against loops in long double (sum: |error| <= 2 eps |sum| + 300 eps_f64 sum |x|)
 * and exact max/min; 1 and 2 threads must agree bit for bit.
 */
static void check_reduce(int dtype, int ndim, const int64_t *shape, unsigned reduce_mask, int layout, int nans)
{
    int64_t strides[MAX_TEST_DIMS];
    make_strides(ndim, shape, layout, strides);
    tensor x;
    tensor_init(&x, dtype, ndim, shape, strides);
    tensor_fill_random(&x, rng_int(0, 3) == 0);
    if (nans)
        for (int i = 0; i < nans && x.span > 0; i++) store_at(&x, rng_int(0, x.span - 1), NAN);

    int outer_ndim = 0, inner_ndim = 0;
    int64_t outer_shape[MAX_TEST_DIMS], outer_strides[MAX_TEST_DIMS], inner_shape[MAX_TEST_DIMS],
        inner_strides[MAX_TEST_DIMS];
    int64_t outer_count = 1, inner_count = 1;
    for (int d = 0; d < ndim; d++) {
        if (reduce_mask >> d & 1u) {
            inner_shape[inner_ndim] = shape[d], inner_strides[inner_ndim++] = strides[d];
            inner_count *= shape[d];
        } else {
            outer_shape[outer_ndim] = shape[d], outer_strides[outer_ndim++] = strides[d];
            outer_count *= shape[d];
        }
    }
    int64_t out_shape[MAX_TEST_DIMS], out_strides[MAX_TEST_DIMS];
    memcpy(out_shape, outer_shape, sizeof outer_shape);
    make_strides(outer_ndim, out_shape, LAYOUT_CONTIGUOUS, out_strides);

    char what[200];
    for (int op = CT_REDUCE_SUM; op <= CT_REDUCE_MIN; op++) {
        snprintf(what, sizeof what, "reduce %s %s ndim=%d mask=%u layout=%d nans=%d outer=%lld inner=%lld",
                 op_name[op], dtype_name[dtype], ndim, reduce_mask, layout, nans, (long long)outer_count,
                 (long long)inner_count);
        tensor out1, out2;
        tensor_init(&out1, dtype, outer_ndim, out_shape, out_strides);
        tensor_init(&out2, dtype, outer_ndim, out_shape, out_strides);
        tensor_fill(&out1, SENTINEL);
        tensor_fill(&out2, SENTINEL);
        ct_set_num_threads(1);
        int status1 = call_reduce(dtype, op, tensor_data(&x), outer_ndim, outer_shape, outer_strides, inner_ndim,
                                  inner_shape, inner_strides, tensor_data(&out1));
        ct_set_num_threads(2);
        int status2 = call_reduce(dtype, op, tensor_data(&x), outer_ndim, outer_shape, outer_strides, inner_ndim,
                                  inner_shape, inner_strides, tensor_data(&out2));
        ct_set_num_threads(1);

        if (inner_count == 0 && op != CT_REDUCE_SUM) {
            check(status1 == CT_ERR_INVALID_ARGUMENT && status2 == CT_ERR_INVALID_ARGUMENT,
                  "%s: max/min of nothing must be rejected", what);
        } else {
            check(status1 == CT_OK && status2 == CT_OK, "%s: status %d / %d", what, status1, status2);
            check(same_bytes(&out1, &out2), "%s: 1 and 2 threads differ", what);
            int64_t bad = 0;
            for (int64_t o = 0; o < outer_count; o++) {
                long double sum = 0, magnitude = 0;
                double extreme = 0;
                int64_t outer_offset = 0, rest = o;
                for (int d = outer_ndim - 1; d >= 0; d--) {
                    outer_offset += (rest % outer_shape[d]) * outer_strides[d];
                    rest /= outer_shape[d];
                }
                for (int64_t i = 0; i < inner_count; i++) {
                    int64_t offset = outer_offset;
                    rest = i;
                    for (int d = inner_ndim - 1; d >= 0; d--) {
                        offset += (rest % inner_shape[d]) * inner_strides[d];
                        rest /= inner_shape[d];
                    }
                    double v = load_at(&x, x.origin + offset);
                    sum += v;
                    magnitude += fabsl((long double)v);
                    int better = op == CT_REDUCE_MAX ? v > extreme : v < extreme;
                    if (i == 0 || (extreme == extreme && (v != v || better))) extreme = v;
                }
                double got = load_at(&out1, o);
                if (op == CT_REDUCE_SUM) {
                    double want = (double)sum;
                    double allowed = 2 * dtype_eps(dtype) * fabs(want) + 300 * 0x1p-52 * (double)magnitude;
                    if (want != want ? got == got : !(fabs(got - want) <= allowed)) bad++;
                } else if (!same_value(got, extreme)) {
                    bad++;
                }
            }
            check(bad == 0, "%s: %lld wrong outputs", what, (long long)bad);
        }
        tensor_free(&out1);
        tensor_free(&out2);
    }
    tensor_free(&x);
}

static void test_reduce_random(void)
{
    for (int dtype = F32; dtype <= F64; dtype++) {
        for (int trial = 0; trial < 300; trial++) {
            int ndim = (int)rng_int(0, 4);
            int64_t shape[MAX_TEST_DIMS];
            for (int d = 0; d < ndim; d++) shape[d] = rng_int(0, 4) == 0 ? rng_int(0, 1) : rng_int(2, 40);
            unsigned mask = (unsigned)rng_int(0, (1 << ndim) - 1);
            int nans = rng_int(0, 4) == 0 ? (int)rng_int(1, 3) : 0;
            check_reduce(dtype, ndim, shape, mask, random_layout(1), nans);
        }
    }
}

static void test_reduce_large(void)
{
    /* Large enough to thread; each exercises one work shape (full/chunks, columns, rows). */
    static const struct {
        int ndim;
        int64_t shape[3];
        unsigned mask;
    } cases[] = {
        {1, {200003}, 1},      /* single output, chunked */
        {2, {3001, 70}, 1},    /* column sums */
        {2, {70, 3001}, 2},    /* row sums */
        {3, {7, 300, 40}, 5},  /* reduce outer and inner, keep the middle */
        {3, {40, 31, 67}, 2},  /* reduce the middle */
        {2, {1000, 300}, 3},   /* everything, 2-d */
        {2, {20, 5000}, 1},    /* column sums wider than one tile: tiled differently for 1 and 2 threads */
    };
    for (int dtype = F32; dtype <= F64; dtype++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            for (int layout = 0; layout < 3; layout++)
                check_reduce(dtype, cases[c].ndim, cases[c].shape, cases[c].mask,
                             layout == 0 ? LAYOUT_CONTIGUOUS : random_layout(layout == 2), layout == 1 ? 2 : 0);
}

/*
 * Contiguous rows are reduced several at a time (read side by side); each row's result must be the
 * bytes that reducing the row alone gives, for rows in a group and in the remainder, with 1 and 2
 * threads. Row 1 is all -0.0 (a sum gives +0.0 either way), row 2 holds a NaN.
 */
static void test_reduce_rows_side_by_side_match_one_row(void)
{
    enum { ROWS = 7 };
    static const int64_t lengths[] = {1, 15, 16, 17, 300, 2053, 5000};
    static const int ops[] = {CT_REDUCE_SUM, CT_REDUCE_MAX, CT_REDUCE_MIN};
    for (int dtype = F32; dtype <= F64; dtype++)
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++)
            for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
                for (int threads = 1; threads <= 2; threads++) {
                    int64_t len = lengths[l], shape[2] = {ROWS, len}, strides[2] = {len, 1};
                    size_t size = dtype == F64 ? sizeof(double) : sizeof(float);
                    char *x = malloc((size_t)(ROWS * len) * size), out[ROWS * sizeof(double)], alone[sizeof(double)];
                    for (int64_t i = 0; i < ROWS * len; i++) {
                        double v = i / len == 1 ? -0.0 : i == 2 * len + len / 2 ? NAN : rng_uniform();
                        if (dtype == F64)
                            ((double *)x)[i] = v;
                        else
                            ((float *)x)[i] = (float)v;
                    }
                    ct_set_num_threads(threads);
                    int status = call_reduce(dtype, ops[o], x, 1, shape, strides, 1, shape + 1, strides + 1, out);
                    int same = status == CT_OK;
                    for (int r = 0; r < ROWS; r++) {
                        status = call_reduce(dtype, ops[o], x + (size_t)(r * len) * size, 0, NULL, NULL, 1, shape + 1,
                                             strides + 1, alone);
                        same = same && status == CT_OK && memcmp(out + r * size, alone, size) == 0;
                    }
                    ct_set_num_threads(1);
                    check(same, "reduce %s op %d, %d rows of %lld, %d threads: rows match each row alone",
                          dtype_name[dtype], ops[o], ROWS, (long long)len, threads);
                    free(x);
                }
}

static void test_reduce_sum_accuracy(void)
{
    /* 1 + many tiny terms: naive float32 summation loses them, double accumulation keeps them. */
    enum { N = 1 << 20 };
    float *x = malloc(N * sizeof *x);
    x[0] = 1.0f;
    for (int i = 1; i < N; i++) x[i] = 0x1p-24f;
    int64_t shape[1] = {N}, strides[1] = {1};
    float out;
    int status = ct_reduce_f32(CT_REDUCE_SUM, x, 0, NULL, NULL, 1, shape, strides, &out);
    check(status == CT_OK && fabs(out - (1.0 + (N - 1) * 0x1p-24)) <= 0x1p-23, "f32 sum accumulates in double: %.9g",
          out);
    free(x);
}

static void test_reduce_errors(void)
{
    float x[4] = {1, 2, 3, 4}, out[4];
    double xd[4] = {1, 2, 3, 4}, outd[4];
    int64_t shape[1] = {4}, strides[1] = {1}, empty[1] = {0}, negative[1] = {-2};
    int64_t many[CT_MAX_DIMS + 1];
    for (int d = 0; d <= CT_MAX_DIMS; d++) many[d] = 1;
    const int E = CT_ERR_INVALID_ARGUMENT;
    check(ct_reduce_f32(3, x, 0, NULL, NULL, 1, shape, strides, out) == E, "reduce: unknown op");
    check(ct_reduce_f32(-1, x, 0, NULL, NULL, 1, shape, strides, out) == E, "reduce: negative op");
    check(ct_reduce_f32(CT_REDUCE_MAX, x, 0, NULL, NULL, 1, empty, strides, out) == E, "reduce: max of nothing");
    check(ct_reduce_f64(CT_REDUCE_MIN, xd, 0, NULL, NULL, 1, empty, strides, outd) == E, "reduce: min of nothing");
    check(ct_reduce_f64(CT_REDUCE_SUM, xd, 0, NULL, NULL, 1, empty, strides, outd) == CT_OK && outd[0] == 0,
          "reduce: sum of nothing is 0");
    check(ct_reduce_f32(CT_REDUCE_SUM, x, 0, NULL, NULL, 1, negative, strides, out) == E, "reduce: negative size");
    check(ct_reduce_f32(CT_REDUCE_SUM, x, -1, NULL, NULL, 1, shape, strides, out) == E, "reduce: outer_ndim < 0");
    check(ct_reduce_f32(CT_REDUCE_SUM, x, 0, NULL, NULL, CT_MAX_DIMS + 1, many, many, out) == E,
          "reduce: inner_ndim > CT_MAX_DIMS");
    check(ct_reduce_f32(CT_REDUCE_SUM, x, 0, NULL, NULL, 1, shape, NULL, out) == E, "reduce: NULL inner strides");
    check(ct_reduce_f32(CT_REDUCE_SUM, x, 1, NULL, strides, 0, NULL, NULL, out) == E, "reduce: NULL outer shape");
    check(ct_reduce_f32(CT_REDUCE_SUM, NULL, 0, NULL, NULL, 1, shape, strides, out) == E, "reduce: NULL x");
    check(ct_reduce_f64(CT_REDUCE_SUM, xd, 0, NULL, NULL, 1, shape, strides, NULL) == E, "reduce: NULL out");
    check(ct_reduce_f32(CT_REDUCE_SUM, x, 0, NULL, NULL, 1, shape, strides, out) == CT_OK && out[0] == 10,
          "reduce: 1 + 2 + 3 + 4");
    check(ct_reduce_f32(CT_REDUCE_SUM, x, 1, shape, strides, 0, NULL, NULL, out) == CT_OK && out[2] == 3,
          "reduce: nothing reduced copies x");
    check(ct_reduce_f32(CT_REDUCE_SUM, NULL, 1, empty, strides, 1, shape, strides, NULL) == CT_OK,
          "reduce: no outputs with NULL buffers");
}

/* ---------------------------------------------------------------- arg-max */

static void check_argmax(int dtype, int ndim, const int64_t *shape, int axis, int layout, int ties, int nans)
{
    int64_t strides[MAX_TEST_DIMS];
    make_strides(ndim, shape, layout, strides);
    tensor x;
    tensor_init(&x, dtype, ndim, shape, strides);
    tensor_fill_random(&x, ties);
    for (int i = 0; i < nans && x.span > 0; i++) store_at(&x, rng_int(0, x.span - 1), NAN);

    int outer_ndim = 0;
    int64_t outer_shape[MAX_TEST_DIMS], outer_strides[MAX_TEST_DIMS], outer_count = 1;
    for (int d = 0; d < ndim; d++)
        if (d != axis) {
            outer_shape[outer_ndim] = shape[d], outer_strides[outer_ndim++] = strides[d];
            outer_count *= shape[d];
        }
    int64_t *out1 = malloc((size_t)outer_count * sizeof *out1), *out2 = malloc((size_t)outer_count * sizeof *out2);
    ct_set_num_threads(1);
    int status1 = call_argmax(dtype, tensor_data(&x), outer_ndim, outer_shape, outer_strides, shape[axis],
                              strides[axis], out1);
    ct_set_num_threads(2);
    int status2 = call_argmax(dtype, tensor_data(&x), outer_ndim, outer_shape, outer_strides, shape[axis],
                              strides[axis], out2);
    ct_set_num_threads(1);

    char what[160];
    snprintf(what, sizeof what, "argmax %s ndim=%d axis=%d layout=%d ties=%d nans=%d", dtype_name[dtype], ndim, axis,
             layout, ties, nans);
    if (shape[axis] == 0) {
        check(status1 == CT_ERR_INVALID_ARGUMENT, "%s: empty axis must be rejected", what);
    } else {
        check(status1 == CT_OK && status2 == CT_OK, "%s: status %d / %d", what, status1, status2);
        check(outer_count == 0 || memcmp(out1, out2, (size_t)outer_count * sizeof *out1) == 0,
              "%s: 1 and 2 threads differ", what);
        int64_t bad = 0;
        for (int64_t o = 0; o < outer_count; o++) {
            int64_t offset = 0, rest = o;
            for (int d = outer_ndim - 1; d >= 0; d--) {
                offset += (rest % outer_shape[d]) * outer_strides[d];
                rest /= outer_shape[d];
            }
            int64_t want = 0;
            double best = load_at(&x, x.origin + offset);
            for (int64_t i = 1; i < shape[axis] && best == best; i++) {
                double v = load_at(&x, x.origin + offset + i * strides[axis]);
                if (v != v || v > best) best = v, want = i;
            }
            if (out1[o] != want) bad++;
        }
        check(bad == 0, "%s: %lld wrong indices", what, (long long)bad);
    }
    free(out1);
    free(out2);
    tensor_free(&x);
}

static void test_argmax(void)
{
    for (int dtype = F32; dtype <= F64; dtype++) {
        for (int trial = 0; trial < 200; trial++) {
            int ndim = (int)rng_int(1, 4);
            int64_t shape[MAX_TEST_DIMS];
            for (int d = 0; d < ndim; d++) shape[d] = rng_int(0, 4) == 0 ? rng_int(0, 1) : rng_int(2, 40);
            int axis = (int)rng_int(0, ndim - 1);
            check_argmax(dtype, ndim, shape, axis, random_layout(1), (int)rng_int(0, 1),
                         rng_int(0, 3) == 0 ? (int)rng_int(1, 3) : 0);
        }
        int64_t large[2] = {300, 500};
        check_argmax(dtype, 2, large, 1, LAYOUT_CONTIGUOUS, 1, 0);
        check_argmax(dtype, 2, large, 0, LAYOUT_CONTIGUOUS, 0, 5);
        check_argmax(dtype, 2, large, 1, LAYOUT_CONTIGUOUS, 0, 5); /* long contiguous rows with NaNs */
    }
    float x[3] = {1, 2, 3};
    int64_t out[1], shape[1] = {0}, strides[1] = {1};
    check(ct_argmax_f32(x, 0, NULL, NULL, 0, 1, out) == CT_ERR_INVALID_ARGUMENT, "argmax: axis_len 0");
    check(ct_argmax_f32(x, 0, NULL, NULL, -1, 1, out) == CT_ERR_INVALID_ARGUMENT, "argmax: axis_len < 0");
    check(ct_argmax_f32(NULL, 0, NULL, NULL, 3, 1, out) == CT_ERR_INVALID_ARGUMENT, "argmax: NULL x");
    check(ct_argmax_f64(NULL, 0, NULL, NULL, 3, 1, NULL) == CT_ERR_INVALID_ARGUMENT, "argmax: NULL out");
    check(ct_argmax_f32(x, 17, NULL, NULL, 3, 1, out) == CT_ERR_INVALID_ARGUMENT, "argmax: outer_ndim > 16");
    check(ct_argmax_f32(NULL, 1, shape, strides, 3, 1, NULL) == CT_OK, "argmax: no outputs");
    check(ct_argmax_f32(x + 2, 0, NULL, NULL, 3, -1, out) == CT_OK && out[0] == 0, "argmax: negative stride");
    check(ct_argmax_f32(x, 0, NULL, NULL, 3, 0, out) == CT_OK && out[0] == 0, "argmax: zero stride ties");
}

/* ---------------------------------------------------------------- activations */

/* The reference f(x) and f'(x) in double, straight from the definitions in ctensor.h. */
static double sigmoid_ref(double x) { return 1 / (1 + exp(-x)); }

/*
 * Phi(x) = (1 + erf(x/sqrt 2))/2 = erfc(-x/sqrt 2)/2, in long double: no cancellation for x < 0,
 * and x/sqrt 2 rounded to 64 bits moves erfc by at most x^2 2^-64, under a double ulp for |x| < 38.
 */
static double normal_cdf_ref(double x) { return (double)(0.5L * erfcl(-(long double)x * 0.70710678118654752440084436210484903928L)); }

static double activation_ref(int kind, double x, double alpha, double scale, double beta)
{
    const double k = 0.79788456080286535588, c = 0.044715;
    switch (kind) {
    case CT_ACTIVATION_SIGMOID: return sigmoid_ref(x);
    case CT_ACTIVATION_TANH: return tanh(x);
    case CT_ACTIVATION_SWISH: return x * sigmoid_ref(beta * x);
    case CT_ACTIVATION_ELU: return scale * (x > 0 ? x : alpha * expm1(x));
    case CT_ACTIVATION_GELU: return x * normal_cdf_ref(x);
    case CT_ACTIVATION_RELU: return x > 0 ? x : 0;
    default: return 0.5 * x * (1 + tanh(k * (x + c * x * x * x)));
    }
}

static double activation_slope_ref(int kind, double x, double alpha, double scale, double beta)
{
    const double k = 0.79788456080286535588, c = 0.044715;
    double s = sigmoid_ref(beta * x), t = tanh(k * (x + c * x * x * x));
    switch (kind) {
    case CT_ACTIVATION_SIGMOID: return sigmoid_ref(x) * (1 - sigmoid_ref(x));
    case CT_ACTIVATION_TANH: return 1 - tanh(x) * tanh(x);
    case CT_ACTIVATION_SWISH: return s * (1 + beta * x * (1 - s));
    case CT_ACTIVATION_ELU: return scale * (x > 0 ? 1 : alpha * exp(x));
    case CT_ACTIVATION_GELU: return normal_cdf_ref(x) + x * exp(-0.5 * x * x) * 0.39894228040143267794;
    case CT_ACTIVATION_RELU: return x > 0 ? 1 : 0;
    default: return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x);
    }
}

static int call_activation(int dtype, int backward, int kind, int64_t n, const void *in, const void *dy, void *out)
{
    const double alpha = 1.5, scale = 1.25, beta = 0.75;
    if (dtype == F64)
        return backward ? ct_activation_backward_f64(kind, n, in, dy, out, alpha, scale, beta)
                        : ct_activation_forward_f64(kind, n, in, out, alpha, scale, beta);
    return backward ? ct_activation_backward_f32(kind, n, in, dy, out, alpha, scale, beta)
                    : ct_activation_forward_f32(kind, n, in, out, alpha, scale, beta);
}

/*
 * Each kind and dtype on n inputs spread over [-40, 40] (plus 0, +-tiny, +-1000): forward and
 * backward near the double reference, 1 and 2 threads bit-identical, and the slot after each output
 * untouched. Forward sigmoid, tanh, swish, ELU and GELU are relatively accurate (to a few ulps,
 * down to subnormal results, times 1 + |x| for swish's rounded beta*x); the rest cancel by their
 * formulas or grow with |x| (y(1 - y) from a rounded y, GELU_TANH's rounded u, ...), so there the error
 * is measured against 1 + |x|. test_gelu_relative_accuracy holds GELU to a tighter bound.
 */
static void check_activation(int dtype, int kind, int64_t n)
{
    const double alpha = 1.5, scale = 1.25, beta = 0.75;
    static const double specials[] = {0.0, 1e-30, -1e-30, 1000.0, -1000.0, 88.5, -88.5, -745.0};
    int64_t one = 1, in_shape = n, out_shape = n + 1; /* outputs get one sentinel slot past the end */
    tensor x, dy, y, out1, out2;
    tensor_init(&x, dtype, 1, &in_shape, &one);
    tensor_init(&dy, dtype, 1, &in_shape, &one);
    tensor_init(&y, dtype, 1, &in_shape, &one);
    tensor_init(&out1, dtype, 1, &out_shape, &one);
    tensor_init(&out2, dtype, 1, &out_shape, &one);
    for (int64_t i = 0; i < n; i++) {
        store_at(&x, i, i < 8 ? specials[i] : 40 * rng_uniform());
        store_at(&dy, i, 1);
    }
    /* sigmoid, tanh and relu differentiate from their output */
    int from_output = kind == CT_ACTIVATION_SIGMOID || kind == CT_ACTIVATION_TANH || kind == CT_ACTIVATION_RELU;
    check(call_activation(dtype, 0, kind, n, x.alloc, NULL, y.alloc) == CT_OK, "activation %d forward status", kind);
    for (int backward = 0; backward <= 1; backward++) {
        const char *pass = backward ? "backward" : "forward";
        const void *in = backward && from_output ? y.alloc : x.alloc;
        double tolerance = (backward ? 64 : 8) * dtype_eps(dtype), tiny = dtype == F64 ? 1e-300 : 1e-37;
        int relative = !backward && kind <= CT_ACTIVATION_GELU;
        store_at(&out1, n, 12345.0);
        ct_set_num_threads(1);
        int status1 = call_activation(dtype, backward, kind, n, in, dy.alloc, out1.alloc);
        ct_set_num_threads(2);
        int status2 = call_activation(dtype, backward, kind, n, in, dy.alloc, out2.alloc);
        ct_set_num_threads(1);
        check(status1 == CT_OK && status2 == CT_OK, "activation %d %s: status", kind, pass);
        check(memcmp(out1.alloc, out2.alloc, (size_t)n * dtype_size(dtype)) == 0, "activation %d %s: 1 and 2 threads "
              "differ", kind, pass);
        int64_t bad = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = load_at(&x, i), got = load_at(&out1, i);
            double want = backward ? activation_slope_ref(kind, v, alpha, scale, beta)
                                   : activation_ref(kind, v, alpha, scale, beta);
            double magnitude = relative ? fabs(want) * (1 + fabs(v)) + tiny : fabs(want) + 1 + fabs(v);
            if (!(fabs(got - want) <= tolerance * magnitude)) bad++;
        }
        check(bad == 0, "activation %d %s %s: %lld of %lld values off", kind, pass, dtype_name[dtype], (long long)bad,
              (long long)n);
        check(load_at(&out1, n) == 12345.0, "activation %d %s: wrote past the end", kind, pass);
    }
    tensor_free(&x), tensor_free(&dy), tensor_free(&y), tensor_free(&out1), tensor_free(&out2);
}

static void test_activations(void)
{
    static const int64_t sizes[] = {8, 9, 31, 100003}; /* odd tails, and more than one work unit */
    for (int dtype = F32; dtype <= F64; dtype++)
        for (int kind = CT_ACTIVATION_SIGMOID; kind <= CT_ACTIVATION_RELU; kind++)
            for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) check_activation(dtype, kind, sizes[s]);
}

/*
 * GELU forward relative to x Phi(x) within 8 eps on a fine grid, wherever Phi(x) is a normal
 * number (below that, Phi and e^(-x^2/2) lose bits as subnormals): x in [-13, 10] for float32,
 * [-37, 10] for float64. Checks the branch-free erf's series (|x| < 0.5 sqrt 2), its erfc tail and
 * the switch between them; for x < 0 this is the erfc tail itself, where 1 + erf would cancel.
 */
static void test_gelu_relative_accuracy(void)
{
    enum { POINTS = 200001 };
    static float x32[POINTS], y32[POINTS];
    static double x64[POINTS], y64[POINTS];
    for (int dtype = F32; dtype <= F64; dtype++) {
        double lo = dtype == F64 ? -37 : -13, hi = 10;
        for (int i = 0; i < POINTS; i++) {
            double v = lo + (hi - lo) * i / (POINTS - 1);
            x64[i] = v, x32[i] = (float)v;
        }
        int status = dtype == F64 ? ct_activation_forward_f64(CT_ACTIVATION_GELU, POINTS, x64, y64, 0, 0, 0)
                                  : ct_activation_forward_f32(CT_ACTIVATION_GELU, POINTS, x32, y32, 0, 0, 0);
        check(status == CT_OK, "gelu accuracy: status");
        double worst = 0, worst_x = 0;
        for (int i = 0; i < POINTS; i++) {
            double v = dtype == F64 ? x64[i] : x32[i], got = dtype == F64 ? y64[i] : y32[i];
            double want = v * normal_cdf_ref(v), error = fabs(got - want) / (dtype_eps(dtype) * fabs(want));
            if (want != 0 && error > worst) worst = error, worst_x = v;
        }
        check(worst <= 8, "gelu %s: relative error %.2f eps at x = %.17g, want <= 8", dtype_name[dtype], worst, worst_x);
    }
}

static void test_gelu_special_values(void)
{
    float x[6] = {NAN, INFINITY, -INFINITY, -0.0f, 1000, -1000}, y[6];
    check(ct_activation_forward_f32(CT_ACTIVATION_GELU, 6, x, y, 1, 1, 1) == CT_OK, "gelu status");
    /* -inf Phi(-inf) = -inf * 0, NaN as in PyTorch */
    check(isnan(y[0]) && y[1] == INFINITY && isnan(y[2]) && y[3] == 0 && signbit(y[3]) && y[4] == 1000 &&
              y[5] == 0 && signbit(y[5]),
          "gelu of NaN, inf, -inf, -0, 1000, -1000");
    double xd[6] = {NAN, INFINITY, -INFINITY, -0.0, 1e300, -1e300}, yd[6];
    check(ct_activation_backward_f64(CT_ACTIVATION_GELU, 6, xd, (double[6]){1, 1, 1, 1, 1, 1}, yd, 1, 1, 1) == CT_OK,
          "gelu backward status");
    check(isnan(yd[0]) && isnan(yd[1]) && isnan(yd[2]) && yd[3] == 0.5 && yd[4] == 1 && yd[5] == 0,
          "gelu backward of NaN, inf, -inf, -0, 1e300, -1e300");
}

static void test_activation_special_values(void)
{
    float x[4] = {NAN, INFINITY, -INFINITY, -0.0f}, y[4];
    check(ct_activation_forward_f32(CT_ACTIVATION_SIGMOID, 4, x, y, 1, 1, 1) == CT_OK, "sigmoid status");
    check(isnan(y[0]) && y[1] == 1 && y[2] == 0 && y[3] == 0.5f, "sigmoid of NaN, inf, -inf, -0");
    check(ct_activation_forward_f32(CT_ACTIVATION_TANH, 4, x, y, 1, 1, 1) == CT_OK, "tanh status");
    check(isnan(y[0]) && y[1] == 1 && y[2] == -1 && y[3] == 0 && signbit(y[3]), "tanh of NaN, inf, -inf, -0");
    check(ct_activation_forward_f32(CT_ACTIVATION_ELU, 4, x, y, 1, 1, 1) == CT_OK, "elu status");
    check(isnan(y[0]) && isinf(y[1]) && y[2] == -1 && signbit(y[3]), "elu of NaN, inf, -inf, -0");
}

static void test_activation_errors(void)
{
    float x[2] = {0, 1}, y[2];
    check(ct_activation_forward_f32(-1, 2, x, y, 1, 1, 1) == CT_ERR_INVALID_ARGUMENT, "unknown kind -1");
    check(ct_activation_forward_f32(CT_ACTIVATION_RELU + 1, 2, x, y, 1, 1, 1) == CT_ERR_INVALID_ARGUMENT,
          "unknown kind past the last");
    check(ct_activation_forward_f32(CT_ACTIVATION_TANH, -1, x, y, 1, 1, 1) == CT_ERR_INVALID_ARGUMENT, "n < 0");
    check(ct_activation_forward_f32(CT_ACTIVATION_TANH, 2, NULL, y, 1, 1, 1) == CT_ERR_INVALID_ARGUMENT, "NULL x");
    check(ct_activation_backward_f32(CT_ACTIVATION_TANH, 2, x, NULL, y, 1, 1, 1) == CT_ERR_INVALID_ARGUMENT,
          "NULL dy");
    check(ct_activation_forward_f64(CT_ACTIVATION_TANH, 0, NULL, NULL, 1, 1, 1) == CT_OK, "n = 0 touches nothing");
}

/* ---------------------------------------------------------------- cross entropy */

static int call_cross_entropy(int dtype, int backward, int64_t outer, int64_t classes, int64_t inner, const void *x,
                              const int64_t *target, const void *weight, double smoothing, void *loss_or_dx,
                              double *lse, const void *grad, double *sums)
{
    const int64_t ignore = -1;
    if (dtype == F64)
        return backward ? ct_cross_entropy_backward_f64(outer, classes, inner, x, target, weight, ignore, smoothing,
                                                        lse, grad, loss_or_dx)
                        : ct_cross_entropy_forward_f64(outer, classes, inner, x, target, weight, ignore, smoothing,
                                                       loss_or_dx, lse, sums);
    return backward ? ct_cross_entropy_backward_f32(outer, classes, inner, x, target, weight, ignore, smoothing, lse,
                                                    grad, loss_or_dx)
                    : ct_cross_entropy_forward_f32(outer, classes, inner, x, target, weight, ignore, smoothing,
                                                   loss_or_dx, lse, sums);
}

/*
 * (outer, classes, inner) logits in [-30, 30], targets with some ignored (-1), optional weights and
 * smoothing: loss and dx against the formulas in double, 1 and 2
 * threads bit-identical, nothing written past the outputs.
 */
static void check_cross_entropy(int dtype, int64_t outer, int64_t classes, int64_t inner, int weighted,
                                double smoothing)
{
    int64_t one = 1, rows = outer * inner, count = rows * classes, padded_count = count + 1, padded_rows = rows + 1;
    tensor x, weight, grad, loss1, loss2, dx1, dx2;
    tensor_init(&x, dtype, 1, &count, &one);
    tensor_init(&weight, dtype, 1, &classes, &one);
    tensor_init(&grad, dtype, 1, &rows, &one);
    tensor_init(&loss1, dtype, 1, &padded_rows, &one);
    tensor_init(&loss2, dtype, 1, &padded_rows, &one);
    tensor_init(&dx1, dtype, 1, &padded_count, &one);
    tensor_init(&dx2, dtype, 1, &padded_count, &one);
    int64_t *target = malloc((size_t)rows * sizeof *target);
    double *lse = malloc((size_t)rows * sizeof *lse), sums[2][2];
    for (int64_t i = 0; i < count; i++) store_at(&x, i, 30 * rng_uniform());
    for (int64_t c = 0; c < classes; c++) store_at(&weight, c, 1.25 + rng_uniform());
    for (int64_t r = 0; r < rows; r++) {
        target[r] = rng_int(0, 4) == 0 ? -1 : rng_int(0, classes - 1);
        store_at(&grad, r, rng_uniform());
    }
    const void *w = weighted ? weight.alloc : NULL;
    store_at(&loss1, rows, 777), store_at(&dx1, count, 777);
    int status = 0;
    for (int threads = 1; threads <= 2; threads++) {
        ct_set_num_threads(threads);
        tensor *loss = threads == 1 ? &loss1 : &loss2, *dx = threads == 1 ? &dx1 : &dx2;
        status |= call_cross_entropy(dtype, 0, outer, classes, inner, x.alloc, target, w, smoothing, loss->alloc, lse,
                                     NULL, sums[threads - 1]);
        status |= call_cross_entropy(dtype, 1, outer, classes, inner, x.alloc, target, w, smoothing, dx->alloc, lse,
                                     grad.alloc, NULL);
    }
    ct_set_num_threads(1);
    check(status == CT_OK, "cross entropy (%lld, %lld, %lld): status", (long long)outer, (long long)classes,
          (long long)inner);
    check(memcmp(loss1.alloc, loss2.alloc, (size_t)rows * dtype_size(dtype)) == 0 &&
              memcmp(dx1.alloc, dx2.alloc, (size_t)count * dtype_size(dtype)) == 0,
          "cross entropy: 1 and 2 threads differ");
    check(load_at(&loss1, rows) == 777 && load_at(&dx1, count) == 777, "cross entropy: wrote past the outputs");
    check(memcmp(sums[0], sums[1], sizeof sums[0]) == 0, "cross entropy: sums differ between 1 and 2 threads");
    int64_t bad = 0;
    double tolerance = 64 * dtype_eps(dtype), loss_sum = 0, weight_total = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t base = (r / inner) * classes * inner + r % inner, t = target[r];
        double m = -INFINITY, sum = 0, weight_sum = 0, smooth = 0;
        for (int64_t c = 0; c < classes; c++) m = fmax(m, load_at(&x, base + c * inner));
        for (int64_t c = 0; c < classes; c++) sum += exp(load_at(&x, base + c * inner) - m);
        double row_lse = m + log(sum);
        for (int64_t c = 0; c < classes; c++) {
            double wc = weighted ? load_at(&weight, c) : 1;
            weight_sum += wc;
            smooth += wc * (row_lse - load_at(&x, base + c * inner));
        }
        double wt = t < 0 ? 0 : weighted ? load_at(&weight, t) : 1;
        double want = t < 0 ? 0 : (1 - smoothing) * wt * (row_lse - load_at(&x, base + t * inner))
                                  + smoothing / (double)classes * smooth;
        if (!(fabs(load_at(&loss1, r) - want) <= tolerance * (fabs(want) + 1))) bad++;
        loss_sum += load_at(&loss1, r), weight_total += wt;
        double g = load_at(&grad, r), total = (1 - smoothing) * wt + smoothing / (double)classes * weight_sum;
        for (int64_t c = 0; c < classes; c++) {
            double wc = weighted ? load_at(&weight, c) : 1;
            double p = exp(load_at(&x, base + c * inner) - row_lse);
            double target_part = c == t ? (1 - smoothing) * wt : 0;
            double want_dx = t < 0 ? 0 : g * (total * p - smoothing / (double)classes * wc - target_part);
            if (!(fabs(load_at(&dx1, base + c * inner) - want_dx) <= tolerance * (fabs(want_dx) + 1))) bad++;
        }
    }
    check(sums[0][0] == loss_sum && fabs(sums[0][1] - weight_total) <= 1e-12 * weight_total,
          "cross entropy: sums[] are the loss sum and the weight of the rows not ignored");
    check(bad == 0, "cross entropy (%lld, %lld, %lld) %s: %lld values off", (long long)outer, (long long)classes,
          (long long)inner, dtype_name[dtype], (long long)bad);
    tensor_free(&x), tensor_free(&weight), tensor_free(&grad), tensor_free(&loss1), tensor_free(&loss2);
    tensor_free(&dx1), tensor_free(&dx2), free(target), free(lse);
}

static void test_cross_entropy(void)
{
    static const int64_t shapes[][3] = {{1, 1, 1}, {5, 3, 1}, {4, 7, 3}, {2, 1, 5}, {257, 10, 1}, {300, 1000, 1}};
    for (int dtype = F32; dtype <= F64; dtype++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            for (int weighted = 0; weighted <= 1; weighted++)
                check_cross_entropy(dtype, shapes[s][0], shapes[s][1], shapes[s][2], weighted, weighted ? 0.2 : 0);
}

static void test_cross_entropy_errors(void)
{
    float x[6] = {0, 1, 2, 3, 4, 5}, loss[2], dx[6], g[2] = {1, 1};
    double lse[2], sums[2];
    int64_t good[2] = {0, 2}, too_big[2] = {0, 3}, negative[2] = {-2, 0};
    check(ct_cross_entropy_forward_f32(2, 3, 1, x, good, NULL, -100, 0, loss, lse, sums) == CT_OK, "valid call");
    check(ct_cross_entropy_forward_f32(2, 3, 1, x, too_big, NULL, -100, 0, loss, lse, sums) == CT_ERR_INVALID_ARGUMENT,
          "target == classes is rejected");
    check(ct_cross_entropy_backward_f32(2, 3, 1, x, negative, NULL, -100, 0, lse, g, dx) == CT_ERR_INVALID_ARGUMENT,
          "a negative target that is not ignore_index is rejected");
    check(ct_cross_entropy_forward_f32(2, 3, 1, x, negative, NULL, -2, 0, loss, lse, sums) == CT_OK,
          "a negative ignore_index is accepted");
    check(ct_cross_entropy_forward_f32(2, 0, 1, x, good, NULL, -100, 0, loss, lse, sums) == CT_ERR_INVALID_ARGUMENT,
          "0 classes");
    check(ct_cross_entropy_forward_f32(2, 3, 1, x, good, NULL, -100, 1.5, loss, lse, sums) == CT_ERR_INVALID_ARGUMENT,
          "label smoothing above 1");
    check(ct_cross_entropy_forward_f32(2, 3, 1, x, good, NULL, -100, NAN, loss, lse, sums) == CT_ERR_INVALID_ARGUMENT,
          "NaN label smoothing");
    check(ct_cross_entropy_forward_f32(2, 3, 1, NULL, good, NULL, -100, 0, loss, lse, sums) == CT_ERR_INVALID_ARGUMENT,
          "NULL x");
    check(ct_cross_entropy_forward_f32(2, 3, 1, x, good, NULL, -100, 0, loss, lse, NULL) == CT_ERR_INVALID_ARGUMENT,
          "NULL sums");
    check(ct_cross_entropy_backward_f32(2, 3, 1, x, good, NULL, -100, 0, lse, NULL, dx) == CT_ERR_INVALID_ARGUMENT,
          "NULL grad");
    check(ct_cross_entropy_forward_f32(0, 3, 1, NULL, NULL, NULL, -100, 0, NULL, NULL, NULL) == CT_OK,
          "no rows touch nothing");
}

/* ---------------------------------------------------------------- optimizers */

enum { OPT_TENSORS = 4 };
static const int64_t opt_sizes[OPT_TENSORS] = {0, 1, 17, 40000}; /* empty, tiny, odd, several work units */
static const uint8_t opt_fresh[OPT_TENSORS] = {1, 0, 1, 0};      /* SGD buffers that start as g */
static const int64_t opt_steps[OPT_TENSORS] = {1, 2, 3, 4};      /* Adam step numbers */

/* Parameters and every state buffer of the two steps below, for OPT_TENSORS tensors. */
typedef struct {
    double *p[OPT_TENSORS], *buf[OPT_TENSORS], *m[OPT_TENSORS], *v[OPT_TENSORS], *vmax[OPT_TENSORS];
} opt_tensors;

/* The same values for the same seed: p, buf, m in [-1, 1), v and vmax in [1, 3). */
static void opt_init(opt_tensors *t, uint64_t seed)
{
    rng_state = seed;
    double **lists[5] = {t->p, t->buf, t->m, t->v, t->vmax};
    for (int q = 0; q < 5; q++)
        for (int i = 0; i < OPT_TENSORS; i++) {
            lists[q][i] = malloc((size_t)(opt_sizes[i] + 1) * sizeof(double));
            for (int64_t e = 0; e < opt_sizes[i]; e++) lists[q][i][e] = (q >= 3 ? 2 : 0) + rng_uniform();
        }
}

static void opt_free(opt_tensors *t)
{
    double **lists[5] = {t->p, t->buf, t->m, t->v, t->vmax};
    for (int q = 0; q < 5; q++)
        for (int i = 0; i < OPT_TENSORS; i++) free(lists[q][i]);
}

static const ct_optimizer_settings opt_sgd = {.lr = 0.1, .momentum = 0.9, .dampening = 0.2, .weight_decay = 0.01};
static const ct_optimizer_settings opt_adam = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .amsgrad = 1};

/* An SGD step (momentum, dampening, weight decay), then an AMSGrad Adam step. */
static int opt_run(opt_tensors *t, double *const *g, int threads)
{
    ct_set_num_threads(threads);
    const double *const *grads = (const double *const *)g;
    int status = ct_optimizer_step_f64(CT_OPTIMIZER_SGD, OPT_TENSORS, t->p, grads, t->buf, NULL, NULL, opt_sizes,
                                       NULL, opt_fresh, &opt_sgd);
    status |= ct_optimizer_step_f64(CT_OPTIMIZER_ADAM, OPT_TENSORS, t->p, grads, t->m, t->v, t->vmax, opt_sizes,
                                    opt_steps, NULL, &opt_adam);
    ct_set_num_threads(1);
    return status;
}

/* The two steps written out per element, in double, from `initial`. */
static double opt_expected(const opt_tensors *initial, double g, int i, int64_t e)
{
    double x = initial->p[i][e], decayed = g + 0.01 * x;
    double b = opt_fresh[i] ? decayed : 0.9 * initial->buf[i][e] + 0.8 * decayed;
    x -= 0.1 * b;
    double t = (double)opt_steps[i], m = initial->m[i][e] + 0.1 * (g - initial->m[i][e]);
    double v = 0.999 * initial->v[i][e] + 0.001 * g * g, vmax = fmax(initial->vmax[i][e], v);
    return x - 0.01 / (1 - pow(0.9, t)) * m / (sqrt(vmax) / sqrt(1 - pow(0.999, t)) + 1e-8);
}

static void test_optimizer_steps(void)
{
    opt_tensors one_thread, two_threads, initial;
    opt_init(&one_thread, 7), opt_init(&two_threads, 7), opt_init(&initial, 7);
    double *g[OPT_TENSORS];
    for (int i = 0; i < OPT_TENSORS; i++) {
        g[i] = malloc((size_t)(opt_sizes[i] + 1) * sizeof(double));
        for (int64_t e = 0; e < opt_sizes[i]; e++) g[i][e] = rng_uniform();
    }
    check(opt_run(&one_thread, g, 1) == CT_OK && opt_run(&two_threads, g, 2) == CT_OK, "optimizer steps: status");
    int64_t bad = 0, differ = 0;
    for (int i = 0; i < OPT_TENSORS; i++)
        for (int64_t e = 0; e < opt_sizes[i]; e++) {
            double want = opt_expected(&initial, g[i][e], i, e), got = one_thread.p[i][e];
            bad += !(fabs(got - want) <= 1e-14 * (1 + fabs(want)));
            differ += memcmp(&got, &two_threads.p[i][e], sizeof got) != 0;
        }
    check(bad == 0, "optimizer steps: %lld parameters off the written-out rules", (long long)bad);
    check(differ == 0, "optimizer steps: %lld parameters differ between 1 and 2 threads", (long long)differ);
    for (int i = 0; i < OPT_TENSORS; i++) free(g[i]);
    opt_free(&one_thread), opt_free(&two_threads), opt_free(&initial);
}

static void test_optimizer_errors(void)
{
    float p0[2] = {1, 2}, g0[2] = {1, 1}, s0[2] = {0, 0};
    float *p[1] = {p0}, *s[1] = {s0}, *missing[1] = {NULL};
    const float *g[1] = {g0};
    int64_t size[1] = {2}, negative[1] = {-1}, step[1] = {1}, step0[1] = {0};
    ct_optimizer_settings sgd = {.lr = 0.1, .momentum = 0.9}, adagrad = {.lr = 0.1, .eps = 1e-10};
    check(ct_optimizer_step_f32(CT_OPTIMIZER_SGD, 1, p, g, s, NULL, NULL, size, NULL, NULL, &sgd) == CT_OK,
          "valid SGD step");
    check(ct_optimizer_step_f32(CT_OPTIMIZER_SGD, 1, p, g, NULL, NULL, NULL, size, NULL, NULL, &sgd) ==
              CT_ERR_INVALID_ARGUMENT, "momentum without buffers");
    check(ct_optimizer_step_f32(CT_OPTIMIZER_SGD, 1, p, g, missing, NULL, NULL, size, NULL, NULL, &sgd) ==
              CT_ERR_INVALID_ARGUMENT, "a NULL momentum buffer");
    check(ct_optimizer_step_f32(CT_OPTIMIZER_SGD, 1, p, g, s, NULL, NULL, negative, NULL, NULL, &sgd) ==
              CT_ERR_INVALID_ARGUMENT, "a negative size");
    check(ct_optimizer_step_f32(CT_OPTIMIZER_ADAGRAD, 1, p, g, s, NULL, NULL, size, NULL, NULL, &adagrad) ==
              CT_ERR_INVALID_ARGUMENT, "Adagrad without step counts");
    check(ct_optimizer_step_f32(CT_OPTIMIZER_ADAGRAD, 1, p, g, s, NULL, NULL, size, step0, NULL, &adagrad) ==
              CT_ERR_INVALID_ARGUMENT, "step 0");
    check(ct_optimizer_step_f32(CT_OPTIMIZER_ADAGRAD, 1, p, g, s, NULL, NULL, size, step, NULL, &adagrad) == CT_OK,
          "valid Adagrad step");
    check(ct_optimizer_step_f32(7, 1, p, g, s, s, s, size, step, NULL, &adagrad) == CT_ERR_INVALID_ARGUMENT,
          "unknown kind");
    check(ct_optimizer_step_f32(CT_OPTIMIZER_SGD, 1, p, g, s, NULL, NULL, size, NULL, NULL, NULL) ==
              CT_ERR_INVALID_ARGUMENT, "NULL settings");
}

/* ---------------------------------------------------------------- normalization */

/* A dense array of `count` elements with its own allocation (ASan sees any overrun). */
static tensor dense_array(int dtype, int64_t count)
{
    tensor t;
    int64_t shape[1] = {count}, strides[1] = {1};
    tensor_init(&t, dtype, 1, shape, strides);
    return t;
}

static tensor dense_copy(const tensor *source)
{
    tensor t = dense_array(source->dtype, source->count);
    if (t.span > 0) memcpy(t.alloc, source->alloc, (size_t)t.span * dtype_size(t.dtype));
    return t;
}

/* What one run of a forward + backward writes; every field is a dense array. */
typedef struct {
    tensor y, mean, rstd, running_mean, running_var, dx, dweight, dbias;
} norm_outputs;

static void norm_outputs_free(norm_outputs *o)
{
    tensor *all[] = {&o->y, &o->mean, &o->rstd, &o->running_mean, &o->running_var, &o->dx, &o->dweight, &o->dbias};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tensor_free(all[i]);
}

static int norm_outputs_same(const norm_outputs *a, const norm_outputs *b)
{
    return same_bytes(&a->y, &b->y) && same_bytes(&a->mean, &b->mean) && same_bytes(&a->rstd, &b->rstd) &&
           same_bytes(&a->running_mean, &b->running_mean) && same_bytes(&a->running_var, &b->running_var) &&
           same_bytes(&a->dx, &b->dx) && same_bytes(&a->dweight, &b->dweight) && same_bytes(&a->dbias, &b->dbias);
}

static void *data_or_null(const tensor *t, int present) { return present ? tensor_data(t) : NULL; }

/* Fresh outputs: gradients filled with the sentinel, running statistics copied (or empty when NULL). */
static void norm_outputs_init(norm_outputs *o, int dtype, int64_t total, int64_t statistics, int64_t channels,
                              const tensor *running_mean, const tensor *running_var)
{
    o->y = dense_array(dtype, total), o->dx = dense_array(dtype, total);
    o->mean = dense_array(dtype, statistics), o->rstd = dense_array(dtype, statistics);
    o->dweight = dense_array(dtype, channels), o->dbias = dense_array(dtype, channels);
    o->running_mean = running_mean ? dense_copy(running_mean) : dense_array(dtype, 0);
    o->running_var = running_var ? dense_copy(running_var) : dense_array(dtype, 0);
    tensor_fill(&o->dx, SENTINEL), tensor_fill(&o->dweight, SENTINEL), tensor_fill(&o->dbias, SENTINEL);
}

/* The reference's values and the magnitudes that bound their rounding (see reference_block). */
typedef struct {
    double *y, *y_mag, *dx, *dx_mag;     /* per element */
    double *dw, *dw_mag, *db, *db_mag;   /* per channel, zeroed: reference_block adds to them */
} norm_expected;

static norm_expected norm_expected_alloc(int64_t total, int64_t channels)
{
    size_t big = (size_t)total * sizeof(double) + 1, small = (size_t)channels * sizeof(double) + 1;
    norm_expected e = {malloc(big), malloc(big), malloc(big), malloc(big),
                       calloc(1, small), calloc(1, small), calloc(1, small), calloc(1, small)};
    return e;
}

static void norm_expected_free(norm_expected *e)
{
    double *all[] = {e->y, e->y_mag, e->dx, e->dx_mag, e->dw, e->dw_mag, e->db, e->db_mag};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

/* Elements of `got` farther from `want` than tol * magnitude[i] (+ a tiny floor). */
static int64_t count_far(const tensor *got, const double *want, const double *magnitude, int64_t count, double tol)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < count; i++) {
        double g = load_at(got, i);
        if (!(fabs(g - want[i]) <= tol * magnitude[i] + 1e-300)) bad++;
    }
    return bad;
}

static double norm_tolerance(int dtype) { return dtype == F64 ? 1e-11 : 3e-5; }

/*
 * The reference for one block of `count` values that share statistics: values at x[offset(i)], i < count.
 * Writes the mean and biased variance (mean of squares for RMS), in double.
 */
static void reference_moments(const double *x, const int64_t *offsets, int64_t count, int centered, double *mean,
                              double *var)
{
    double sum = 0, squares = 0;
    for (int64_t i = 0; i < count; i++) sum += x[offsets[i]];
    *mean = centered ? sum / (double)count : 0;
    for (int64_t i = 0; i < count; i++) squares += (x[offsets[i]] - *mean) * (x[offsets[i]] - *mean);
    *var = squares / (double)count;
}

/*
 * Forward and backward of one block against the three-term formula in double:
 * y = gamma*xhat + beta, dx = rstd*(g - mean(g) - xhat*mean(g*xhat)) with g = gamma*dy (mean(g) only when
 * centered; no mean terms at all when not batch_stats), and the block's dweight/dbias terms added to
 * dweight/dbias[channel(i)]. Magnitudes (sums of absolute terms) bound the rounding error of each; a mean
 * taken from the block is itself a sum, whose terms come to mean(|x|).
 */
typedef struct {
    const double *x, *dy, *weight, *bias; /* weight/bias: per channel; NULL = 1 / 0 */
    double eps;
    int centered, batch_stats;
} norm_reference;

static void reference_block(const norm_reference *ref, const int64_t *offsets, const int64_t *channel, int64_t count,
                            double mean, double rstd, norm_expected *e)
{
    double *y = e->y, *y_mag = e->y_mag, *dx = e->dx, *dx_mag = e->dx_mag;
    double *dweight = e->dw, *dweight_mag = e->dw_mag, *dbias = e->db, *dbias_mag = e->db_mag;
    double sum_g = 0, sum_gx = 0, mag_g = 0, mag_gx = 0, mean_mag = 0;
    if (ref->batch_stats && ref->centered) {
        for (int64_t i = 0; i < count; i++) mean_mag += fabs(ref->x[offsets[i]]);
        mean_mag /= (double)count;
    } else {
        mean_mag = fabs(mean);
    }
    for (int64_t i = 0; i < count; i++) {
        int64_t o = offsets[i], c = channel[i];
        double gamma = ref->weight ? ref->weight[c] : 1, beta = ref->bias ? ref->bias[c] : 0;
        double xhat = (ref->x[o] - mean) * rstd, g = gamma * ref->dy[o];
        y[o] = gamma * xhat + beta;
        y_mag[o] = (fabs(ref->x[o]) + mean_mag) * rstd * fabs(gamma) + fabs(beta);
        sum_g += g, sum_gx += g * xhat;
        mag_g += fabs(g), mag_gx += fabs(g * xhat);
        dweight[c] += ref->dy[o] * xhat, dweight_mag[c] += fabs(ref->dy[o]) * (fabs(ref->x[o]) + mean_mag) * rstd;
        dbias[c] += ref->dy[o], dbias_mag[c] += fabs(ref->dy[o]);
    }
    double m = (double)count;
    for (int64_t i = 0; i < count; i++) {
        int64_t o = offsets[i], c = channel[i];
        double gamma = ref->weight ? ref->weight[c] : 1, g = gamma * ref->dy[o];
        double xhat = (ref->x[o] - mean) * rstd, xhat_mag = (fabs(ref->x[o]) + mean_mag) * rstd;
        dx[o] = rstd * g, dx_mag[o] = rstd * fabs(g);
        if (ref->batch_stats) {
            if (ref->centered) dx[o] -= rstd * sum_g / m, dx_mag[o] += rstd * mag_g / m;
            dx[o] -= rstd * xhat * sum_gx / m, dx_mag[o] += rstd * xhat_mag * mag_gx / m;
        }
    }
}

static int call_batch_norm_forward(int dtype, int64_t n, int64_t c, int64_t s, const tensor *x, const void *weight,
                                   const void *bias, double eps, int batch_stats, void *running_mean,
                                   void *running_var, double momentum, norm_outputs *o)
{
    if (dtype == F64)
        return ct_batch_norm_forward_f64(n, c, s, tensor_data(x), weight, bias, eps, batch_stats, running_mean,
                                         running_var, momentum, tensor_data(&o->y), tensor_data(&o->mean),
                                         tensor_data(&o->rstd));
    return ct_batch_norm_forward_f32(n, c, s, tensor_data(x), weight, bias, eps, batch_stats, running_mean,
                                     running_var, momentum, tensor_data(&o->y), tensor_data(&o->mean),
                                     tensor_data(&o->rstd));
}

static int call_batch_norm_backward(int dtype, int64_t n, int64_t c, int64_t s, const tensor *x, const tensor *dy,
                                    const void *weight, int batch_stats, unsigned wants, norm_outputs *o)
{
    void *dx = data_or_null(&o->dx, wants & 1), *dw = data_or_null(&o->dweight, wants & 2);
    void *db = data_or_null(&o->dbias, wants & 4);
    if (dtype == F64)
        return ct_batch_norm_backward_f64(n, c, s, tensor_data(x), tensor_data(dy), tensor_data(&o->mean),
                                          tensor_data(&o->rstd), weight, batch_stats, dx, dw, db);
    return ct_batch_norm_backward_f32(n, c, s, tensor_data(x), tensor_data(dy), tensor_data(&o->mean),
                                      tensor_data(&o->rstd), weight, batch_stats, dx, dw, db);
}

/* Compares one run with the reference: y, mean, rstd, running statistics, and the wanted gradients. */
static void check_norm_values(const char *what, int dtype, const norm_outputs *o, unsigned wants, int64_t total,
                              int64_t channels, const norm_expected *e)
{
    double tol = norm_tolerance(dtype);
    check(count_far(&o->y, e->y, e->y_mag, total, tol) == 0, "%s: y", what);
    if (wants & 1) check(count_far(&o->dx, e->dx, e->dx_mag, total, tol) == 0, "%s: dx", what);
    if (wants & 2) check(count_far(&o->dweight, e->dw, e->dw_mag, channels, tol) == 0, "%s: dweight", what);
    if (wants & 4) check(count_far(&o->dbias, e->db, e->db_mag, channels, tol) == 0, "%s: dbias", what);
}

/*
 * Batch norm over (n, channels, spatial), forward then backward, with 1 and 2 threads (same bytes)
 * against the reference; running statistics updated (batch_stats with `running`) or used (eval).
 */
static void check_batch_norm(int dtype, int64_t n, int64_t channels, int64_t spatial, int affine, int batch_stats,
                             int running, unsigned wants)
{
    int64_t total = n * channels * spatial, count = n * spatial;
    double eps = 1e-5, momentum = 0.3;
    running = running || !batch_stats;
    tensor x = dense_array(dtype, total), dy = dense_array(dtype, total), weight = dense_array(dtype, channels),
           bias = dense_array(dtype, channels), running_mean = dense_array(dtype, channels),
           running_var = dense_array(dtype, channels);
    tensor_fill_random(&x, 0);
    tensor_fill_random(&dy, 0);
    tensor_fill_random(&weight, 0);
    tensor_fill_random(&bias, 0);
    tensor_fill_random(&running_mean, 0);
    for (int64_t c = 0; c < channels; c++) store_at(&running_var, c, 1.0 + 0.5 * rng_uniform());
    double *xd = tensor_to_dense(&x), *dyd = tensor_to_dense(&dy), *wd = tensor_to_dense(&weight),
           *bd = tensor_to_dense(&bias), *rmd = tensor_to_dense(&running_mean), *rvd = tensor_to_dense(&running_var);

    norm_expected expected = norm_expected_alloc(total, channels);
    size_t small = (size_t)channels * sizeof(double) + 1;
    double *rm_want = malloc(small), *rv_want = malloc(small), *ones = malloc(small);
    int64_t *offsets = malloc((size_t)count * sizeof *offsets + 1), *channel = malloc((size_t)count * sizeof *channel + 1);
    norm_reference ref = {xd, dyd, affine ? wd : NULL, affine ? bd : NULL, eps, 1, batch_stats};
    for (int64_t c = 0; c < channels; c++) {
        for (int64_t r = 0; r < n; r++)
            for (int64_t s = 0; s < spatial; s++)
                offsets[r * spatial + s] = (r * channels + c) * spatial + s, channel[r * spatial + s] = c;
        double mean, var;
        reference_moments(xd, offsets, count, 1, &mean, &var);
        double unbiased = count > 1 ? var * (double)count / (double)(count - 1) : var;
        rm_want[c] = batch_stats ? (1 - momentum) * rmd[c] + momentum * mean : rmd[c];
        rv_want[c] = batch_stats ? (1 - momentum) * rvd[c] + momentum * unbiased : rvd[c];
        ones[c] = fabs(rm_want[c]) + fabs(rv_want[c]);
        if (!batch_stats) mean = rmd[c], var = rvd[c];
        reference_block(&ref, offsets, channel, count, mean, 1 / sqrt(var + eps), &expected);
    }

    norm_outputs runs[2];
    int status[2][2];
    for (int t = 0; t < 2; t++) {
        norm_outputs *o = &runs[t];
        norm_outputs_init(o, dtype, total, channels, channels, &running_mean, &running_var);
        ct_set_num_threads(t + 1);
        status[t][0] = call_batch_norm_forward(dtype, n, channels, spatial, &x, data_or_null(&weight, affine),
                                               data_or_null(&bias, affine), eps, batch_stats,
                                               data_or_null(&o->running_mean, running),
                                               data_or_null(&o->running_var, running), momentum, o);
        status[t][1] = call_batch_norm_backward(dtype, n, channels, spatial, &x, &dy, data_or_null(&weight, affine),
                                                batch_stats, wants, o);
    }
    ct_set_num_threads(1);

    char what[200];
    snprintf(what, sizeof what, "batch_norm %s n=%lld c=%lld s=%lld affine=%d batch_stats=%d running=%d wants=%u",
             dtype_name[dtype], (long long)n, (long long)channels, (long long)spatial, affine, batch_stats, running,
             wants);
    check(status[0][0] == CT_OK && status[0][1] == CT_OK && status[1][0] == CT_OK && status[1][1] == CT_OK,
          "%s: status %d %d / %d %d", what, status[0][0], status[0][1], status[1][0], status[1][1]);
    check(norm_outputs_same(&runs[0], &runs[1]), "%s: 1 and 2 threads differ", what);
    check_norm_values(what, dtype, &runs[0], wants, total, channels, &expected);
    if (running) {
        check(count_far(&runs[0].running_mean, rm_want, ones, channels, norm_tolerance(dtype)) == 0 &&
                  count_far(&runs[0].running_var, rv_want, ones, channels, norm_tolerance(dtype)) == 0,
              "%s: running statistics", what);
    }
    if (!(wants & 1)) check(load_at(&runs[0].dx, 0) == SENTINEL || total == 0, "%s: dx written though not wanted", what);

    for (int t = 0; t < 2; t++) norm_outputs_free(&runs[t]);
    tensor *inputs[] = {&x, &dy, &weight, &bias, &running_mean, &running_var};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) tensor_free(inputs[i]);
    double *scratch[] = {xd, dyd, wd, bd, rmd, rvd, rm_want, rv_want, ones};
    for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++) free(scratch[i]);
    norm_expected_free(&expected);
    free(offsets);
    free(channel);
}

static int call_group_norm_forward(int dtype, int64_t n, int64_t g, int64_t k, int64_t s, int centered,
                                   const tensor *x, const void *weight, const void *bias, double eps, norm_outputs *o)
{
    if (dtype == F64)
        return ct_group_norm_forward_f64(n, g, k, s, centered, tensor_data(x), weight, bias, eps, tensor_data(&o->y),
                                         tensor_data(&o->mean), tensor_data(&o->rstd));
    return ct_group_norm_forward_f32(n, g, k, s, centered, tensor_data(x), weight, bias, eps, tensor_data(&o->y),
                                     tensor_data(&o->mean), tensor_data(&o->rstd));
}

static int call_group_norm_backward(int dtype, int64_t n, int64_t g, int64_t k, int64_t s, int centered,
                                    const tensor *x, const tensor *dy, const void *weight, unsigned wants,
                                    norm_outputs *o)
{
    void *dx = data_or_null(&o->dx, wants & 1), *dw = data_or_null(&o->dweight, wants & 2);
    void *db = data_or_null(&o->dbias, wants & 4);
    if (dtype == F64)
        return ct_group_norm_backward_f64(n, g, k, s, centered, tensor_data(x), tensor_data(dy), tensor_data(&o->mean),
                                          tensor_data(&o->rstd), weight, dx, dw, db);
    return ct_group_norm_backward_f32(n, g, k, s, centered, tensor_data(x), tensor_data(dy), tensor_data(&o->mean),
                                      tensor_data(&o->rstd), weight, dx, dw, db);
}

/* Group norm over (n, groups, per_group, spatial) rows: as check_batch_norm, per (sample, group) row. */
static void check_group_norm(int dtype, int64_t n, int64_t groups, int64_t per_group, int64_t spatial, int centered,
                             int affine, unsigned wants)
{
    int64_t channels = groups * per_group, len = per_group * spatial, rows = n * groups, total = rows * len;
    double eps = 1e-5;
    tensor x = dense_array(dtype, total), dy = dense_array(dtype, total), weight = dense_array(dtype, channels),
           bias = dense_array(dtype, channels);
    tensor_fill_random(&x, 0);
    tensor_fill_random(&dy, 0);
    tensor_fill_random(&weight, 0);
    tensor_fill_random(&bias, 0);
    double *xd = tensor_to_dense(&x), *dyd = tensor_to_dense(&dy), *wd = tensor_to_dense(&weight),
           *bd = tensor_to_dense(&bias);
    norm_expected expected = norm_expected_alloc(total, channels);
    int64_t *offsets = malloc((size_t)len * sizeof *offsets + 1), *channel = malloc((size_t)len * sizeof *channel + 1);
    norm_reference ref = {xd, dyd, affine ? wd : NULL, affine ? bd : NULL, eps, centered, 1};
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < len; j++) offsets[j] = r * len + j, channel[j] = (r % groups) * per_group + j / spatial;
        double mean, var;
        reference_moments(xd, offsets, len, centered, &mean, &var);
        reference_block(&ref, offsets, channel, len, mean, 1 / sqrt(var + eps), &expected);
    }

    norm_outputs runs[2];
    int status[2][2];
    for (int t = 0; t < 2; t++) {
        norm_outputs *o = &runs[t];
        norm_outputs_init(o, dtype, total, rows, channels, NULL, NULL);
        ct_set_num_threads(t + 1);
        status[t][0] = call_group_norm_forward(dtype, n, groups, per_group, spatial, centered, &x,
                                               data_or_null(&weight, affine), data_or_null(&bias, affine), eps, o);
        status[t][1] = call_group_norm_backward(dtype, n, groups, per_group, spatial, centered, &x, &dy,
                                                data_or_null(&weight, affine), wants, o);
    }
    ct_set_num_threads(1);

    char what[200];
    snprintf(what, sizeof what, "group_norm %s n=%lld groups=%lld per_group=%lld s=%lld centered=%d affine=%d wants=%u",
             dtype_name[dtype], (long long)n, (long long)groups, (long long)per_group, (long long)spatial, centered,
             affine, wants);
    check(status[0][0] == CT_OK && status[0][1] == CT_OK && status[1][0] == CT_OK && status[1][1] == CT_OK,
          "%s: status %d %d / %d %d", what, status[0][0], status[0][1], status[1][0], status[1][1]);
    check(norm_outputs_same(&runs[0], &runs[1]), "%s: 1 and 2 threads differ", what);
    check_norm_values(what, dtype, &runs[0], wants, total, channels, &expected);
    if (!centered && rows > 0) check(load_at(&runs[0].mean, 0) == 0, "%s: RMS norm writes mean 0", what);

    for (int t = 0; t < 2; t++) norm_outputs_free(&runs[t]);
    tensor *inputs[] = {&x, &dy, &weight, &bias};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) tensor_free(inputs[i]);
    double *scratch[] = {xd, dyd, wd, bd};
    for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++) free(scratch[i]);
    norm_expected_free(&expected);
    free(offsets);
    free(channel);
}

/* A size for the norm tests: often 1 or a small prime, sometimes a few dozen. */
static int64_t norm_size(void)
{
    static const int64_t edges[] = {1, 2, 3, 5, 7, 13, 17, 31};
    return rng_int(0, 2) ? edges[rng_int(0, 7)] : rng_int(1, 70);
}

static void test_norm_random(void)
{
    for (int dtype = F32; dtype <= F64; dtype++)
        for (int trial = 0; trial < 120; trial++) {
            int64_t n = norm_size(), channels = norm_size(), spatial = rng_int(0, 1) ? 1 : norm_size();
            if (n * spatial == 1) n = 2; /* batch statistics need two values */
            unsigned wants = (unsigned)rng_int(0, 7);
            int affine = (int)rng_int(0, 1), batch_stats = (int)rng_int(0, 3) > 0;
            check_batch_norm(dtype, n, channels, spatial, affine, batch_stats, (int)rng_int(0, 1), wants);
            int64_t groups = rng_int(1, 4), per_group = norm_size();
            check_group_norm(dtype, norm_size(), groups, per_group, rng_int(0, 1) ? 1 : norm_size(),
                             (int)rng_int(0, 3) > 0, affine, wants);
        }
}

static void test_norm_large(void)
{
    /* Large enough for two threads: several channel tiles, long runs, several sample chunks. */
    for (int dtype = F32; dtype <= F64; dtype++) {
        check_batch_norm(dtype, 300, 257, 1, 1, 1, 1, 7);  /* column tiles, a ragged last one */
        check_batch_norm(dtype, 129, 600, 1, 1, 0, 1, 7);  /* eval, more channels than one tile holds */
        check_batch_norm(dtype, 5, 7, 2003, 1, 1, 1, 7);   /* long spatial runs */
        check_group_norm(dtype, 257, 1, 300, 1, 1, 1, 7);  /* layer norm rows, several chunks */
        check_group_norm(dtype, 67, 4, 3, 301, 1, 1, 7);   /* group norm */
        check_group_norm(dtype, 1031, 1, 67, 1, 0, 1, 3);  /* RMS norm */
    }
}

static void test_norm_errors(void)
{
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6], mean[3], rstd[3], rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1};
    const int E = CT_ERR_INVALID_ARGUMENT;
    check(ct_batch_norm_forward_f32(-1, 3, 1, x, NULL, NULL, 1e-5, 1, NULL, NULL, 0.1, y, mean, rstd) == E,
          "batch_norm: negative size");
    check(ct_batch_norm_forward_f32(2, 3, 1, x, NULL, NULL, -1, 1, NULL, NULL, 0.1, y, mean, rstd) == E,
          "batch_norm: negative eps");
    check(ct_batch_norm_forward_f32(2, 3, 1, x, NULL, NULL, NAN, 1, NULL, NULL, 0.1, y, mean, rstd) == E,
          "batch_norm: NaN eps");
    check(ct_batch_norm_forward_f32(2, 3, 1, x, NULL, NULL, 1e-5, 1, rm, rv, NAN, y, mean, rstd) == E,
          "batch_norm: NaN momentum");
    check(ct_batch_norm_forward_f32(2, 3, 1, x, NULL, NULL, 1e-5, 0, NULL, NULL, 0.1, y, mean, rstd) == E,
          "batch_norm: eval without running statistics");
    check(ct_batch_norm_forward_f32(2, 3, 1, x, NULL, NULL, 1e-5, 1, rm, NULL, 0.1, y, mean, rstd) == E,
          "batch_norm: running mean without running var");
    check(ct_batch_norm_forward_f32(2, 3, 1, NULL, NULL, NULL, 1e-5, 1, NULL, NULL, 0.1, y, mean, rstd) == E,
          "batch_norm: NULL x");
    check(ct_batch_norm_forward_f32(2, 3, 1, x, NULL, NULL, 1e-5, 1, NULL, NULL, 0.1, y, NULL, rstd) == E,
          "batch_norm: NULL mean");
    check(ct_batch_norm_forward_f32(INT64_MAX, 3, 2, x, NULL, NULL, 1e-5, 1, NULL, NULL, 0.1, y, mean, rstd) == E,
          "batch_norm: size overflow");
    check(ct_batch_norm_backward_f32(2, 3, 1, x, NULL, mean, rstd, NULL, 1, y, NULL, NULL) == E,
          "batch_norm backward: NULL dy");
    check(ct_group_norm_forward_f32(2, 1, 3, 1, 1, x, NULL, NULL, -1e-5, y, mean, rstd) == E,
          "group_norm: negative eps");
    check(ct_group_norm_forward_f32(2, 1, 3, -1, 1, x, NULL, NULL, 1e-5, y, mean, rstd) == E,
          "group_norm: negative size");
    check(ct_group_norm_forward_f32(2, 1, 3, 1, 1, x, NULL, NULL, 1e-5, NULL, mean, rstd) == E,
          "group_norm: NULL y");
    check(ct_group_norm_backward_f32(2, 1, 3, 1, 1, x, x, NULL, rstd, NULL, y, NULL, NULL) == E,
          "group_norm backward: NULL mean");

    /* Known values: (x - 2) / sqrt(2/3 + eps) for the column 1, 2, 3 ... of a (3, 2) batch (x[r][c] = 2r + c + 1). */
    check(ct_batch_norm_forward_f32(3, 2, 1, x, NULL, NULL, 0, 1, rm, rv, 0.5, y, mean, rstd) == CT_OK &&
              fabs(mean[0] - 3) < 1e-6 && fabs(rstd[0] - 1 / sqrt(8.0 / 3)) < 1e-6 && fabs(y[4] - sqrt(1.5)) < 1e-6 &&
              fabs(rm[0] - 1.5) < 1e-6 && fabs(rv[0] - (0.5 + 0.5 * 4)) < 1e-6,
          "batch_norm: known values and running update (unbiased variance)");
    check(ct_group_norm_forward_f32(2, 1, 3, 1, 0, x, NULL, NULL, 0, y, mean, rstd) == CT_OK && mean[0] == 0 &&
              fabs(rstd[0] - 1 / sqrt(14.0 / 3)) < 1e-6,
          "rms_norm: rstd = 1/sqrt(mean(x^2))");
    double xd[2] = {1, 3}, yd[2], md[1], rd[1];
    check(ct_group_norm_forward_f64(1, 1, 2, 1, 1, xd, NULL, NULL, 0, yd, md, rd) == CT_OK && md[0] == 2 &&
              yd[0] == -1 && yd[1] == 1,
          "layer_norm: (1, 3) -> (-1, 1)");
    check(ct_batch_norm_forward_f32(0, 3, 1, NULL, NULL, NULL, 1e-5, 1, NULL, NULL, 0.1, NULL, mean, rstd) == CT_OK &&
              isnan(mean[0]),
          "batch_norm: an empty batch has NaN statistics");
    check(ct_group_norm_forward_f32(0, 1, 3, 1, 1, NULL, NULL, NULL, 1e-5, NULL, NULL, NULL) == CT_OK,
          "group_norm: no rows with NULL buffers");
}

/* ---------------------------------------------------------------- the OpenCL runtime */

/* A loader that is not there: a clear reason, no devices, and the answer sticks. */
static void test_cl_runtime_without_a_loader(void)
{
    check(ct_cl_open("/nonexistent/libOpenCL.so.1") == CT_ERR_UNAVAILABLE, "ct_cl_open without a loader");
    check(strstr(ct_cl_error(), "/nonexistent/libOpenCL.so.1") != NULL, "the reason names the loader: %s",
          ct_cl_error());
    check(ct_cl_device_count() == 0, "no devices without a loader");
    ct_cl_device info;
    check(ct_cl_device_info(0, &info) == CT_ERR_INVALID_ARGUMENT, "no device 0 without a loader");
    check(ct_cl_open(NULL) == CT_ERR_UNAVAILABLE, "the first ct_cl_open decides");
    check(strcmp(ct_status_string(CT_ERR_UNAVAILABLE), "unavailable") == 0, "status string of CT_ERR_UNAVAILABLE");
}

/* Without a runtime, device work is refused with a reason, and NULL handles are never dereferenced. */
static void test_cl_device_work_without_a_runtime(void)
{
    ct_cl_queue *queue = (ct_cl_queue *)1;
    check(ct_cl_queue_create(0, &queue) == CT_ERR_UNAVAILABLE && queue == NULL, "no queue without a runtime");
    check(strstr(ct_cl_last_error(), "not open") != NULL, "the reason says the runtime is not open: %s",
          ct_cl_last_error());
    check(ct_cl_queue_create(0, NULL) == CT_ERR_INVALID_ARGUMENT, "ct_cl_queue_create refuses a NULL out");
    void *handle = NULL;
    char log[16];
    int64_t global[1] = {1};
    check(ct_cl_buffer_create(NULL, 8, NULL, &handle) == CT_ERR_INVALID_ARGUMENT, "buffer without a queue");
    check(ct_cl_buffer_write(NULL, NULL, 0, 8, log) == CT_ERR_INVALID_ARGUMENT, "write without a queue");
    check(ct_cl_buffer_read(NULL, NULL, 0, 8, log) == CT_ERR_INVALID_ARGUMENT, "read without a queue");
    check(ct_cl_buffer_copy(NULL, NULL, 0, NULL, 0, 8) == CT_ERR_INVALID_ARGUMENT, "copy without a queue");
    check(ct_cl_buffer_fill(NULL, NULL, log, 4, 0, 8) == CT_ERR_INVALID_ARGUMENT, "fill without a queue");
    check(ct_cl_program_build(NULL, "", "", &handle, log, sizeof log) == CT_ERR_INVALID_ARGUMENT,
          "build without a queue");
    check(ct_cl_kernel_create(NULL, "f", &handle) == CT_ERR_INVALID_ARGUMENT, "kernel without a program");
    check(ct_cl_kernel_set_arg(NULL, 0, 4, log) == CT_ERR_INVALID_ARGUMENT, "argument without a kernel");
    check(ct_cl_kernel_run(NULL, NULL, 1, global, NULL) == CT_ERR_INVALID_ARGUMENT, "run without a queue");
    check(ct_cl_kernel_launch(NULL, NULL, 0, NULL, NULL, 1, global, NULL) == CT_ERR_INVALID_ARGUMENT,
          "launch without a kernel");
    check(ct_cl_finish(NULL) == CT_ERR_INVALID_ARGUMENT, "finish without a queue");
    /* a handle that no opened runtime made is refused, never called through */
    void *stray = (void *)log;
    check(ct_cl_kernel_create(stray, "f", &handle) == CT_ERR_UNAVAILABLE && handle == NULL,
          "kernel of a program without a runtime");
    check(ct_cl_kernel_set_arg(stray, 0, 4, log) == CT_ERR_UNAVAILABLE, "argument without a runtime");
    check(ct_cl_kernel_launch(NULL, stray, 1, "\4", log, 1, global, NULL) == CT_ERR_INVALID_ARGUMENT,
          "launch refused before setting arguments");
    ct_cl_queue_release(NULL);
    ct_cl_buffer_release(NULL);
    ct_cl_program_release(NULL);
    ct_cl_kernel_release(NULL);
}

int main(void)
{
    test_runtime();
    test_scratch_blocks();
    test_cl_runtime_without_a_loader();
    test_cl_device_work_without_a_runtime();
    test_matmul_errors();
    test_matmul_kdim_zero_writes_zeros();
    test_matmul_small_shapes();
    test_matmul_blocking_edges();
    test_matmul_skinny_products();
    test_matmul_batched();
    test_reduce_errors();
    test_reduce_sum_accuracy();
    test_reduce_rows_side_by_side_match_one_row();
    test_reduce_random();
    test_reduce_large();
    test_argmax();
    test_activation_errors();
    test_activation_special_values();
    test_gelu_special_values();
    test_gelu_relative_accuracy();
    test_activations();
    test_cross_entropy_errors();
    test_cross_entropy();
    test_optimizer_errors();
    test_optimizer_steps();
    test_norm_errors();
    test_norm_random();
    test_norm_large();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
