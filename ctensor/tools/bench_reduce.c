/*
 * Times ct_reduce_f32 sum and max over a side x side float32 matrix along each axis, next to two
 * yardsticks in the same run: a copy of the matrix (memcpy split over the threads) and a bare OpenMP
 * loop that sums it in double (the simplest code that reads every byte once). GB/s read (the copy:
 * read + written, as benchmarks/reduce.py counts it), median and best of RUNS.
 *
 *   gcc -O3 -std=c11 -fopenmp -fno-math-errno -fno-trapping-math -Ictensor/include \
 *       ctensor/src/[a-z]*.c ctensor/tools/bench_reduce.c -o /tmp/bench_reduce -lm -ldl
 *   /tmp/bench_reduce THREADS [side, default 8192]
 */
#include "bench_timing.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctensor.h"

enum { RUNS = 9, CASES = 6 };

/* 16 running sums in double per thread, the way a vectoriser wants them. */
static double bare_sum(const float *x, int64_t count, int threads)
{
    double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        int64_t share = count / 16 / omp_get_num_threads() * 16, begin = share * omp_get_thread_num();
        double acc[16] = {0};
        for (int64_t i = begin; i < begin + share; i += 16)
            for (int j = 0; j < 16; j++) acc[j] += x[i + j];
        for (int j = 0; j < 16; j++) total += acc[j];
    }
    return total;
}

static void copy(float *dst, const float *src, int64_t count, int threads)
{
#pragma omp parallel num_threads(threads)
    {
        int64_t share = count / omp_get_num_threads(), begin = share * omp_get_thread_num();
        memcpy(dst + begin, src + begin, (size_t)share * sizeof *src);
    }
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int64_t side = argc > 2 ? atoll(argv[2]) : 8192, count = side * side;
    ct_set_num_threads(threads);
    float *x = malloc((size_t)count * sizeof *x), *y = malloc((size_t)count * sizeof *y);
    float *out = malloc((size_t)side * sizeof *out);
    for (int64_t i = 0; i < count; i++) x[i] = y[i] = (float)rand() / RAND_MAX - 0.5f;
    static const char *names[CASES] = {"copy", "bare sum", "sum(axis=1)", "sum(axis=0)", "max(axis=1)", "max(axis=0)"};
    double times[CASES][RUNS], sink = 0;
    int64_t shape[1] = {side}, row[1] = {side}, col[1] = {1};
    for (int run = -1; run < RUNS; run++)
        for (int c = 0; c < CASES; c++) {
            double t0 = now();
            if (c == 0) copy(y, x, count, threads);
            if (c == 1) sink += bare_sum(x, count, threads);
            if (c >= 2) { /* axis 1: outer dim = rows (stride side), inner = columns; axis 0 the other way */
                int op = c < 4 ? CT_REDUCE_SUM : CT_REDUCE_MAX, axis1 = c % 2 == 0;
                ct_reduce_f32(op, x, 1, shape, axis1 ? row : col, 1, shape, axis1 ? col : row, out);
                sink += out[0];
            }
            if (run >= 0) times[c][run] = now() - t0;
        }
    double gb = (double)count * sizeof *x / 1e9;
    printf("%s, %d threads, %lld x %lld float32, GB/s read (copy: read + written), median / best of %d\n",
           ct_simd_name(), threads, (long long)side, (long long)side, RUNS);
    for (int c = 0; c < CASES; c++) {
        double scale = c == 0 ? 2 * gb : gb, median = median_of(times[c], RUNS);
        printf("%-12s %6.1f %6.1f\n", names[c], scale / median, scale / times[c][0]);
    }
    return sink == 12345.678; /* keeps the sums alive */
}
