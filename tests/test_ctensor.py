"""ctensor's C kernels called directly through cffi, checked against NumPy in float64.

Operands are NumPy views (transposed, sliced with steps, flipped, broadcast) passed as a pointer
to their first element plus element strides, as the backend passes them. Every kernel must give
the same bits with 1 and 2 threads, and must not write outside its output view.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tinygrad_bn._ctensor import ffi, lib

REPO_ROOT = Path(__file__).resolve().parents[1]
DTYPES = [np.dtype(np.float32), np.dtype(np.float64)]
C_POINTER = {np.dtype(np.float32): "float *", np.dtype(np.float64): "double *", np.dtype(np.int64): "int64_t *"}
MATMUL = {np.dtype(np.float32): lib.ct_matmul_f32, np.dtype(np.float64): lib.ct_matmul_f64}
REDUCE = {np.dtype(np.float32): lib.ct_reduce_f32, np.dtype(np.float64): lib.ct_reduce_f64}
ARGMAX = {np.dtype(np.float32): lib.ct_argmax_f32, np.dtype(np.float64): lib.ct_argmax_f64}
SUM, MAX, MIN = lib.CT_REDUCE_SUM, lib.CT_REDUCE_MAX, lib.CT_REDUCE_MIN
SENTINEL = 12345.0


# ---------------------------------------------------------------- calling the kernels


@contextmanager
def num_threads(n: int):
    before = lib.ct_get_num_threads()
    assert lib.ct_set_num_threads(n) == lib.CT_OK
    try:
        yield
    finally:
        lib.ct_set_num_threads(before)


def pointer(array: np.ndarray):
    """Typed pointer to a view's first element (its strides travel separately)."""
    return ffi.cast(C_POINTER[array.dtype], array.__array_interface__["data"][0])


def element_strides(array: np.ndarray) -> list[int]:
    return [s // array.itemsize for s in array.strides]


def int64s(values):
    return ffi.new("int64_t[]", list(values)) if len(values) else ffi.NULL


def matmul(a: np.ndarray, b: np.ndarray, c: np.ndarray, threads: int = 1) -> int:
    """Runs c = a @ b over c's leading (batch) dims; a and b already have c's batch shape."""
    batch_shape = c.shape[:-2]
    m, kdim = a.shape[-2:]
    n = b.shape[-1]
    sa, sb, sc = element_strides(a), element_strides(b), element_strides(c)
    with num_threads(threads):
        return MATMUL[c.dtype](
            m, n, kdim,
            pointer(a), sa[-2], sa[-1],
            pointer(b), sb[-2], sb[-1],
            pointer(c), sc[-2], sc[-1],
            len(batch_shape), int64s(batch_shape), int64s(sa[:-2]), int64s(sb[:-2]), int64s(sc[:-2]),
        )  # fmt: skip


def reduce(op: int, x: np.ndarray, axes: tuple[int, ...], threads: int = 1) -> tuple[int, np.ndarray]:
    """(status, out) of reducing x over `axes`; out keeps the other dims in order."""
    kept = [d for d in range(x.ndim) if d not in axes]
    strides = element_strides(x)
    out = np.full([x.shape[d] for d in kept], SENTINEL, dtype=x.dtype)
    with num_threads(threads):
        status = REDUCE[x.dtype](
            op, pointer(x),
            len(kept), int64s([x.shape[d] for d in kept]), int64s([strides[d] for d in kept]),
            len(axes), int64s([x.shape[d] for d in axes]), int64s([strides[d] for d in axes]),
            pointer(out),
        )  # fmt: skip
    return status, out


def argmax(x: np.ndarray, axis: int, threads: int = 1) -> tuple[int, np.ndarray]:
    kept = [d for d in range(x.ndim) if d != axis]
    strides = element_strides(x)
    out = np.full([x.shape[d] for d in kept], -1, dtype=np.int64)
    with num_threads(threads):
        status = ARGMAX[x.dtype](
            pointer(x),
            len(kept), int64s([x.shape[d] for d in kept]), int64s([strides[d] for d in kept]),
            x.shape[axis], strides[axis], pointer(out),
        )  # fmt: skip
    return status, out


# ---------------------------------------------------------------- laying out operands


@st.composite
def layouts(draw, ndim: int, broadcast: bool = False) -> dict:
    """How a view sits in memory: axis order, a step per axis, flipped axes, broadcast axes."""
    return {
        "order": draw(st.permutations(range(ndim))),
        "steps": draw(st.lists(st.sampled_from([1, 1, 2]), min_size=ndim, max_size=ndim)),
        "flips": draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim)),
        "broadcasts": draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim)) if broadcast else [False] * ndim,
    }


def strided_buffer(shape, layout: dict, dtype, fill=np.nan) -> tuple[np.ndarray, np.ndarray]:
    """(view, buffer): a view of `shape` inside a larger buffer, laid out as `layout` says.

    (A trailing ``...`` in each index keeps 0-d results arrays rather than scalars.)
    """
    order, steps, flips = layout["order"], layout["steps"], layout["flips"]
    buffer = np.full([shape[d] * steps[d] for d in order], fill, dtype=dtype)
    view = buffer[(*(slice(None, None, steps[d]) for d in order), ...)].transpose(np.argsort(order))
    view = view[(*(slice(None, None, -1) if flip else slice(None) for flip in flips), ...)]
    return view, buffer


def laid_out(values: np.ndarray, layout: dict) -> np.ndarray:
    """`values` (or, along broadcast axes, its first slice repeated) as a view laid out per `layout`."""
    source = values[(*(slice(0, 1) if b else slice(None) for b in layout["broadcasts"]), ...)]
    view, _ = strided_buffer(source.shape, layout, values.dtype)
    view[...] = source
    return np.broadcast_to(view, values.shape)


def random_values(rng: np.random.Generator, shape, dtype, ties: bool = False, nans: int = 0) -> np.ndarray:
    values = np.asarray(rng.integers(-3, 4, size=shape) if ties else rng.standard_normal(shape), dtype=dtype)
    if values.size and nans:
        values.flat[rng.integers(0, values.size, size=nans)] = np.nan
    return values


# ---------------------------------------------------------------- runtime


def test_simd_name_is_a_known_path():
    assert ffi.string(lib.ct_simd_name()).decode() in ("avx2+fma", "generic")


def test_thread_count_rejects_values_below_one_and_round_trips():
    before = lib.ct_get_num_threads()
    assert lib.ct_set_num_threads(0) == lib.CT_ERR_INVALID_ARGUMENT
    assert lib.ct_set_num_threads(-1) == lib.CT_ERR_INVALID_ARGUMENT
    assert lib.ct_get_num_threads() == before
    with num_threads(3):
        assert lib.ct_get_num_threads() == 3
    assert lib.ct_get_num_threads() == before


def test_status_strings_name_each_code():
    names = {code: ffi.string(lib.ct_status_string(code)).decode() for code in (0, 1, 2, 99)}
    assert names[lib.CT_OK] == "ok"
    assert len(set(names.values())) == 4


# ---------------------------------------------------------------- matmul


# Half small (the unpacked path and edge tiles), half anywhere up to 300 (packed, past KC = 256).
MATMUL_SIZES = st.one_of(st.integers(0, 20), st.integers(0, 300))


def check_matmul(a: np.ndarray, b: np.ndarray, c_layout: dict) -> None:
    """a @ b with 1 and 2 threads: within 2 (k + 1) eps (|a| @ |b|) of float64, same bits, nothing else written."""
    dtype = a.dtype
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    a = np.broadcast_to(a, shape[:-2] + a.shape[-2:])
    b = np.broadcast_to(b, shape[:-2] + b.shape[-2:])
    results = []
    for threads in (1, 2):
        c, buffer = strided_buffer(shape, c_layout, dtype, fill=SENTINEL)
        assert matmul(a, b, c, threads) == lib.CT_OK
        results.append(c.copy())
        c[...] = SENTINEL
        assert np.all(buffer == SENTINEL), "wrote outside C"
    assert results[0].tobytes() == results[1].tobytes(), "1 and 2 threads differ"
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    bound = 2 * (a.shape[-1] + 1) * np.finfo(dtype).eps * (np.abs(a64) @ np.abs(b64))
    assert np.all(np.abs(results[0] - a64 @ b64) <= bound)


@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from(DTYPES),
    m=MATMUL_SIZES,
    n=MATMUL_SIZES,
    k=MATMUL_SIZES,
    layout_a=layouts(2),
    layout_b=layouts(2),
    layout_c=layouts(2),
    seed=st.integers(0, 2**32 - 1),
)
def test_matmul_matches_float64_for_any_shape_and_layout(dtype, m, n, k, layout_a, layout_b, layout_c, seed):
    rng = np.random.default_rng(seed)
    a = laid_out(random_values(rng, (m, k), dtype), layout_a)
    b = laid_out(random_values(rng, (k, n), dtype), layout_b)
    check_matmul(a, b, layout_c)


@settings(max_examples=30, deadline=None)
@given(
    dtype=st.sampled_from(DTYPES),
    batch_shape=st.lists(st.integers(0, 3), min_size=1, max_size=2),
    m=st.integers(1, 40),
    n=st.integers(1, 40),
    k=st.integers(0, 40),
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
)
def test_batched_matmul_broadcasts_stride_zero_batches(dtype, batch_shape, m, n, k, data, seed):
    rng = np.random.default_rng(seed)
    ndim = len(batch_shape) + 2
    # Size-1 batch dims of a or b become stride-0 broadcasts; the same goes for any axis via the layout.
    a_batch = [1 if data.draw(st.booleans()) else s for s in batch_shape]
    b_batch = [1 if data.draw(st.booleans()) else s for s in batch_shape]
    a = laid_out(random_values(rng, (*a_batch, m, k), dtype), data.draw(layouts(ndim, broadcast=True)))
    b = laid_out(random_values(rng, (*b_batch, k, n), dtype), data.draw(layouts(ndim, broadcast=True)))
    check_matmul(a, b, data.draw(layouts(ndim)))


@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from(DTYPES),
    thin=st.sampled_from([0, 1, 2, 3, 5, 7, 10, 12, 13, 16, 17, 31, 33]),
    wide=st.integers(0, 600),
    k=st.one_of(st.sampled_from([0, 1, 2, 3, 5, 7, 10, 16, 17, 97, 257, 263]), st.integers(0, 600)),
    thin_rows=st.booleans(),
    transposes=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    seed=st.integers(0, 2**32 - 1),
)
def test_skinny_matmul_reads_either_operand_in_place(dtype, thin, wide, k, thin_rows, transposes, seed):
    """One thin side: the wide operand is read where it lies (when its long side is contiguous) or packed."""
    rng = np.random.default_rng(seed)
    m, n = (thin, wide) if thin_rows else (wide, thin)
    plain = {"order": [0, 1], "steps": [1, 1], "flips": [False, False], "broadcasts": [False, False]}
    a_layout, b_layout, c_layout = ({**plain, "order": [1, 0]} if t else plain for t in transposes)
    a = laid_out(random_values(rng, (m, k), dtype), a_layout)
    b = laid_out(random_values(rng, (k, n), dtype), b_layout)
    check_matmul(a, b, c_layout)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("m", "n", "k"),
    [(300, 301, 257), (145, 97, 513), (7, 4100, 3), (1, 500, 300), (400, 1, 300), (2, 3, 1000), (64, 64, 64)],
)
def test_matmul_across_blocking_edges_and_vector_shapes(dtype, m, n, k):
    rng = np.random.default_rng(m * n + k)
    contiguous = {"order": [0, 1], "steps": [1, 1], "flips": [False, False], "broadcasts": [False, False]}
    transposed = {**contiguous, "order": [1, 0]}
    check_matmul(random_values(rng, (m, k), dtype), laid_out(random_values(rng, (k, n), dtype), transposed), contiguous)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_with_empty_k_writes_positive_zeros(dtype):
    a, b = np.empty((3, 0), dtype), np.empty((0, 4), dtype)
    c = np.full((3, 4), np.nan, dtype)
    assert matmul(a, b, c) == lib.CT_OK
    assert np.array_equal(c, np.zeros((3, 4))) and not np.signbit(c).any()


def test_matmul_rejects_bad_arguments():
    f = lib.ct_matmul_f32
    x = ffi.new("float[4]")
    one, bad = ffi.new("int64_t[]", [1]), ffi.new("int64_t[]", [-1])
    null = ffi.NULL
    invalid = lib.CT_ERR_INVALID_ARGUMENT
    assert f(-1, 2, 2, x, 2, 1, x, 2, 1, x, 2, 1, 0, null, null, null, null) == invalid
    assert f(2, 2, -1, x, 2, 1, x, 2, 1, x, 2, 1, 0, null, null, null, null) == invalid
    assert f(2, 2, 2, null, 2, 1, x, 2, 1, x, 2, 1, 0, null, null, null, null) == invalid
    assert f(2, 2, 2, x, 2, 1, x, 2, 1, null, 2, 1, 0, null, null, null, null) == invalid
    assert f(2, 2, 2, x, 2, 1, x, 2, 1, x, 2, 1, -1, null, null, null, null) == invalid
    assert f(2, 2, 2, x, 2, 1, x, 2, 1, x, 2, 1, lib.CT_MAX_DIMS + 1, null, null, null, null) == invalid
    assert f(2, 2, 2, x, 2, 1, x, 2, 1, x, 2, 1, 1, null, one, one, one) == invalid
    assert f(2, 2, 2, x, 2, 1, x, 2, 1, x, 2, 1, 1, bad, one, one, one) == invalid
    assert f(0, 2, 2, null, 2, 1, null, 2, 1, null, 2, 1, 0, null, null, null, null) == lib.CT_OK


# ---------------------------------------------------------------- reductions


@st.composite
def reduction_cases(draw, max_ndim: int = 4):
    ndim = draw(st.integers(0, max_ndim))
    shape = tuple(draw(st.lists(st.sampled_from([0, 1, 1, 2, 3, 5, 8, 17, 40]), min_size=ndim, max_size=ndim)))
    axes = tuple(d for d in range(ndim) if draw(st.booleans()))
    layout = draw(layouts(ndim, broadcast=True))
    return shape, axes, layout


def sum_bound(x64: np.ndarray, axes: tuple[int, ...], want: np.ndarray, dtype) -> np.ndarray:
    """float32: rounding the (double) sum once; float64: pairwise error, a few hundred eps of sum |x|."""
    magnitude = np.sum(np.abs(x64), axis=axes)
    if dtype == np.float32:
        return 2.0**-23 * np.abs(want) + 2.0**-40 * magnitude
    return 2.0**-52 * np.abs(want) + 300 * 2.0**-52 * magnitude


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from(DTYPES),
    case=reduction_cases(),
    nans=st.sampled_from([0, 0, 0, 1, 3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_reductions_match_numpy_over_any_axes_and_layout(dtype, case, nans, seed):
    shape, axes, layout = case
    x = laid_out(random_values(np.random.default_rng(seed), shape, dtype, nans=nans), layout)
    x64 = x.astype(np.float64)
    inner_size = int(np.prod([shape[d] for d in axes]))
    for op, oracle in ((SUM, np.sum), (MAX, np.max), (MIN, np.min)):
        status, out = reduce(op, x, axes)
        status2, out2 = reduce(op, x, axes, threads=2)
        assert status == status2
        if op != SUM and inner_size == 0:
            assert status == lib.CT_ERR_INVALID_ARGUMENT  # max/min of nothing
            continue
        assert status == lib.CT_OK
        assert out.tobytes() == out2.tobytes()
        want = oracle(x64, axis=axes)
        if op == SUM:
            assert np.array_equal(np.isnan(out), np.isnan(want))
            finite = ~np.isnan(want)
            bound = sum_bound(x64, axes, want, dtype)
            assert np.all(np.abs(out - want)[finite] <= bound[finite])
        else:
            np.testing.assert_array_equal(out, want)  # exact, NaN where NumPy has NaN


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("shape", "axes"),
    [
        ((200003,), (0,)),  # one output, threaded in fixed chunks
        ((3001, 70), (0,)),  # column sums: whole rows accumulated
        ((70, 3001), (1,)),  # row sums
        ((7, 300, 40), (0, 2)),
        ((1000, 300), (0, 1)),
        ((20, 5000), (0,)),  # wider than one column tile: tiled differently for 1 and 2 threads
    ],
)
def test_large_reductions_are_thread_count_independent(dtype, shape, axes):
    rng = np.random.default_rng(len(shape) * 7 + sum(shape))
    x = random_values(rng, shape, dtype)
    views = [x, x.T.copy().T, x[::-1]]
    for view in views:
        x64 = view.astype(np.float64)
        for op, oracle in ((SUM, np.sum), (MAX, np.max), (MIN, np.min)):
            status, out = reduce(op, view, axes)
            status2, out2 = reduce(op, view, axes, threads=2)
            assert status == status2 == lib.CT_OK
            assert out.tobytes() == out2.tobytes()
            want = oracle(x64, axis=axes)
            if op == SUM:
                assert np.all(np.abs(out - want) <= sum_bound(x64, axes, want, dtype))
            else:
                np.testing.assert_array_equal(out, want)


@settings(max_examples=30, deadline=None)
@given(
    dtype=st.sampled_from(DTYPES),
    op=st.sampled_from([SUM, MAX, MIN]),
    rows=st.integers(1, 12),
    length=st.one_of(st.integers(1, 40), st.integers(1, 5000)),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_rows_reduced_side_by_side_match_each_row_alone(dtype, op, rows, length, threads, seed):
    """Contiguous rows are read several at a time; each result is the bytes of reducing that row by itself."""
    x = random_values(np.random.default_rng(seed), (rows, length), dtype)
    status, out = reduce(op, x, (1,), threads)
    assert status == lib.CT_OK
    for r in range(rows):
        status, alone = reduce(op, x[r], (0,), threads)
        assert status == lib.CT_OK and out[r].tobytes() == alone.tobytes()


def test_float32_sum_accumulates_in_double():
    x = np.full(1 << 20, 2.0**-24, dtype=np.float32)
    x[0] = 1
    status, out = reduce(SUM, x, (0,))
    assert status == lib.CT_OK
    assert out == np.float32(1 + (x.size - 1) * 2.0**-24)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_of_nothing_is_zero_and_max_of_nothing_is_rejected(dtype):
    x = np.empty((3, 0), dtype)
    assert reduce(SUM, x, (1,))[0] == lib.CT_OK
    assert np.array_equal(reduce(SUM, x, (1,))[1], np.zeros(3))
    assert reduce(MAX, x, (1,))[0] == lib.CT_ERR_INVALID_ARGUMENT
    assert reduce(MIN, x, (1,))[0] == lib.CT_ERR_INVALID_ARGUMENT


def test_reduce_rejects_bad_arguments():
    f = lib.ct_reduce_f32
    x = ffi.new("float[4]")
    shape, stride, bad = ffi.new("int64_t[]", [4]), ffi.new("int64_t[]", [1]), ffi.new("int64_t[]", [-1])
    null = ffi.NULL
    invalid = lib.CT_ERR_INVALID_ARGUMENT
    assert f(3, x, 0, null, null, 1, shape, stride, x) == invalid  # unknown op
    assert f(SUM, x, 0, null, null, 1, bad, stride, x) == invalid
    assert f(SUM, x, -1, null, null, 1, shape, stride, x) == invalid
    assert f(SUM, x, 0, null, null, lib.CT_MAX_DIMS + 1, shape, stride, x) == invalid
    assert f(SUM, x, 0, null, null, 1, shape, null, x) == invalid
    assert f(SUM, null, 0, null, null, 1, shape, stride, x) == invalid
    assert f(SUM, x, 0, null, null, 1, shape, stride, null) == invalid


# ---------------------------------------------------------------- arg-max


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
    ties=st.booleans(),
    nans=st.sampled_from([0, 0, 1, 4]),
    seed=st.integers(0, 2**32 - 1),
)
def test_argmax_returns_the_first_maximum_and_the_first_nan(dtype, data, ties, nans, seed):
    ndim = data.draw(st.integers(1, 4))
    sizes = st.sampled_from([1, 2, 3, 5, 16, 17, 40, 100])  # 100: long contiguous rows take two passes
    shape = tuple(data.draw(st.lists(sizes, min_size=ndim, max_size=ndim)))
    axis = data.draw(st.integers(0, ndim - 1))
    x = laid_out(random_values(np.random.default_rng(seed), shape, dtype, ties, nans), data.draw(layouts(ndim)))
    status, out = argmax(x, axis)
    status2, out2 = argmax(x, axis, threads=2)
    assert status == status2 == lib.CT_OK
    np.testing.assert_array_equal(out, np.argmax(x, axis=axis))
    np.testing.assert_array_equal(out2, out)


@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax_treats_signed_zeros_as_ties(dtype):
    x = np.array([-0.0, 0.0, -1.0] * 10, dtype)
    assert argmax(x, 0)[1] == 0
    assert argmax(x[::-1], 0)[1] == 1


def test_argmax_rejects_an_empty_axis():
    x = np.empty((3, 0), np.float32)
    assert argmax(x, 1)[0] == lib.CT_ERR_INVALID_ARGUMENT


# ---------------------------------------------------------------- the C driver under sanitizers


def test_c_driver_passes_under_address_and_undefined_sanitizers(tmp_path):
    cc = os.environ.get("CC", "gcc")
    if shutil.which("make") is None or shutil.which(cc) is None:
        if os.environ.get("CI"):
            pytest.fail(f"make or {cc} is missing, and CI requires the sanitizer run")
        pytest.skip(f"make or {cc} is missing")
    result = subprocess.run(
        ["make", "-j2", "-C", str(REPO_ROOT / "ctensor" / "tests"), "sanitize", f"BUILD_DIR={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"^\d+ passed, 0 failed$", result.stdout, re.MULTILINE), output[-4000:]
