/* Clock and sorting helpers shared by the benchmark tools (each tool is one program; include this first). */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#define _POSIX_C_SOURCE 199309L
#include <stdlib.h>
#include <time.h>

/* Seconds on `clock` (CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID for CPU time). */
static inline double seconds_on(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static inline double now(void) { return seconds_on(CLOCK_MONOTONIC); }

/* Ascending order, for qsort. */
static inline int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The median of count samples, sorting them. */
static inline double median_of(double *samples, int count)
{
    qsort(samples, (size_t)count, sizeof *samples, compare_doubles);
    return samples[count / 2];
}

#endif /* BENCH_TIMING_H */
