"""Fits the polynomial coefficients of ctensor's branch-free erf (ctensor/src/erf_impl.h).

erf_impl.h computes, for a = |x|,

    a <  SERIES_END:  erf(a)  = a + a * (S(a^2) - 1)
    a >= SERIES_END:  erfc(a) = e^(-a^2) * t * Q(t - TAIL_CENTER),  t = 2 / (2 + a)

with S and Q polynomials, one pair per dtype. This script fits them in high precision (mpmath):
weighted least squares for the relative error on Chebyshev nodes, refined towards the minimax
fit by Lawson's iteration (each node's weight grows with its error). t lies in (0, 1] for every
a >= 0; e^(a^2) erfc(a) / t is smooth there (its only singularity, a = infinity, sits at t = 0),
so a polynomial centred inside the interval has decaying coefficients and Horner's rule in
SCALAR loses little to rounding (the "conditioning" printed below: sum |c_k s^k| / |Q(s)|).

Regenerate: ``python ctensor/tools/fit_erf.py`` (about a minute) prints the C tables; paste them
over the tables in erf_impl.h (the constants SERIES_END, TAIL_END, TAIL_CENTER and the degrees
there must match the ones below). Verify: this script reports the relative error of each fit with
its coefficients rounded to the dtype (the approximation error alone, in ulps of the dtype);
ctensor/tools/erf_accuracy.c measures the compiled kernels (rounding included) against libm's erf
in a wider precision.
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 60

SERIES_END = 0.5  # erf(0.5) ~ 0.52: 1 - erf and 1 + erf never lose more than a bit
TAIL_CENTER = 0.4375
# Past TAIL_END, e^(-a^2) rounds to 0 in exp_nonpositive (its floor: -104 resp. -746).
DTYPES = {
    "f32": {"tail_end": 10.25, "series_degree": 5, "tail_degree": 10, "ulp": mp.mpf(2) ** -23},
    "f64": {"tail_end": 27.375, "series_degree": 10, "tail_degree": 24, "ulp": mp.mpf(2) ** -52},
}


def series_target(u):
    """erf(sqrt u) / sqrt u, the even series S(a^2) = erf(a) / a."""
    if u == 0:
        return 2 / mp.sqrt(mp.pi)
    a = mp.sqrt(u)
    return mp.erf(a) / a


def tail_target(s):
    """e^(a^2) erfc(a) / t at t = TAIL_CENTER + s, where a = 2/t - 2."""
    t = TAIL_CENTER + s
    a = 2 / t - 2
    return mp.erfc(a) * mp.exp(a * a) / t


def chebyshev_nodes(lo, hi, count):
    return [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / count) for k in range(count)]


def fit(target, lo, hi, degree, iterations=30):
    """Coefficients c_0..c_degree of sum c_k v^k ~ target(v) on [lo, hi], minimising relative error."""
    nodes = chebyshev_nodes(mp.mpf(lo), mp.mpf(hi), 4 * (degree + 1))
    values = [target(v) for v in nodes]
    weights = [mp.mpf(1)] * len(nodes)
    for _ in range(iterations):
        rows = [[w / y * v**k for k in range(degree + 1)] for v, y, w in zip(nodes, values, weights)]
        coefficients, _ = mp.qr_solve(mp.matrix(rows), mp.matrix([w for w in weights]))
        errors = [abs(polynomial(coefficients, v) / y - 1) for v, y in zip(nodes, values)]
        weights = [w * e for w, e in zip(weights, errors)]
        total = sum(weights)
        weights = [w / total * len(weights) for w in weights]
    return list(coefficients)


def polynomial(coefficients, v):
    result = mp.mpf(0)
    for c in reversed(coefficients):
        result = result * v + c
    return result


def rounded(coefficients, dtype):
    to_dtype = np.float32 if dtype == "f32" else np.float64
    return [mp.mpf(float(to_dtype(float(c)))) for c in coefficients]


def report(name, target, lo, hi, coefficients, ulp):
    """Max relative error (in ulps) and Horner conditioning of the rounded fit on a dense grid."""
    grid = [mp.mpf(lo) + (mp.mpf(hi) - lo) * k / 2000 for k in range(2001)]
    worst_error = max(abs(polynomial(coefficients, v) / target(v) - 1) for v in grid) / ulp
    conditioning = max(
        sum(abs(c * v**k) for k, c in enumerate(coefficients)) / abs(polynomial(coefficients, v)) for v in grid
    )
    print(f"/* {name}: max relative error {float(worst_error):.3f} ulp, conditioning {float(conditioning):.2f} */")


def c_table(name, coefficients):
    """A C table of the coefficients, each as the double equal to it (exact for float values too)."""
    body = "".join(f"    {float(c)!r},\n" for c in coefficients)
    return f"static const double {name}[] = {{\n{body}}};"


def main():
    for dtype, spec in DTYPES.items():
        # S(u) = c_0 + c_1 u + ... is stored with c_0 - 1 in place of c_0: erf_impl.h computes
        # a + a (S(a^2) - 1), which keeps the rounding of c_0 ~ 2/sqrt(pi) out of erf(a) ~ 1.128 a.
        series = fit(series_target, 0, SERIES_END**2, spec["series_degree"])
        stored = rounded([series[0] - 1] + series[1:], dtype)
        series = [stored[0] + 1] + stored[1:]
        t_lo, t_hi = 2 / (2 + mp.mpf(spec["tail_end"])), 2 / (2 + mp.mpf(SERIES_END))
        tail = rounded(fit(tail_target, t_lo - TAIL_CENTER, t_hi - TAIL_CENTER, spec["tail_degree"]), dtype)
        report(f"{dtype} series, a in [0, {SERIES_END}]", series_target, 0, SERIES_END**2, series, spec["ulp"])
        report(
            f"{dtype} tail, a in [{SERIES_END}, {spec['tail_end']}]",
            tail_target,
            t_lo - TAIL_CENTER,
            t_hi - TAIL_CENTER,
            tail,
            spec["ulp"],
        )
        print(c_table(f"erf_series_coefficients_{dtype}", stored))
        print(c_table(f"erfc_tail_coefficients_{dtype}", tail))


if __name__ == "__main__":
    main()
