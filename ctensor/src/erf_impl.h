/*
 * Branch-free erf and standard normal CDF for one dtype, included by activation_impl.h after
 * exp_impl.h (whose exp_nonpositive and bit helpers they use), with SCALAR, BITS and SUFFIX
 * defined. For a = |x|:
 *
 *     a <  SERIES_END   erf(a)  = a + a (S(a^2) - 1)               S(a^2) = erf(a)/a, even
 *     a >= SERIES_END   erfc(a) = e^(-a^2) t Q(t - TAIL_CENTER)    t = 2/(2 + a)
 *
 * S and Q are polynomials fitted by ctensor/tools/fit_erf.py (tables below; its docstring says
 * how to regenerate and verify them). e^(a^2) erfc(a)/t is smooth on t in (0, 1], so one Q
 * serves the whole tail; past TAIL_END, e^(-a^2) is below exp_nonpositive's floor and erfc(a)
 * rounds to 0. Both pieces are computed for every element and one is selected, so loops calling
 * these vectorise. e^(-a^2) takes a^2 as a rounded square plus its rounding error (Dekker's
 * exact product): rounding a^2 alone would cost up to 2a^2 half-ulps, ~1500 at a = 27.
 */
#ifndef T
#error "erf_impl.h is included by a kernel template that defines T(name)"
#endif

#ifndef CT_ERF_TABLES
#define CT_ERF_TABLES
/*
 * From fit_erf.py: relative error of the fits with these (rounded) coefficients, in ulps of the
 * dtype: f32 series 0.007, tail 0.265 (degree 10); f64 series 0.050, tail 0.242 (degree 24).
 * S is stored as S - 1 (first coefficient 2/sqrt(pi) - 1), so its rounding does not reach
 * erf(a) ~ 1.128 a.
 */
static const double erf_series_coefficients_f32[] = {
    0.12837916612625122,
    -0.37612637877464294,
    0.11283773928880692,
    -0.026863127946853638,
    0.005200349725782871,
    -0.0007693529478274286,
};
static const double erfc_tail_coefficients_f32[] = {
    0.4699890613555908,
    0.6191604733467102,
    0.527853786945343,
    0.18429067730903625,
    -0.13443951308727264,
    -0.13521723449230194,
    0.06653133034706116,
    0.09204228967428207,
    -0.0642688050866127,
    -0.05439893156290054,
    0.06276470422744751,
};
static const double erf_series_coefficients_f64[] = {
    0.1283791670955126,
    -0.37612638903183754,
    0.11283791670955123,
    -0.026866170645130017,
    0.005223977625402787,
    -0.0008548327016099532,
    0.00012055332125829088,
    -1.4925586262859197e-05,
    1.645902432792185e-06,
    -1.6272952309811023e-07,
    1.32128991982429e-08,
};
static const double erfc_tail_coefficients_f64[] = {
    0.46998907617851965,
    0.6191604927113871,
    0.5278537790010508,
    0.1842909239459023,
    -0.13444100266107373,
    -0.13523362865795588,
    0.06660227548112792,
    0.09248347166562984,
    -0.06592959288427742,
    -0.05943842571764006,
    0.08200404598741035,
    0.01778845164187606,
    -0.09300080473682877,
    0.0413885842769025,
    0.07305059389537352,
    -0.10592699518399996,
    0.004399603961766008,
    0.12929803564512463,
    -0.13592312898044873,
    -0.04972027525261576,
    0.25156408896776855,
    -0.11041226617627285,
    -0.24785879616517295,
    0.1550196302518291,
    0.11931867612804516,
};
#endif

#define IS_F32 (sizeof(SCALAR) == 4)
#define SERIES_END ((SCALAR)0.5) /* erf(0.5) ~ 0.52: neither 1 - erf nor 1 + erf cancels much */
#define TAIL_CENTER ((SCALAR)0.4375)
#define SERIES_DEGREE (IS_F32 ? 5 : 10)
#define TAIL_DEGREE (IS_F32 ? 10 : 24)
/* Where e^(-a^2) and e^(-x^2/2) fall below exp_nonpositive's floor (-104 resp. -746) and round to 0. */
#define TAIL_END ((SCALAR)(IS_F32 ? 10.25 : 27.375))
#define CDF_TAIL_END ((SCALAR)(IS_F32 ? 14.5 : 38.75))
/* Keeps the high half of the significand (12 of 24 bits, 26 of 53): its square is exact. */
#define SPLIT_MASK (~(BITS)0 << (IS_F32 ? 12 : 27))
#define INV_SQRT_2 ((SCALAR)0.70710678118654752440)
#define INV_SQRT_2PI ((SCALAR)0.39894228040143267794)

/*
 * v^2 = returned square + *error, the error exact to far below its ulp: v = high + low with high's
 * square exact, v^2 = high^2 + 2 high low + low^2 (Dekker). Meant for |v| <= 64; no fma needed.
 */
CT_INLINE SCALAR T(split_square)(SCALAR v, SCALAR *error)
{
    SCALAR high = T(from_bits)(T(bits_of)(v) & SPLIT_MASK), low = v - high;
    SCALAR square = v * v;
    *error = ((high * high - square) + 2 * high * low) + low * low;
    return square;
}

/* e^-(square + error) for a small error: e^-square (1 - error). */
CT_INLINE SCALAR T(gauss)(SCALAR square, SCALAR error) { return T(exp_nonpositive)(-square) * (1 - error); }

/* c[first] + c[first + 1] v + ... + c[last] v^(last - first), by Horner's rule. */
CT_INLINE SCALAR T(horner)(const double *c, int first, int last, SCALAR v)
{
    SCALAR p = (SCALAR)c[last];
#pragma GCC unroll 32
    for (int k = last - 1; k >= first; k--) p = p * v + (SCALAR)c[k];
    return p;
}

/* erf(a) for 0 <= a < SERIES_END (finite, and unused, further out). */
CT_INLINE SCALAR T(erf_series)(SCALAR a)
{
    const double *c = IS_F32 ? erf_series_coefficients_f32 : erf_series_coefficients_f64;
    return a + a * T(horner)(c, 0, SERIES_DEGREE, a * a);
}

/*
 * erfc(a) for SERIES_END <= a, given gauss = e^(-a^2) (finite, and unused, for 0 <= a below).
 * Q's upper terms add below 2^-20 (|s| < 0.37), so they make a second Horner chain, run
 * alongside the first: the critical path halves (float64 GELU 1.9 -> 1.6 ms per 2^17 values)
 * for a few tenths of an ulp more rounding error at worst.
 */
CT_INLINE SCALAR T(erfc_tail)(SCALAR a, SCALAR gauss)
{
    const double *c = IS_F32 ? erfc_tail_coefficients_f32 : erfc_tail_coefficients_f64;
    const int split = TAIL_DEGREE / 2 + 1;
    SCALAR t = 2 / (2 + a), s = t - TAIL_CENTER;
    SCALAR s_to_split = s;
#pragma GCC unroll 16
    for (int k = 1; k < split; k++) s_to_split *= s;
    SCALAR q = T(horner)(c, 0, split - 1, s) + s_to_split * T(horner)(c, split, TAIL_DEGREE, s);
    return gauss * (t * q);
}

/* erf(x): odd (erf(-0) = -0), +-1 from where 1 - erfc rounds to 1 on (+-inf included); NaN for NaN. */
CT_INLINE SCALAR T(erf)(SCALAR x)
{
    SCALAR magnitude = fabs(x), a = magnitude < TAIL_END ? magnitude : TAIL_END; /* NaN: mended below */
    SCALAR square_error, square = T(split_square)(a, &square_error);
    SCALAR series = T(erf_series)(a), complement = T(erfc_tail)(a, T(gauss)(square, square_error));
    SCALAR result = a < SERIES_END ? series : 1 - complement;
    return x != x ? x : copysign(result, x);
}

/*
 * Phi(x) = erfc(-x/sqrt 2)/2, and phi(x) = e^(-x^2/2)/sqrt(2 pi) in *density (one exponential
 * serves both). For x <= -SERIES_END sqrt 2, Phi(x) is erfc's tail itself, not 1 + erf(x/sqrt 2)
 * with its cancellation, so it keeps its relative accuracy down to the smallest normal numbers.
 * Phi(NaN) = NaN, Phi(-inf) = 0, Phi(inf) = 1; phi(+-inf) = phi(NaN) = 0.
 */
CT_INLINE SCALAR T(normal_cdf)(SCALAR x, SCALAR *density)
{
    SCALAR magnitude = fabs(x), clamped = magnitude < CDF_TAIL_END ? magnitude : CDF_TAIL_END;
    SCALAR square_error, square = T(split_square)(clamped, &square_error);
    SCALAR gauss = T(gauss)((SCALAR)0.5 * square, (SCALAR)0.5 * square_error); /* e^(-x^2/2) */
    SCALAR a = clamped * INV_SQRT_2;
    SCALAR half_erf = (SCALAR)0.5 * T(erf_series)(a), half_erfc = (SCALAR)0.5 * T(erfc_tail)(a, gauss);
    SCALAR upper = a < SERIES_END ? (SCALAR)0.5 + half_erf : 1 - half_erfc; /* Phi(|x|) */
    SCALAR lower = a < SERIES_END ? (SCALAR)0.5 - half_erf : half_erfc;     /* Phi(-|x|) */
    *density = INV_SQRT_2PI * gauss;
    return x != x ? x : x >= 0 ? upper : lower;
}

#undef IS_F32
#undef SERIES_END
#undef TAIL_CENTER
#undef SERIES_DEGREE
#undef TAIL_DEGREE
#undef TAIL_END
#undef CDF_TAIL_END
#undef SPLIT_MASK
#undef INV_SQRT_2
#undef INV_SQRT_2PI
