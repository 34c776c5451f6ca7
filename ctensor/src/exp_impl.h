/*
 * Branch-free exponentials for one dtype, included by the kernel templates
 * (activation_impl.h, loss_impl.h) with SCALAR, BITS (the unsigned integer as
 * wide as SCALAR) and SUFFIX defined. Only non-positive arguments are needed (e^(x - max x),
 * e^-|x|, ...), which keeps the range reduction simple and never overflows;
 * written without branches so that loops calling them vectorise.
 */
#ifndef T
#error "exp_impl.h is included by a kernel template that defines T(name)"
#endif

/*
 * The dtype's constants. TAYLOR_DEGREE: the tail of e^r - 1 on |r| <= ln2/2 is below
 * ~r^(d+1)/(d+1)!, under half an ulp (2^-24 resp. 2^-53) at d = 7 resp. 13. EXP_FLOOR: e^x rounds
 * to 0 below it. EXPM1_FLOOR: e^x - 1 rounds to -1 below it.
 */
#define IS_F32 (sizeof(SCALAR) == 4)
#define MANTISSA_BITS (IS_F32 ? 23 : 52)
#define EXPONENT_BIAS ((BITS)(IS_F32 ? 127 : 1023))
#define TAYLOR_DEGREE (IS_F32 ? 7 : 13)
#define EXP_FLOOR ((SCALAR)(IS_F32 ? -104.0 : -746.0))
#define EXPM1_FLOOR ((SCALAR)(IS_F32 ? -20.0 : -40.0))

/* 1.5 * 2^MANTISSA_BITS: adding it rounds to an integer held in the low mantissa bits. */
#define ROUND_MAGIC ((SCALAR)(3.0 * (double)((BITS)1 << (MANTISSA_BITS - 1))))

CT_INLINE BITS T(bits_of)(SCALAR v)
{
    BITS b;
    memcpy(&b, &v, sizeof b);
    return b;
}

CT_INLINE SCALAR T(from_bits)(BITS b)
{
    SCALAR v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* 2^k for an integer-valued k in the normal range, built from its exponent bits. */
CT_INLINE SCALAR T(power_of_two)(SCALAR k)
{
    BITS k_bits = T(bits_of)(k + ROUND_MAGIC) - T(bits_of)(ROUND_MAGIC); /* k as a two's-complement integer */
    return T(from_bits)((k_bits + EXPONENT_BIAS) << MANTISSA_BITS);
}

/*
 * Range reduction: x = k*ln2 + r with k = round(x/ln2) and |r| <= ln2/2 (ln2
 * split in a high part exact in SCALAR and a low remainder, so r is exact to
 * working precision); returns e^r - 1 = r(1 + r/2(1 + r/3(1 + ...))), whose
 * Taylor tail is below half an ulp at TAYLOR_DEGREE.
 */
CT_INLINE SCALAR T(reduced_expm1)(SCALAR x, SCALAR *k)
{
    static const double inverse[] = {0, 1, 1 / 2., 1 / 3., 1 / 4., 1 / 5., 1 / 6., 1 / 7.,
                                     1 / 8., 1 / 9., 1 / 10., 1 / 11., 1 / 12., 1 / 13., 1 / 14.};
    const SCALAR ln2_high = (SCALAR)0.693145751953125, ln2_low = (SCALAR)1.428606820309417232e-06;
    *k = (x * (SCALAR)1.4426950408889634074 + ROUND_MAGIC) - ROUND_MAGIC;
    SCALAR r = (x - *k * ln2_high) - *k * ln2_low;
    SCALAR p = 1;
#pragma GCC unroll 16
    for (int d = TAYLOR_DEGREE; d >= 2; d--) p = 1 + p * r * (SCALAR)inverse[d];
    return r * p;
}

/* e^x for x <= 0 (NaN passes through); below EXP_FLOOR the result rounds to 0. */
CT_INLINE SCALAR T(exp_nonpositive)(SCALAR x)
{
    SCALAR clamped = x >= EXP_FLOOR ? x : EXP_FLOOR, k;
    SCALAR q = T(reduced_expm1)(clamped, &k);
    /* 2^k in two halves, each normal even where e^x is subnormal. */
    SCALAR half = (k * (SCALAR)0.5 + ROUND_MAGIC) - ROUND_MAGIC;
    SCALAR result = ((1 + q) * T(power_of_two)(half)) * T(power_of_two)(k - half);
    return x != x ? x : x < EXP_FLOOR ? 0 : result;
}

/* e^x - 1 for x <= 0, exact near 0 where e^x - 1 would cancel; -1 below EXPM1_FLOOR. */
CT_INLINE SCALAR T(expm1_nonpositive)(SCALAR x)
{
    SCALAR clamped = x >= EXPM1_FLOOR ? x : EXPM1_FLOOR, k;
    SCALAR q = T(reduced_expm1)(clamped, &k);
    SCALAR scale = T(power_of_two)(k);
    SCALAR result = q * scale + (scale - 1); /* 2^k(e^r - 1) + (2^k - 1) */
    return x < 0 ? result : x; /* NaN and -0 pass through */
}

#undef IS_F32
#undef MANTISSA_BITS
#undef EXPONENT_BIAS
#undef TAYLOR_DEGREE
#undef EXP_FLOOR
#undef EXPM1_FLOOR
#undef ROUND_MAGIC
