"""The OpenCL backend against the CPU backend: every op and layer run on "cl" and on "cpu" from the
same inputs, values and gradients compared (float32, and float64 where the device has cl_khr_fp64),
on awkward layouts (size-1 dims, broadcasting, transposed and sliced views); then a 20-step BN-MLP
training run whose losses and parameters match the CPU run.

CI installs PoCL (.ci/run): there a missing OpenCL device fails the session instead of skipping.
PoCL compiles each program in about a second; the backend builds each once per process.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest
from conftest import IN_CI
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_bn as tb
from tinygrad_bn.backend import get_backend
from tinygrad_bn.backend.opencl import runtime
from tinygrad_bn.testing import assert_close

if not tb.cl.is_available():
    _reason = f"OpenCL is not available: {tb.cl.unavailable_reason()}"
    if IN_CI:
        raise RuntimeError(_reason + " (CI installs PoCL in .ci/run)")
    pytest.skip(_reason, allow_module_level=True)

CL = tb.Device("cl:0")
FP64 = tb.cl.devices()[0].fp64
FLOATS = [tb.float32] + ([tb.float64] if FP64 else [])


def values(*shape, dtype=np.float32, seed=0, low=-2.0, high=2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def both(array: np.ndarray, requires_grad: bool = False) -> tuple[tb.Tensor, tb.Tensor]:
    """The same values as a CPU tensor and a cl tensor (leaves)."""
    return (
        tb.tensor(array, requires_grad=requires_grad),
        tb.tensor(array, device=CL, requires_grad=requires_grad),
    )


def check_same(fn, *arrays: np.ndarray, grad: bool = True, rtol=None, atol=None, seed: int = 0) -> None:
    """fn on CPU tensors and on cl tensors: the same values, and (for float inputs) the same gradients
    for one random output gradient."""
    wants = [grad and a.dtype.kind == "f" for a in arrays]
    pairs = [both(a, w) for a, w in zip(arrays, wants)]
    cpu_out, cl_out = fn(*[p[0] for p in pairs]), fn(*[p[1] for p in pairs])
    assert cl_out.device == CL and cpu_out.shape == cl_out.shape and cpu_out.dtype is cl_out.dtype
    assert_close(cl_out.detach().numpy(), cpu_out.detach().numpy(), rtol=rtol, atol=atol)
    if not any(wants) or not cpu_out.requires_grad:
        return
    gradient = np.random.default_rng(seed).standard_normal(cpu_out.shape).astype(cpu_out.dtype.numpy)
    cpu_out.backward(tb.tensor(gradient))
    cl_out.backward(tb.tensor(gradient, device=CL))
    for (cpu_in, cl_in), wanted in zip(pairs, wants):
        if wanted and cpu_in.grad is None:  # (an input the output does not depend on differentiably)
            assert cl_in.grad is None
        elif wanted:
            assert cl_in.grad.device == CL
            assert_close(cl_in.grad.numpy(), cpu_in.grad.numpy(), rtol=rtol, atol=atol)


# --- devices -------------------------------------------------------------------------------------


def test_plain_cl_is_the_default_device_index(monkeypatch):
    assert tb.Device("cl") == "cl:0" and tb.zeros(2, device="cl").device == "cl:0"
    monkeypatch.setenv("TINYGRAD_BN_CL_DEVICE", "3")
    assert tb.Device("cl") == "cl:3"
    monkeypatch.setenv("TINYGRAD_BN_CL_DEVICE", "gpu")
    with pytest.raises(ValueError, match="TINYGRAD_BN_CL_DEVICE must be a device index"):
        tb.Device("cl")


def test_tensors_on_cl_and_cpu_do_not_mix():
    with pytest.raises(RuntimeError, match="expected all tensors on the same device"):
        tb.ones(2) + tb.ones(2, device=CL)


def test_to_moves_values_and_gradients_flow_back_to_the_cpu_leaf():
    x = tb.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to("cl")
    assert y.device == CL and y.tolist() == [1.0, -2.0, 3.0]
    (y * y).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, -4.0, 6.0]
    back = y.to("cpu")
    assert back.device == "cpu" and back.to("cl", tb.float64 if FP64 else tb.float32).device == CL


def test_module_to_moves_parameters_and_buffers():
    model = tb.nn.Sequential(tb.nn.Linear(3, 4), tb.nn.BatchNorm1d(4)).to("cl")
    assert all(p.device == CL for p in model.parameters())
    assert all(b.device == CL for b in model.buffers())
    assert model[1].num_batches_tracked.dtype is tb.int64


def test_load_state_dict_and_copy_take_values_from_another_device():
    cpu_model = tb.nn.Sequential(tb.nn.Linear(3, 4), tb.nn.BatchNorm1d(4))
    cl_model = tb.nn.Sequential(tb.nn.Linear(3, 4), tb.nn.BatchNorm1d(4)).to("cl")
    cl_model.load_state_dict(cpu_model.state_dict())
    for name, value in cpu_model.state_dict().items():
        assert cl_model.state_dict()[name].device == CL
        np.testing.assert_array_equal(cl_model.state_dict()[name].numpy(), value.numpy())
    target = tb.zeros(2, 3, device=CL)
    target.copy_(tb.tensor([1.0, 2.0, 3.0]))
    assert target.tolist() == [[1.0, 2.0, 3.0]] * 2


@pytest.mark.parametrize("name", ["kaiming_uniform_", "xavier_normal_", "orthogonal_", "sparse_", "trunc_normal_"])
def test_init_fills_a_cl_tensor_as_a_cpu_one(name):
    filled = []
    for device in ("cpu", CL):
        tb.manual_seed(0)
        tensor = tb.empty(6, 4, device=device)
        getattr(tb.nn.init, name)(tensor, *([0.5] if name == "sparse_" else []))
        filled.append(tensor.numpy())
    assert_close(filled[1], filled[0])


def test_a_device_buffer_is_released_with_its_last_view():
    x = tb.ones(1000, device=CL)
    allocation = weakref.ref(x._buffer.allocation)
    view = x[10:20].reshape(2, 5)
    del x
    gc.collect()
    assert allocation() is not None  # the view still holds it
    del view
    gc.collect()
    assert allocation() is None


def test_a_build_failure_raises_with_the_build_log(monkeypatch):
    queue = get_backend(CL).queue
    monkeypatch.setattr(runtime, "_source", lambda family: "__kernel void broken(__global float *x) { x[0] = ; }")
    with pytest.raises(RuntimeError, match=r"(?s)building kernels/broken\.cl for float on cl:0 failed.*build log:\n.+"):
        queue.program("broken", np.dtype(np.float32), {})


def test_device_transfers_past_a_buffers_end_are_refused():
    from tinygrad_bn._ctensor_lib import ffi, lib

    queue, x = get_backend(CL).queue.queue, tb.zeros(4, device=CL)  # 16 bytes
    buffer, host, pattern = x._buffer.allocation.handle, np.ones(8, np.float32), np.ones(1, np.float32)
    assert lib.ct_cl_buffer_read(queue, buffer, 4, 16, ffi.from_buffer(host)) == lib.CT_ERR_INVALID_ARGUMENT
    assert "bytes [4, 4 + 16) run past the buffer's 16 bytes" in ffi.string(lib.ct_cl_last_error()).decode()
    assert lib.ct_cl_buffer_write(queue, buffer, 0, 32, ffi.from_buffer(host)) == lib.CT_ERR_INVALID_ARGUMENT
    assert lib.ct_cl_buffer_fill(queue, buffer, ffi.from_buffer(pattern), 4, 8, 12) == lib.CT_ERR_INVALID_ARGUMENT
    assert lib.ct_cl_buffer_copy(queue, buffer, 8, buffer, 0, 16) == lib.CT_ERR_INVALID_ARGUMENT
    assert x.tolist() == [0.0] * 4 and host.tolist() == [1.0] * 8


def test_a_buffer_past_the_largest_allocation_is_a_memory_error():
    with pytest.raises(MemoryError, match="larger than the device's largest allocation"):
        tb.empty(1 << 60, dtype=tb.bool_, device=CL)


def test_float64_needs_cl_khr_fp64(device_without_fp64):
    with pytest.raises(TypeError, match="has no cl_khr_fp64: float64 tensors cannot live there"):
        tb.full((2,), 1.0, dtype=tb.float64, device="cl")


@pytest.fixture
def device_without_fp64(monkeypatch):
    """cl:0 served by a backend that believes the device has no cl_khr_fp64."""
    from tinygrad_bn import backend
    from tinygrad_bn.backend.opencl import OpenCLBackend

    monkeypatch.setitem(backend._CL_BACKENDS, 0, OpenCLBackend(0, "no-fp64 stand-in", fp64=False, local_memory=False))


def test_float64_values_reach_a_device_without_fp64_as_float32(device_without_fp64):
    array = np.array([[1.0, 1 / 3], [-2.5, 1e-40]])
    for moved in (tb.tensor(array).to("cl", tb.float32), tb.zeros(2, 2, device="cl").copy_(tb.tensor(array))):
        assert moved.device == CL and moved.dtype is tb.float32
        np.testing.assert_array_equal(moved.numpy(), array.astype(np.float32))
    back = tb.tensor(array, dtype=tb.float32, device="cl").to("cpu", tb.float64)
    np.testing.assert_array_equal(back.numpy(), array.astype(np.float32).astype(np.float64))


def test_a_training_step_never_waits_for_the_device(monkeypatch):
    """Nothing is read back (no clFinish, no blocking read) until the user asks for a value."""
    model = tb.nn.Sequential(tb.nn.Linear(6, 8), tb.nn.BatchNorm1d(8), tb.nn.ReLU(), tb.nn.Dropout(0.2))
    model.append(tb.nn.Linear(8, 3)).to("cl")
    optimizer = tb.optim.Adam(model.parameters(), lr=0.01)
    x, target = tb.randn(16, 6).to("cl"), tb.tensor(np.arange(16) % 3).to("cl")
    reads = []
    monkeypatch.setattr(runtime.DeviceQueue, "read", lambda *args: reads.append(args))
    monkeypatch.setattr(runtime.DeviceQueue, "finish", lambda *args: reads.append(args))
    for _ in range(2):
        optimizer.zero_grad()
        tb.nn.CrossEntropyLoss()(model(x), target).backward()
        optimizer.step()
    assert reads == []


def test_threads_launching_kernels_together_get_their_own_results(tmp_path):
    """Run in a subprocess: before the device lock, threads mixed one kernel's arguments and crashed.
    (From tmp_path, so it imports tinygrad_bn as the session does, not the unbuilt checkout.)"""
    program = (
        "import threading, numpy as np, tinygrad_bn as tb\n"
        "wrong = []\n"
        "def work(seed):\n"
        "    a_np = np.random.default_rng(seed).standard_normal(1000).astype(np.float32)\n"
        "    a = tb.tensor(a_np, device='cl')\n"
        "    for _ in range(200):\n"
        "        if not np.allclose((a * a + a).numpy(), a_np * a_np + a_np):\n"
        "            wrong.append(seed)\n"
        "threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print('wrong', wrong)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "wrong []", (done.returncode, done.stdout, done.stderr)


# --- memory and movement ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 1, 4), (2, 0, 3)])
def test_values_round_trip(dtype, shape):
    if dtype == np.float64 and not FP64:
        pytest.skip("no cl_khr_fp64")
    array = (np.arange(int(np.prod(shape))).reshape(shape) % 3).astype(dtype)
    out = tb.tensor(array, device=CL)
    assert out.shape == shape and out.numpy().dtype == dtype
    np.testing.assert_array_equal(out.numpy(), array)
    np.testing.assert_array_equal(tb.full(shape, 1, dtype=dtype, device=CL).numpy(), np.ones(shape, dtype))


@pytest.mark.parametrize("source", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("target", ["float32", "float64", "int64", "bool"])
def test_cast_between_every_dtype(source, target):
    if "float64" in (source, target) and not FP64:
        pytest.skip("no cl_khr_fp64")
    array = np.array([[0.0, 1.5, -2.0], [3.0, 0.25, -0.0]]).astype(source)
    check_same(lambda t: t.T.to(getattr(tb, target if target != "bool" else "bool_")), array, grad=False)


def test_views_share_memory_and_writes_through_them_are_seen():
    x = tb.zeros(4, 6, device=CL)
    view = x[1:3, ::2]
    assert view.shape == (2, 3) and not view.is_contiguous()
    view[:] = tb.tensor([1.0, 2.0, 3.0], device=CL)
    x.T[5, 0] = 7.0
    expected = np.zeros((4, 6), np.float32)
    expected[1:3, ::2] = [1.0, 2.0, 3.0]
    expected[0, 5] = 7.0
    np.testing.assert_array_equal(x.numpy(), expected)
    x[1:, :] = x[:-1, :].clone()  # overlapping source and destination
    np.testing.assert_array_equal(x.numpy()[1:], expected[:-1])


def test_an_expanded_view_is_not_writable():
    with pytest.raises(RuntimeError, match="broadcast"):
        tb.ones(1, 3, device=CL).expand(4, 3).add_(1)


MOVEMENTS = {
    "reshape": lambda t: t.reshape(4, 6),
    "transpose_reshape": lambda t: t.permute(2, 0, 1).reshape(4, 6) * 1,
    "permute": lambda t: t.permute(1, 2, 0) * 1,
    "slices": lambda t: t[1:, ::2, -1] * 1,
    "none_and_int": lambda t: t[None, 0, :, None] * 1,
    "expand": lambda t: t[:, :1].expand(2, 5, 4) * 1,
    "flip_via_index": lambda t: t[:, [2, 0, 1]],
    "mask": lambda t: t[t > 0],
    "pad": lambda t: tb.pad(t, (1, 2, 0, 1), value=0.5),
    "cat": lambda t: tb.cat([t, t[:, :1] * 2], dim=1),
    "stack": lambda t: tb.stack([t[0], t[1]], dim=2),
    "gather": lambda t: t.gather(2, tb.tensor(np.zeros((2, 3, 2), np.int64), device=t.device)),
}


@pytest.mark.parametrize("name", MOVEMENTS)
def test_movement_and_indexing(name):
    check_same(MOVEMENTS[name], values(2, 3, 4))


def test_eight_dims_that_cannot_merge_and_the_limit_past_them():
    order = (7, 5, 3, 1, 6, 4, 2, 0)  # no two neighbours stay neighbours in memory
    check_same(
        lambda t: (t.permute(*order) * 2).sum((1, 6)) + t.permute(*order).amax(7, keepdim=True).sum(),
        values(*[2, 3] * 4),
    )
    with pytest.raises(NotImplementedError, match="has 9 dims that cannot be merged; kernels take at most 8"):
        tb.ones(*[2] * 9, device=CL).permute(8, 6, 4, 2, 0, 7, 5, 3, 1) * 2


def test_view_without_a_copy_is_refused_as_on_the_cpu():
    with pytest.raises(RuntimeError, match="cannot be viewed"):
        tb.ones(3, 4, device=CL).T.view(12)


def test_setitem_at_index_tensors():
    array = values(5, 3)
    cpu, cl = both(array)
    for t in (cpu, cl):
        t[tb.tensor([0, 3], device=t.device)] = 9.0
    np.testing.assert_array_equal(cl.numpy(), cpu.numpy())


EMPTY_CASES = {
    "elementwise": lambda t: (t * 2 + 1).exp().relu(),
    "sum_over_the_empty_dim": lambda t: t.sum(0) + t.sum(1).sum(),
    "softmax": lambda t: t.softmax(1) + t.log_softmax(0),
    "activation": lambda t: tb.nn.functional.gelu(t).sigmoid(),
    "matmul": lambda t: t @ t.T,
    "layer_norm": lambda t: tb.nn.functional.layer_norm(t, t.shape[1:]),
    "cat_and_pad": lambda t: tb.pad(tb.cat([t, t], dim=1), (1, 1)),
    "mask": lambda t: t[t > 0],
}


@pytest.mark.parametrize("shape", [(0, 4), (3, 0)], ids=["no_rows", "no_columns"])
@pytest.mark.parametrize("name", EMPTY_CASES)
def test_empty_tensors_through_ops_and_their_gradients(name, shape):
    check_same(EMPTY_CASES[name], np.zeros(shape, np.float32))


def test_empty_batches_through_the_fused_losses_and_norms():
    check_same(lambda t: tb.nn.functional.cross_entropy(t, tb.zeros(0, dtype=tb.int64, device=t.device)), values(0, 4))
    check_same(lambda t: tb.nn.functional.group_norm(t, 2), values(0, 4, 3))
    check_same(lambda t: tb.nn.functional.batch_norm(t, None, None, training=True), values(4, 0, 3))


# --- elementwise -----------------------------------------------------------------------------------

UNARY = {
    "neg": lambda t: -t,
    "exp": lambda t: t.exp(),
    "expm1": lambda t: t.expm1(),
    "log": lambda t: t.abs().log(),
    "log1p": lambda t: t.abs().log1p(),
    "sqrt": lambda t: t.abs().sqrt(),
    "sin": lambda t: t.sin(),
    "cos": lambda t: t.cos(),
    "erf": lambda t: t.erf(),
    "relu": lambda t: t.relu(),
    "abs": lambda t: t.abs(),
    "sign": lambda t: t.sign(),
}


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_on_a_transposed_view(name, dtype):
    check_same(lambda t: UNARY[name](t.T), values(3, 5, dtype=dtype.numpy))


def test_unary_special_values():
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30], np.float32)
    for name in ("relu", "sign", "abs", "exp", "neg"):
        check_same(UNARY[name], special, grad=False)


def test_relu_of_an_integer_tensor_stays_integer():
    check_same(lambda t: t.relu(), np.array([[-3, 0], [2, -1]], np.int64))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs() ** b,
    "maximum": lambda a, b: tb.maximum(a, b),
    "minimum": lambda a, b: tb.minimum(a, b),
    "scalar": lambda a, b: 2.0 * a - b / 3.0,
}


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasts(name, dtype):
    check_same(BINARY[name], values(4, 1, 3, dtype=dtype.numpy), values(5, 1, dtype=dtype.numpy, seed=1))


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    mask=st.lists(st.booleans(), min_size=4, max_size=4),
    transpose=st.booleans(),
)
def test_binary_on_any_broadcast_layout(shape, mask, transpose):
    other = [1 if keep else size for size, keep in zip(shape, mask)]
    a, b = values(*shape), values(*other, seed=1)

    def fn(x, y):
        x, y = (x.T, y.T) if transpose else (x, y)
        return x * y + x

    check_same(fn, a, b)


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_give_bool(op):
    a = np.array([[1.0, np.nan, 3.0], [2.0, 2.0, -1.0]], np.float32)
    b = np.array([2.0, np.nan, 3.0], np.float32)
    check_same(lambda x, y: getattr(x, f"__{op}__")(y), a, b, grad=False)


def test_integer_and_bool_ops():
    a = np.array([[3, -2, 0], [7, 5, -9]], np.int64)
    b = np.array([2, 2, -1], np.int64)
    check_same(lambda x, y: (x + y) * y - x, a, b)
    check_same(lambda x, y: x.abs().sum(0) + (x > y).sum(), a, b)
    check_same(lambda x, y: (~(x > 0) | (y < 0)) & (x != 5), a, b)
    check_same(lambda x, y: x.max(0)[0] - y.min(), a, b)


def test_integer_powers_and_negative_exponents():
    check_same(lambda x, y: x ** y.abs(), np.array([[3, -2, 0], [7, 5, -9]]), np.array([2, 0, 5]))
    for device in ("cpu", CL):
        with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
            tb.tensor([2, 3], device=device) ** tb.tensor([1, -1], device=device)


def test_where_with_a_broadcast_condition():
    check_same(lambda c, a, b: tb.where(c > 0, a, b.T), values(3, 1), values(3, 4, seed=1), values(4, 3, seed=2))


def test_clamp_and_composite_ops():
    check_same(lambda t: t.clamp(-0.5, 0.7) + t.softmax(1) + t.log_softmax(0), values(4, 5))


# --- reductions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize(
    "dims", [None, 0, 1, (0, 2), (1, 2)], ids=["all", "first", "middle", "outer_pair", "inner_pair"]
)
def test_reductions_over_axes_of_a_permuted_view(op, dims, dtype):
    check_same(lambda t: getattr(t.permute(1, 0, 2), op)(dims), values(6, 5, 40, dtype=dtype.numpy))


@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    data=st.data(),
    op=st.sampled_from(["sum", "amax", "amin"]),
    keepdim=st.booleans(),
)
def test_reductions_over_any_axes_of_any_permutation(shape, data, op, keepdim):
    order = data.draw(st.permutations(range(len(shape))))
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1)))))
    check_same(lambda t: getattr(t.permute(*order), op)(axes or None, keepdim=keepdim), values(*shape))


@pytest.mark.parametrize("keepdim", [False, True])
def test_reduction_with_keepdim_and_size_one_dims(keepdim):
    check_same(lambda t: t.sum((0, 2), keepdim=keepdim) * t.max(3, keepdim=True)[0].mean(), values(1, 4, 1, 300))


def test_a_long_sum_is_accurate():
    array = np.random.default_rng(0).uniform(0, 1, 1_000_003).astype(np.float32)
    total = tb.tensor(array, device=CL).sum().item()
    assert abs(total - np.sum(array, dtype=np.float64)) < 1e-6 * array.size


@pytest.mark.parametrize("length", [3, 1000], ids=["work_item_per_output", "work_group_per_output"])
def test_sums_with_infinities_are_infinite_not_nan(length):
    array = np.ones((4, length), np.float32)
    array[0, 0], array[1, 1], array[2, :2], array[3, -1] = np.inf, -np.inf, (np.inf, -np.inf), np.nan
    check_same(lambda t: t.sum(1), array, grad=False)  # [inf, -inf, nan, nan]


def test_max_and_min_propagate_nan():
    array = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, -1.0]], np.float32)
    check_same(lambda t: t.amax(1) + t.amin(0).sum(), array, grad=False)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_arg_extremum_picks_the_first_and_nan_wins(op):
    array = np.array([[1.0, 5.0, 5.0, 0.0], [2.0, np.nan, 7.0, np.nan], [-1.0, -1.0, -1.0, -1.0]], np.float32)
    check_same(lambda t: getattr(t, op)(1), array, grad=False)
    check_same(lambda t: getattr(t.T, op)(0, keepdim=True), array, grad=False)
    check_same(lambda t: getattr(t, op)(), values(7, 9), grad=False)


# --- matmul -----------------------------------------------------------------------------------------


@pytest.fixture(params=["matmul_tiled", "matmul_direct"])
def matmul_kernel(request, monkeypatch):
    """Both matmul kernels, whichever this device would choose."""
    monkeypatch.setattr(get_backend(CL), "matmul_kernel", request.param)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize(
    "shapes",
    [
        ((1, 1), (1, 1)),
        ((33, 17), (17, 65)),
        ((2, 40, 3), (3, 70)),
        ((3, 1, 5, 4), (2, 4, 6)),
        ((5, 0), (0, 3)),
        ((70, 130), (130, 9)),
    ],
    ids=["1x1", "edges", "batched_by_matrix", "broadcast_batch", "k0", "several_tiles"],
)
def test_matmul(shapes, dtype, matmul_kernel):
    check_same(lambda a, b: a @ b, values(*shapes[0], dtype=dtype.numpy), values(*shapes[1], dtype=dtype.numpy))


def test_matmul_reads_transposed_and_sliced_operands_without_a_copy(matmul_kernel):
    check_same(lambda a, b: a.T @ b[:, 1::2], values(50, 37), values(50, 90, seed=1))


# --- layers ---------------------------------------------------------------------------------------

ACTIVATIONS = {
    "sigmoid": tb.nn.Sigmoid(),
    "tanh": tb.nn.Tanh(),
    "silu": tb.nn.SiLU(),
    "elu": tb.nn.ELU(0.7),
    "selu": tb.nn.SELU(),
    "gelu": tb.nn.GELU(),
    "gelu_tanh": tb.nn.GELU("tanh"),
    "softplus": tb.nn.Softplus(),
    "leaky_relu": tb.nn.LeakyReLU(0.1),
}


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations(name, dtype):
    array = values(7, 9, dtype=dtype.numpy, low=-6, high=6)
    check_same(lambda t: ACTIVATIONS[name](t[:, 1:]), array)


def _norm_case(module_fn, shape, dtype, train=True, steps=2):
    """A norm layer on both devices: outputs and gradients, and its running buffers after ``steps`` calls."""
    tb.manual_seed(0)
    cpu_module = module_fn().to(dtype)
    cl_module = module_fn().to(dtype)
    cl_module.load_state_dict(cpu_module.state_dict())
    cl_module.to("cl")
    for module in (cpu_module, cl_module):
        module.train(train)
    for step in range(steps):
        check_same(lambda t: (cpu_module if t.device == "cpu" else cl_module)(t), values(*shape, dtype=dtype.numpy,
                   seed=step))  # fmt: skip
    for name, buffer in cpu_module.named_buffers():
        assert_close(dict(cl_module.named_buffers())[name].numpy(), buffer.numpy())


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batch_norm_1d(dtype, train):
    _norm_case(lambda: tb.nn.BatchNorm1d(5), (16, 5), dtype, train)


def test_batch_norm_2d_cumulative_average_without_affine():
    _norm_case(lambda: tb.nn.BatchNorm2d(3, momentum=None, affine=False), (4, 3, 5, 6), tb.float32, steps=3)


def test_batch_norm_of_a_single_sample():
    _norm_case(lambda: tb.nn.BatchNorm1d(4), (1, 4, 3), tb.float32)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize(
    "module_fn",
    [
        lambda: tb.nn.GroupNorm(2, 6),
        lambda: tb.nn.LayerNorm(7),
        lambda: tb.nn.RMSNorm([3, 7]),
        lambda: tb.nn.InstanceNorm2d(6, affine=True, track_running_stats=True),
    ],
    ids=["group", "layer", "rms", "instance"],
)
def test_group_norm_family(module_fn, dtype):
    _norm_case(module_fn, (4, 6, 3, 7), dtype)


CROSS_ENTROPY = {
    "mean": {},
    "sum_smoothed": {"reduction": "sum", "label_smoothing": 0.2},
    "weighted_ignored": {"weight": [1.0, 0.5, 2.0, 1.5], "ignore_index": 2},
    "none_weighted_smoothed": {"reduction": "none", "weight": [1.0, 0.5, 2.0, 1.5], "label_smoothing": 0.1},
}


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("name", CROSS_ENTROPY)
@pytest.mark.parametrize("spatial", [False, True], ids=["rows", "spatial"])
def test_cross_entropy(name, spatial, dtype):
    options = dict(CROSS_ENTROPY[name])
    shape, target_shape = ((6, 4, 3), (6, 3)) if spatial else ((10, 4), (10,))
    target = np.random.default_rng(1).integers(0, 4, target_shape)

    def fn(logits):
        kwargs = dict(options)
        if "weight" in kwargs:
            kwargs["weight"] = tb.tensor(kwargs["weight"], dtype=dtype, device=logits.device)
        return tb.nn.functional.cross_entropy(logits, tb.tensor(target, device=logits.device), **kwargs)

    check_same(fn, values(*shape, dtype=dtype.numpy, low=-4, high=4))


@pytest.mark.parametrize("uploaded", [True, False], ids=["uploaded", "computed_on_device"])
def test_cross_entropy_names_a_bad_target(uploaded):
    target = tb.tensor([0, 4, 1], device=CL) if uploaded else tb.tensor([0, 2, 1], device=CL) * 2
    with pytest.raises(IndexError, match="target 4 is out of bounds"):
        tb.nn.functional.cross_entropy(tb.zeros(3, 4, device=CL), target)


OPTIMIZERS = {
    "sgd": lambda p: tb.optim.SGD(p, lr=0.1),
    "sgd_momentum_nesterov": lambda p: tb.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_dampening_maximize": lambda p: tb.optim.SGD(p, lr=0.1, momentum=0.5, dampening=0.3, maximize=True),
    "adam": lambda p: tb.optim.Adam(p, lr=0.05, weight_decay=0.1),
    "adam_amsgrad": lambda p: tb.optim.Adam(p, lr=0.05, amsgrad=True),
    "adamw": lambda p: tb.optim.AdamW(p, lr=0.05),
    "rmsprop_centered_momentum": lambda p: tb.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True),
    "rmsprop": lambda p: tb.optim.RMSprop(p, lr=0.01, weight_decay=0.1),
    "adagrad": lambda p: tb.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps(name, dtype):
    results = []
    for device in ("cpu", CL):
        params = [tb.tensor(values(3, 4, dtype=dtype.numpy), device=device, requires_grad=True),
                  tb.tensor(values(4, dtype=dtype.numpy, seed=1), device=device, requires_grad=True)]  # fmt: skip
        optimizer = OPTIMIZERS[name](params)
        for step in range(3):
            optimizer.zero_grad()
            ((params[0] @ params[1]).sin() * (step + 1)).sum().backward()
            optimizer.step()
        results.append([p.detach().numpy() for p in params])
    for cl_values, cpu_values in zip(results[1], results[0]):
        assert_close(cl_values, cpu_values)


# --- training -------------------------------------------------------------------------------------


def _train_bn_mlp(device, make_optimizer, dtype, steps=20):
    # NOTE: no bias on the Linear before BatchNorm (BN subtracts each channel's mean, so that bias's
    # true gradient is 0 and each device would compute rounding noise, which Adam scales up to ±lr).
    tb.manual_seed(0)
    model = tb.nn.Sequential(tb.nn.Linear(12, 32, bias=False), tb.nn.BatchNorm1d(32), tb.nn.ReLU(), tb.nn.Linear(32, 5))
    model.to(dtype).to(device)
    optimizer = make_optimizer(model.parameters())
    data = np.random.default_rng(0)
    losses = []
    for _ in range(steps):
        x = tb.tensor(data.standard_normal((64, 12)), dtype=dtype, device=device)
        y = tb.tensor(data.integers(0, 5, 64), device=device)
        optimizer.zero_grad()
        loss = tb.nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, {name: t.numpy() for name, t in model.state_dict().items()}


@pytest.mark.parametrize(
    "make_optimizer",
    [lambda p: tb.optim.SGD(p, lr=0.1, momentum=0.9), lambda p: tb.optim.Adam(p, lr=0.01)],
    ids=["sgd_momentum", "adam"],
)
def test_bn_mlp_training_matches_the_cpu(make_optimizer):
    """20 steps: every loss, parameter and running statistic agrees with the CPU run to float32 tolerance."""
    cpu_losses, cpu_state = _train_bn_mlp("cpu", make_optimizer, tb.float32)
    cl_losses, cl_state = _train_bn_mlp("cl", make_optimizer, tb.float32)
    assert_close(np.array(cl_losses), np.array(cpu_losses), rtol=1e-5, atol=1e-6)
    assert cl_state.keys() == cpu_state.keys()
    for name, value in cpu_state.items():
        assert_close(cl_state[name], value, rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(not FP64, reason="no cl_khr_fp64")
def test_bn_mlp_training_in_float64_matches_to_rounding():
    cpu_losses, cpu_state = _train_bn_mlp("cpu", lambda p: tb.optim.Adam(p, lr=0.01), tb.float64, steps=5)
    cl_losses, cl_state = _train_bn_mlp("cl", lambda p: tb.optim.Adam(p, lr=0.01), tb.float64, steps=5)
    np.testing.assert_allclose(cl_losses, cpu_losses, rtol=1e-10)
    for name, value in cpu_state.items():
        np.testing.assert_allclose(cl_state[name], value, rtol=1e-8, atol=1e-12)
