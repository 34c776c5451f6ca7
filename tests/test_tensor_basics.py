"""Tensor creation, dtypes, conversion, metadata and the errors bad input gets."""

import numpy as np
import pytest

import tinygrad_bn as tb
from tinygrad_bn.testing import assert_close


def test_python_floats_default_to_float32_and_ints_to_int64():
    assert tb.tensor([1.0, 2.0]).dtype is tb.float32
    assert tb.tensor([1, 2]).dtype is tb.int64
    assert tb.tensor([True]).dtype is tb.bool_
    assert tb.tensor(np.zeros(2)).dtype is tb.float64


def test_float32_with_float64_promotes_but_python_scalars_do_not():
    a, b = tb.ones(2), tb.ones(2, dtype=tb.float64)
    assert (a + b).dtype is tb.float64
    assert (a * 2.5).dtype is tb.float32
    assert (b * 2).dtype is tb.float64
    assert (tb.tensor([1, 2]) * 2).dtype is tb.int64
    assert (tb.tensor([1, 2]) * 2.5).dtype is tb.float32
    assert (tb.tensor([1, 2]) / 2).dtype is tb.float32


def test_creation_functions():
    assert tb.zeros(2, 3).shape == (2, 3)
    assert tb.ones((2, 3)).numpy().sum() == 6
    assert tb.full((2,), 7).dtype is tb.int64
    assert tb.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert tb.arange(0, 1, 0.25).dtype is tb.float32
    assert_close(tb.linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1.0])
    assert_close(tb.eye(2), np.eye(2))
    assert tb.zeros_like(tb.ones(2, dtype=tb.float64)).dtype is tb.float64
    assert tb.empty(3).shape == (3,)
    assert tb.randint(0, 3, (10,)).dtype is tb.int64


def test_manual_seed_makes_random_draws_reproducible():
    tb.manual_seed(7)
    first = (tb.rand(3).tolist(), tb.randn(2, 2).tolist(), tb.randint(0, 10, (4,)).tolist())
    tb.manual_seed(7)
    assert first == (tb.rand(3).tolist(), tb.randn(2, 2).tolist(), tb.randint(0, 10, (4,)).tolist())


def test_from_numpy_shares_memory_and_numpy_round_trips():
    array = np.arange(6.0).reshape(2, 3)
    t = tb.from_numpy(array)
    array[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    assert t.dtype is tb.float64
    with pytest.raises(TypeError, match="uint8"):
        tb.from_numpy(np.zeros(2, dtype=np.uint8))


def test_metadata():
    t = tb.zeros(2, 3, 4)
    assert (t.ndim, t.dim(), t.numel(), t.size(), t.size(-1)) == (3, 3, 24, (2, 3, 4), 4)
    assert t.T.shape == (4, 3, 2)
    assert t.device == "cpu" and str(t.device) == "cpu"
    assert len(t) == 2


def test_item_and_tolist():
    assert tb.tensor(3.5).item() == 3.5
    assert tb.tensor([[1, 2]]).tolist() == [[1, 2]]
    with pytest.raises(RuntimeError, match="2 elements"):
        tb.tensor([1.0, 2.0]).item()


def test_numpy_on_a_tensor_that_requires_grad_is_an_error():
    with pytest.raises(RuntimeError, match="detach"):
        tb.ones(2, requires_grad=True).numpy()


def test_repr_looks_like_pytorch():
    assert repr(tb.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tb.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(tb.tensor([1.0], dtype=tb.float64)) == "tensor([1.], dtype=tinygrad_bn.float64)"


def test_to_changes_dtype_and_rejects_unknown_devices():
    t = tb.ones(2)
    assert t.to(tb.float64).dtype is tb.float64
    assert t.double().float().dtype is tb.float32
    assert t.to("cpu") is t
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        t.to("gpu")
    with pytest.raises(RuntimeError, match=r"device cl:99: (OpenCL is not available here|there are \d+ OpenCL device)"):
        t.to("cl:99")


def test_set_num_threads():
    previous = tb.get_num_threads()
    try:
        tb.set_num_threads(1)
        assert tb.get_num_threads() == 1
        with pytest.raises(ValueError):
            tb.set_num_threads(0)
    finally:
        tb.set_num_threads(previous)
    assert tb.simd_name() in ("avx2+fma", "generic")


@pytest.mark.parametrize(
    ("expression", "error", "pattern"),
    [
        (
            lambda: tb.ones(3, 4) + tb.ones(5),
            ValueError,
            r"add: shapes \(3, 4\) and \(5,\) cannot be broadcast",
        ),
        (
            lambda: tb.ones(3, 4) @ tb.ones(5, 6),
            ValueError,
            r"matmul: shapes \(3, 4\) and \(5, 6\) are not aligned: 4 \(dim 1\) != 5 \(dim 0\)",
        ),
        (lambda: tb.ones(3).sum(2), IndexError, r"sum: dim 2 is out of range for a tensor with 1 dims"),
        (
            lambda: tb.ones(6).reshape(4, 2),
            ValueError,
            r"reshape: shape \(4, 2\) is invalid for a tensor of shape \(6,\)",
        ),
        (lambda: tb.ones(2, 3)[2], IndexError, r"index 2 is out of bounds for dim 0 with size 2"),
        (lambda: tb.ones(2, 3)[0, 0, 0], IndexError, r"too many indices"),
        (lambda: tb.ones(2, 3)[[0, 5]], IndexError, r"out of bounds for dim 0 with size 2"),
        (
            lambda: tb.ones(2, 3).expand(4, 3),
            ValueError,
            r"expand: the expanded size 4 must match the existing size 2",
        ),
        (lambda: tb.ones(2).permute(1, 0), ValueError, r"permute: got 2 dims"),
        (lambda: tb.cat([tb.ones(2, 3), tb.ones(2, 4)]), ValueError, r"cat: tensor 1 has shape \(2, 4\)"),
        (lambda: tb.ones(0).max(), RuntimeError, r"max: cannot reduce an empty tensor"),
        (lambda: tb.ones(2, dtype=tb.int64).mean(), TypeError, r"mean: expected a floating point tensor"),
        (
            lambda: tb.ones(3, 4).matmul(tb.ones(3, dtype=tb.int64)),
            TypeError,
            r"matmul: expected floating point",
        ),
        (lambda: tb.where(tb.ones(2), tb.ones(2), 0.0), TypeError, r"where: condition must be a bool tensor"),
        (lambda: tb.ones(2).split([1, 2]), ValueError, r"split: sections \[1, 2\] do not add up to 2"),
        (lambda: tb.one_hot(tb.tensor([3]), 2), ValueError, r"smaller than num_classes"),
        (lambda: tb.ones(0).amax(), RuntimeError, r"amax: cannot reduce an empty tensor of shape \(0,\)"),
        (lambda: tb.ones(2, 0).amin(1), IndexError, r"amin: dim 1 of a tensor of shape \(2, 0\) has size 0"),
        (lambda: tb.ones(3) / "a", TypeError, r"unsupported operand"),
        (lambda: "a" / tb.ones(3), TypeError, r"unsupported operand"),
        (lambda: tb.cat([tb.tensor(1.0)]), ValueError, r"cat: a 0-d tensor \(at position 0\)"),
        (lambda: -tb.tensor([True]), TypeError, r"neg: .* bool tensors; use ~"),
        (lambda: tb.ones(3).gather(0, tb.tensor([-1])), IndexError, r"gather: an index in \[-1\] is out of bounds"),
        (lambda: tb.ones(2, 3)[tb.tensor([True, False, True])], IndexError, r"bool mask of shape \(3,\)"),
        (lambda: tb.ones(3)[tb.tensor([0.5])], IndexError, r"must be int64 or bool"),
        (lambda: tb.tensor([True]).argmax(), TypeError, r"argmax: bool tensors are not supported"),
        (lambda: tb.tensor([2**63]), TypeError, r"integers must fit in int64"),
        (lambda: tb.tensor([float("nan")], dtype=tb.int64), ValueError, r"non-finite floats to tinygrad_bn.int64"),
        (lambda: tb.zeros(2).__setitem__(0, None), TypeError, r"setitem: expected a number, got NoneType"),
        (lambda: tb.zeros(2).__setitem__(0, [1.0]), TypeError, r"setitem: expected a number, got list"),
        (lambda: tb.arange(5, 0), ValueError, r"arange: the range \[5, 0\) is inconsistent with the sign of step"),
        (lambda: tb.cat(tb.ones(2, 2)), TypeError, r"cat: expected a sequence of tensors"),
        (lambda: tb.zeros(-1), ValueError, r"zeros: sizes must be non-negative"),
        (lambda: tb.eye(2.5), ValueError, r"eye: sizes must be non-negative ints"),
        (lambda: tb.rand(2, dtype=tb.int64), TypeError, r"rand: expected a floating point dtype"),
        (lambda: tb.ones(2).sum(1.0), TypeError, r"sum: dim must be an int"),
        (lambda: tb.ones(2, requires_grad=True).sum().backward([1.0]), TypeError, r"gradient 0 must be a Tensor"),
        (lambda: tb.autograd.grad(3, tb.ones(1)), TypeError, r"grad: outputs must be a Tensor"),
        (lambda: tb.pad(tb.ones(2), (1.5, 1)), TypeError, r"pad: sizes must be ints"),
        (lambda: tb.ones(2).clamp("a"), TypeError, r"clamp: expected a number, got str"),
        (lambda: tb.ones(2, dtype=tb.int64).add_(0.5), RuntimeError, r"add_: a result of dtype .*float32 cannot be"),
    ],
)
def test_bad_input_raises_a_clear_error(expression, error, pattern):
    with pytest.raises(error, match=pattern):
        expression()


def test_empty_and_size_one_shapes_work():
    assert tb.ones(0, 3).sum(0).tolist() == [0.0, 0.0, 0.0]
    assert (tb.ones(0, 3) @ tb.ones(3, 2)).shape == (0, 2)
    assert_close(tb.ones(2, 0) @ tb.ones(0, 3), np.zeros((2, 3)))
    assert tb.ones(1, 1, 1).squeeze().shape == ()


def test_functional_spellings_match_the_methods():
    x = tb.randn(3, 4)
    assert_close(tb.exp(x), x.exp())
    assert_close(tb.sum(x, 1), x.sum(1))
    assert_close(tb.softmax(x, dim=0), x.softmax(0))
    assert tb.max(x, 1).indices.tolist() == x.max(1).indices.tolist()
    with pytest.raises(TypeError, match="exp: expected a Tensor"):
        tb.exp(1.0)


def test_numpy_arrays_mix_with_tensors_on_either_side():
    assert_close(tb.ones(3) + np.arange(3.0), [1.0, 2.0, 3.0])
    out = np.arange(3.0) * tb.full((3,), 2.0)
    assert isinstance(out, tb.Tensor) and out.dtype is tb.float64
    assert_close(out, [0.0, 2.0, 4.0])


def test_t_rejects_more_than_two_dims():
    with pytest.raises(ValueError, match=r"t: expects a tensor with <= 2 dimensions, but got shape \(2, 3, 4\)"):
        tb.zeros(2, 3, 4).t()


def test_a_generator_starts_from_torchs_default_seed_and_manual_seed_returns_it():
    torch = pytest.importorskip("torch")
    assert tb.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721
    generator = tb.Generator()
    assert generator.manual_seed(5) is generator and generator.initial_seed() == 5
    assert tb.manual_seed(9) is tb.default_generator and tb.initial_seed() == 9


def test_a_negative_seed_wraps_modulo_2_to_the_64_like_torch():
    torch = pytest.importorskip("torch")
    expected = torch.Generator().manual_seed(-1).initial_seed()
    assert tb.Generator().manual_seed(-1).initial_seed() == expected == 2**64 - 1


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_a_seed_outside_torchs_range_is_rejected(seed):
    with pytest.raises(ValueError, match=r"manual_seed: seed must be in \[-2\*\*63, 2\*\*64\)"):
        tb.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "draw",
    [
        lambda g: tb.rand(3, 2, generator=g),
        lambda g: tb.randn(4, generator=g, dtype=tb.float64),
        lambda g: tb.randint(0, 100, (5,), generator=g),
        lambda g: tb.randperm(10, generator=g),
    ],
)
def test_random_draws_take_a_generator_independent_of_the_global_seed(draw):
    tb.manual_seed(1)
    first = draw(tb.Generator().manual_seed(3)).tolist()
    after_first = tb.rand(2).tolist()
    tb.manual_seed(1)
    assert tb.rand(2).tolist() == after_first  # the generator's draw did not advance the global one
    tb.manual_seed(2)
    assert draw(tb.Generator().manual_seed(3)).tolist() == first
    assert draw(tb.Generator().manual_seed(4)).tolist() != first


def test_randperm_is_a_permutation_like_torchs():
    torch = pytest.importorskip("torch")
    values = tb.randperm(50)
    assert values.dtype is tb.int64 and sorted(values.tolist()) == list(range(50))
    assert tb.randperm(0).shape == tuple(torch.randperm(0).shape) == (0,)


def test_random_draws_of_shape_empty_tuple_are_0_d_like_torchs():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(tb.rand(()), torch.rand(())), (tb.randn([]), torch.randn([]))]:
        assert ours.shape == tuple(theirs.shape) == ()
    assert tb.randint(0, 3, ()).shape == tuple(torch.randint(0, 3, ()).shape) == ()


def test_random_draws_reject_a_generator_that_is_not_a_tb_generator():
    with pytest.raises(TypeError, match=r"randn: argument 'generator' must be tb\.Generator, not Generator"):
        tb.randn(3, generator=np.random.default_rng(0))


def test_a_fresh_process_draws_the_same_numbers_without_manual_seed(tmp_path):
    import subprocess
    import sys

    program = "import tinygrad_bn as tb; print(tb.initial_seed(), tb.randn(3).tolist())"
    command = [sys.executable, "-c", program]
    # cwd: not the checkout, whose unbuilt tinygrad_bn/ would shadow the installed package under `python -c`
    runs = [subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout.startswith("67280421310721 ")  # PyTorch's default seed
