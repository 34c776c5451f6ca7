/*
 * Times ct_matmul_{f32,f64} from C on warm buffers, interleaved with OpenBLAS when a library is given
 * (NumPy's bundled one exports scipy_cblas_sgemm64_ / scipy_cblas_dgemm64_), so the bare kernel can be
 * told apart from the per-call cost of the Python layers. Median and best of RUNS calls, in GFLOP/s.
 *
 *   gcc -O3 -std=c11 -fopenmp -fno-math-errno -fno-trapping-math -Ictensor/include \
 *       ctensor/src/[a-z]*.c ctensor/tools/bench_matmul.c -o /tmp/bench_matmul -lm -ldl
 *   /tmp/bench_matmul THREADS [path/to/libscipy_openblas64_*.so] [m n k layout ...]
 *
 * BENCH_CPU_TIME=1 times process CPU time (meaningful for one thread only).
 * layout: nn (a @ b), tn (a stored k x m, used transposed: x^T @ dy), nt (b stored n x k: dy @ W^T).
 * Without shapes it runs the shapes of benchmarks/gemm.py.
 */
#include "bench_timing.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctensor.h"

enum { RUNS = 30, ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                         int64_t, float, float *, int64_t);
typedef void (*dgemm_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                         const double *, int64_t, double, double *, int64_t);

static sgemm_fn blas_sgemm;
static dgemm_fn blas_dgemm;

/* BENCH_CPU_TIME=1: process CPU time, which a busy machine inflates less than wall time (for 1 thread only). */
static clockid_t clock_id = CLOCK_MONOTONIC;

typedef struct {
    int64_t m, n, k;
    char layout[3];
} bench_case;

/* Strides of a (m x k) and b (k x n) as stored for the layout, and OpenBLAS's transposes and leading dims. */
typedef struct {
    int64_t a_rs, a_cs, b_rs, b_cs, lda, ldb;
    int trans_a, trans_b;
} layout_strides;

static layout_strides strides_for(const bench_case *c)
{
    layout_strides s = {c->k, 1, c->n, 1, c->k, c->n, NO_TRANS, NO_TRANS};
    if (c->layout[0] == 't') s = (layout_strides){1, c->m, c->n, 1, c->m, c->n, TRANS, NO_TRANS};
    if (c->layout[1] == 't') s.b_rs = 1, s.b_cs = c->k, s.ldb = c->k, s.trans_b = TRANS;
    return s;
}

/* One call of ours (who = 0) or OpenBLAS's (who = 1) on buffers of the case's dtype. */
static void call(const bench_case *c, int is_f64, int who, const void *a, const void *b, void *out)
{
    layout_strides s = strides_for(c);
    if (is_f64 && who == 0)
        ct_matmul_f64(c->m, c->n, c->k, a, s.a_rs, s.a_cs, b, s.b_rs, s.b_cs, out, c->n, 1, 0, NULL, NULL, NULL, NULL);
    else if (is_f64)
        blas_dgemm(ROW_MAJOR, s.trans_a, s.trans_b, c->m, c->n, c->k, 1, a, s.lda, b, s.ldb, 0, out, c->n);
    else if (who == 0)
        ct_matmul_f32(c->m, c->n, c->k, a, s.a_rs, s.a_cs, b, s.b_rs, s.b_cs, out, c->n, 1, 0, NULL, NULL, NULL, NULL);
    else
        blas_sgemm(ROW_MAJOR, s.trans_a, s.trans_b, c->m, c->n, c->k, 1, a, s.lda, b, s.ldb, 0, out, c->n);
}

static void *random_buffer(int64_t count, int is_f64)
{
    void *buffer = malloc((size_t)(count + 1) * (is_f64 ? sizeof(double) : sizeof(float)));
    for (int64_t i = 0; i < count; i++) {
        double v = (double)rand() / RAND_MAX - 0.5;
        if (is_f64)
            ((double *)buffer)[i] = v;
        else
            ((float *)buffer)[i] = (float)v;
    }
    return buffer;
}

/*
 * Ours and OpenBLAS take TURNS turns each, RUNS / TURNS timed calls a turn after a pause and one untimed call:
 * both libraries keep worker threads spinning after a call, which would steal the cores from the other.
 */
static void bench(const bench_case *c, int is_f64)
{
    enum { TURNS = 3 };
    void *a = random_buffer(c->m * c->k, is_f64), *b = random_buffer(c->k * c->n, is_f64);
    void *out = random_buffer(c->m * c->n, is_f64);
    int who_count = (is_f64 ? blas_dgemm != NULL : blas_sgemm != NULL) ? 2 : 1;
    double times[2][RUNS];
    struct timespec pause = {0, 200 * 1000 * 1000}; /* OpenBLAS workers spin ~0.1 s after a call */
    for (int turn = 0; turn < TURNS; turn++)
        for (int who = 0; who < who_count; who++) {
            nanosleep(&pause, NULL);
            call(c, is_f64, who, a, b, out);
            for (int run = turn * RUNS / TURNS; run < (turn + 1) * RUNS / TURNS; run++) {
                double t0 = seconds_on(clock_id);
                call(c, is_f64, who, a, b, out);
                times[who][run] = seconds_on(clock_id) - t0;
            }
        }
    double gflop = 2e-9 * (double)c->m * (double)c->n * (double)c->k, median[2] = {0, 0}, best[2] = {0, 0};
    for (int who = 0; who < who_count; who++) {
        median[who] = gflop / median_of(times[who], RUNS);
        best[who] = gflop / times[who][0];
    }
    printf("%-7s %5lld %5lld %5lld %s %8.1f %8.1f %8.1f %8.1f %6.2f %7.1f\n", is_f64 ? "f64" : "f32", (long long)c->m,
           (long long)c->n, (long long)c->k, c->layout, median[0], best[0], median[1], best[1],
           who_count == 2 ? median[0] / median[1] : 0.0, 1e6 * gflop / median[0]);
    free(a);
    free(b);
    free(out);
}

static const bench_case default_cases[] = {
    {128, 128, 128, "nn"}, {256, 256, 256, "nn"}, {512, 512, 512, "nn"}, {1024, 1024, 1024, "nn"},
    {256, 512, 784, "nn"}, {784, 512, 256, "tn"}, {256, 784, 512, "nt"}, {256, 512, 512, "nn"},
    {512, 512, 256, "tn"}, {256, 512, 512, "nt"}, {256, 10, 512, "nn"},  {512, 10, 256, "tn"},
    {256, 512, 10, "nt"},
};

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (getenv("BENCH_CPU_TIME") && atoi(getenv("BENCH_CPU_TIME")) == 1) clock_id = CLOCK_PROCESS_CPUTIME_ID;
    ct_set_num_threads(threads);
    if (argc > 2 && strcmp(argv[2], "-") != 0) {
        void *lib = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL) return fprintf(stderr, "%s\n", dlerror()), 1;
        blas_sgemm = (sgemm_fn)dlsym(lib, "scipy_cblas_sgemm64_");
        blas_dgemm = (dgemm_fn)dlsym(lib, "scipy_cblas_dgemm64_");
        void (*set_threads)(int) = (void (*)(int))dlsym(lib, "scipy_openblas_set_num_threads64_");
        if (set_threads) set_threads(threads);
    }
    bench_case custom[64];
    int count = 0;
    for (int i = 3; i + 3 < argc && count < 64; i += 4)
        custom[count++] = (bench_case){atoll(argv[i]), atoll(argv[i + 1]), atoll(argv[i + 2]),
                                       {argv[i + 3][0], argv[i + 3][1], 0}};
    const bench_case *cases = count ? custom : default_cases;
    if (!count) count = sizeof default_cases / sizeof default_cases[0];
    printf("%s, %d threads, median and best of %d (GFLOP/s); us = our median call\n", ct_simd_name(), threads, RUNS);
    printf("%-7s %5s %5s %5s %s %8s %8s %8s %8s %6s %7s\n", "dtype", "m", "n", "k", "ly", "ours", "best", "blas",
           "best", "ratio", "us");
    for (int dtype = 0; dtype < 2; dtype++)
        for (int i = 0; i < count; i++) bench(&cases[i], dtype);
    return 0;
}
