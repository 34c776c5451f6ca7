/*
 * Accuracy sweep for the branch-free erf (ctensor/src/erf_impl.h) and the GELU kernel built on
 * its normal CDF, in ulps of the dtype (ulps of the reference value):
 *   float32: erf and GELU forward and backward at every float with 2^-30 <= |x| <= 11 resp. 15
 *            (erf is odd by construction), against libm's double erf/erfc;
 *   float64: 10^7 random points per function (uniform and log-uniform |x|, both signs), against
 *            libm's long double erfl/erfcl (64-bit significand);
 * plus the special values. GELU's backward Phi(x) + x phi(x) cancels near x = -0.75, so its error
 * is measured against |Phi(x)| + |x phi(x)|; everything else relatively, in ulps of the result, or
 * of |x| times the smallest normal number where Phi(x) and phi(x) are subnormal and lose bits.
 * GELU goes through ct_activation_*, so this measures the kernels the library runs.
 *
 *   gcc -O2 -std=c11 -fopenmp -fno-math-errno -fno-trapping-math -Ictensor/include -Ictensor/src \
 *       ctensor/src/[a-z]*.c ctensor/tools/erf_accuracy.c -o /tmp/erf_accuracy -lm
 *   /tmp/erf_accuracy
 */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "ctensor_internal.h"

/* T(erf) for each dtype, instantiated as activation_impl.h does. */
#define T(name) CT_PASTE(name, SUFFIX)
#define SCALAR float
#define BITS uint32_t
#define SUFFIX f32
#include "exp_impl.h"
#include "erf_impl.h"
#undef SCALAR
#undef BITS
#undef SUFFIX
#define SCALAR double
#define BITS uint64_t
#define SUFFIX f64
#include "exp_impl.h"
#include "erf_impl.h"
#undef SCALAR
#undef BITS
#undef SUFFIX
#undef T

enum { BATCH = 1 << 16 };
#define SQRT_HALF_L 0.707106781186547524400844362104849039L /* 1/sqrt 2 rounded to 64 bits ... */
#define SQRT_HALF_LOW_L 1.8950325588932570797e-20L          /* ... and the rest */
#define INV_SQRT_2PI_L 0.398942280401432677939946059934381868L

/* ---------------------------------------------------------------- error bookkeeping */

typedef struct {
    const char *name;
    double lo, hi; /* x range of this row */
    double worst_ulps, worst_x;
    int64_t count;
} error_row;

/* The ulp of v in a dtype with `digits` significand bits and smallest normal `tiny`. */
static long double ulp_of(long double v, int digits, long double tiny)
{
    v = fabsl(v);
    if (v < tiny) v = tiny;
    int exponent;
    frexpl(v, &exponent);
    return ldexpl(1.0L, exponent - digits);
}

static void record(error_row *rows, int nrows, double x, long double got, long double want, long double scale,
                   int digits, long double tiny)
{
    for (int r = 0; r < nrows; r++) {
        if (!(x >= rows[r].lo && x < rows[r].hi)) continue;
        double ulps = (double)(fabsl(got - want) / ulp_of(scale, digits, tiny));
        if (got != got && want == want) ulps = INFINITY;
        rows[r].count++;
        if (ulps > rows[r].worst_ulps) rows[r].worst_ulps = ulps, rows[r].worst_x = x;
    }
}

static void print_rows(const char *title, const error_row *rows, int nrows)
{
    printf("%s\n", title);
    for (int r = 0; r < nrows; r++)
        printf("  %-26s %11lld points  max %6.3f ulp at x = %.17g\n", rows[r].name, (long long)rows[r].count,
               rows[r].worst_ulps, rows[r].worst_x);
}

/* ---------------------------------------------------------------- references */

/*
 * Phi(x) = erfc(a)/2, a = -x/sqrt 2, in long double: a rounded costs up to 2a^2 2^-64 of erfc (a
 * double ulp at a = 27), so erfc(a) is corrected by erfc'(a) times a's error (exact to ~2^-84).
 */
static long double normal_cdf_ref(double x)
{
    long double a = -(long double)x * SQRT_HALF_L;
    long double a_error = -(fmal((long double)x, SQRT_HALF_L, a) + (long double)x * SQRT_HALF_LOW_L);
    long double e = erfcl(a);
    return 0.5L * (e - a_error * 2 * INV_SQRT_2PI_L * sqrtl(2.0L) * expl(-a * a));
}

static long double normal_pdf_ref(double x) { return INV_SQRT_2PI_L * expl(-0.5L * (long double)x * x); }

/* ---------------------------------------------------------------- float32 */

static float f32_of_bits(uint32_t b)
{
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static void sweep_erf_f32(void)
{
    error_row rows[] = {{"[2^-30, 0.5)", 0, 0.5, 0, 0, 0},
                        {"[0.5, 2)", 0.5, 2, 0, 0, 0},
                        {"[2, 4)", 2, 4, 0, 0, 0},
                        {"[4, 11]", 4, 11.5, 0, 0, 0}};
    static float x[BATCH], y[BATCH];
    uint32_t first = 0x30800000, last = 0x41300000; /* 2^-30, 11.0f */
    for (uint32_t start = first; start <= last; start += BATCH) {
        int n = 0;
        for (uint32_t b = start; b <= last && n < BATCH; b++) x[n++] = f32_of_bits(b);
        for (int i = 0; i < n; i++) y[i] = erf_f32(x[i]);
        for (int i = 0; i < n; i++)
            record(rows, 4, x[i], y[i], erf((double)x[i]), erf((double)x[i]), FLT_MANT_DIG, FLT_MIN);
    }
    print_rows("float32 erf, every float in [2^-30, 11] (relative to erf(x)):", rows, 4);
}

static void sweep_gelu_f32(void)
{
    error_row forward[] = {{"[-15, -5)", -15, -5, 0, 0, 0},
                           {"[-5, -0.7)", -5, -0.7, 0, 0, 0},
                           {"[-0.7, 0)", -0.7, 0, 0, 0, 0},
                           {"[0, 15]", 0, 16, 0, 0, 0}};
    error_row backward[] = {{"[-15, 0)", -15, 0, 0, 0, 0}, {"[0, 15]", 0, 16, 0, 0, 0}};
    static float x[BATCH], y[BATCH], dx[BATCH], ones[BATCH];
    for (int i = 0; i < BATCH; i++) ones[i] = 1;
    uint32_t first = 0x30800000, last = 0x41700000; /* 2^-30, 15.0f */
    for (int sign = 0; sign <= 1; sign++)
        for (uint32_t start = first; start <= last; start += BATCH) {
            int n = 0;
            for (uint32_t b = start; b <= last && n < BATCH; b++) x[n++] = f32_of_bits(b | (uint32_t)sign << 31);
            ct_activation_forward_f32(CT_ACTIVATION_GELU, n, x, y, 0, 0, 0);
            ct_activation_backward_f32(CT_ACTIVATION_GELU, n, x, ones, dx, 0, 0, 0);
            for (int i = 0; i < n; i++) {
                double v = x[i], cdf = 0.5 * erfc(-v * 0.70710678118654752440);
                double xpdf = v * 0.39894228040143267794 * exp(-0.5 * v * v);
                long double floor = FLT_MIN * (1 + fabs(v));
                record(forward, 4, v, y[i], v * cdf, v * cdf, FLT_MANT_DIG, floor);
                record(backward, 2, v, dx[i], cdf + xpdf, fabs(cdf) + fabs(xpdf), FLT_MANT_DIG, floor);
            }
        }
    print_rows("float32 GELU forward, every float with 2^-30 <= |x| <= 15 (relative to x Phi(x)):", forward, 4);
    print_rows("float32 GELU backward, same points (relative to |Phi(x)| + |x phi(x)|):", backward, 2);
}

/* ---------------------------------------------------------------- float64 */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1p-53; }

/* Sample i of a sweep over [-range, range]: uniform, log-uniform |x| in [1e-300, range], or near 0.5 sqrt 2 */
static double sample_f64(int64_t i, double range)
{
    double sign = rng_next() & 1 ? -1 : 1;
    switch (i % 4) {
    case 0: return sign * range * rng_unit();
    case 1: return sign * exp(log(1e-300) + (log(range) - log(1e-300)) * rng_unit());
    case 2: return sign * exp(log(1e-3) + (log(range) - log(1e-3)) * rng_unit());
    default: return sign * (0.6 + 0.2 * rng_unit()); /* around the series/tail switch for GELU */
    }
}

static void sweep_f64(int64_t samples)
{
    error_row erf_rows[] = {{"[0, 0.5)", 0, 0.5, 0, 0, 0},
                            {"[0.5, 2)", 0.5, 2, 0, 0, 0},
                            {"[2, 6)", 2, 6, 0, 0, 0},
                            {"[6, 30]", 6, 31, 0, 0, 0}};
    error_row forward[] = {{"[-38, -5)", -38, -5, 0, 0, 0},
                           {"[-5, -0.7)", -5, -0.7, 0, 0, 0},
                           {"[-0.7, 0)", -0.7, 0, 0, 0, 0},
                           {"[0, 40]", 0, 41, 0, 0, 0}};
    error_row backward[] = {{"[-40, 0)", -40, 0, 0, 0, 0}, {"[0, 40]", 0, 41, 0, 0, 0}};
    static double x[BATCH], y[BATCH], dx[BATCH], ones[BATCH];
    for (int i = 0; i < BATCH; i++) ones[i] = 1;
    for (int64_t start = 0; start < samples; start += BATCH) {
        int n = samples - start < BATCH ? (int)(samples - start) : BATCH;
        for (int i = 0; i < n; i++) x[i] = sample_f64(start + i, 6.5);
        for (int i = 0; i < n; i++) y[i] = erf_f64(x[i]);
        for (int i = 0; i < n; i++) {
            long double want = erf((long double)fabs(x[i]));
            record(erf_rows, 4, fabs(x[i]), fabs(y[i]), want, want, DBL_MANT_DIG, DBL_MIN);
        }
        for (int i = 0; i < n; i++) x[i] = sample_f64(start + i, 30);
        for (int i = 0; i < n; i++) y[i] = erf_f64(x[i]);
        for (int i = 0; i < n; i++) {
            long double want = erf((long double)fabs(x[i]));
            if (fabs(x[i]) >= 6) record(erf_rows, 4, fabs(x[i]), fabs(y[i]), want, want, DBL_MANT_DIG, DBL_MIN);
        }
        for (int i = 0; i < n; i++) x[i] = sample_f64(start + i, 38);
        ct_activation_forward_f64(CT_ACTIVATION_GELU, n, x, y, 0, 0, 0);
        ct_activation_backward_f64(CT_ACTIVATION_GELU, n, x, ones, dx, 0, 0, 0);
        for (int i = 0; i < n; i++) {
            long double cdf = normal_cdf_ref(x[i]), xpdf = x[i] * normal_pdf_ref(x[i]);
            long double floor = DBL_MIN * (1 + fabs(x[i]));
            record(forward, 4, x[i], y[i], x[i] * cdf, x[i] * cdf, DBL_MANT_DIG, floor);
            record(backward, 2, x[i], dx[i], cdf + xpdf, fabsl(cdf) + fabsl(xpdf), DBL_MANT_DIG, floor);
        }
    }
    print_rows("float64 erf, random |x| (relative to erf(x)):", erf_rows, 4);
    print_rows("float64 GELU forward, random x (relative to x Phi(x)):", forward, 4);
    print_rows("float64 GELU backward, random x (relative to |Phi(x)| + |x phi(x)|):", backward, 2);
}

/* ---------------------------------------------------------------- special values */

static int same(double got, double want) { return got == want ? signbit(got) == signbit(want) : got != got && want != want; }

static void check_specials(void)
{
    static const double x[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e300, -1e300, 30, -30, 1e-310, -1e-45};
    int bad = 0;
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) {
        double want = erf(x[i]);
        float want32 = erf((float)x[i]);
        if (!same(erf_f64(x[i]), want) || !same(erf_f32((float)x[i]), want32)) {
            printf("  erf(%g): f64 %.17g, f32 %.9g; libm %.17g, %.9g\n", x[i], erf_f64(x[i]), erf_f32((float)x[i]),
                   want, want32);
            bad++;
        }
    }
    printf("special values: erf(NaN, +-inf, +-0, +-1e300, +-30, subnormals) %s\n", bad ? "DIFFER from libm" : "match libm");
}

int main(int argc, char **argv)
{
    int64_t samples = argc > 1 ? atoll(argv[1]) : 10000000;
    ct_set_num_threads(1);
    check_specials();
    sweep_erf_f32();
    sweep_gelu_f32();
    sweep_f64(samples);
    return 0;
}
