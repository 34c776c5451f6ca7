"""The docs: the site builds in mkdocs' strict mode, their code runs, and the batch-norm page's NumPy
reference and C excerpts agree with the code they describe."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import IN_CI

import tinygrad_bn as tb

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Pages whose ```python blocks run top to bottom, in one namespace per page, as a reader would.
RUNNABLE_PAGES = ["getting-started.md", "autograd.md", "batch-norm.md", "activations-and-init.md"]


def code_blocks(page: str, language: str) -> list[str]:
    """The fenced ```language blocks of docs/<page>, in order."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def require(module: str) -> None:
    """Skip without ``module`` locally; in CI a missing docs tool is a failure, not a skip."""
    if importlib.util.find_spec(module) is None:
        message = f"{module} is not installed (pip install '.[test]')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def test_site_builds_in_strict_mode(tmp_path):
    require("mkdocs")
    require("mkdocstrings_handlers.python")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml")]
    result = subprocess.run(
        [*command, "--site-dir", str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    assert (tmp_path / "site" / "batch-norm" / "index.html").is_file()
    api = (tmp_path / "site" / "api" / "nn" / "index.html").read_text(encoding="utf-8")
    assert 'id="tinygrad_bn.nn.BatchNorm1d"' in api, "the API reference lost BatchNorm1d"


@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_page_code_runs(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = code_blocks(page, "python")
    assert blocks, f"{page} has no python blocks"
    namespace: dict = {"__name__": f"docs_{page}"}
    for block in blocks:
        exec(compile(block, f"docs/{page}", "exec"), namespace)


def test_batch_norm_c_excerpts_are_verbatim():
    sources = [ROOT / "ctensor" / "src" / name for name in ("norm.c", "norm_impl.h")]
    source = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    blocks = code_blocks("batch-norm.md", "c")
    assert len(blocks) >= 4
    for block in blocks:
        assert block.strip("\n") in source, f"batch-norm.md quotes C that is not in ctensor/src:\n{block}"


def numpy_reference() -> dict:
    """The functions defined by the batch-norm page's NumPy reference block."""
    (block,) = [b for b in code_blocks("batch-norm.md", "python") if "def batchnorm_backward" in b]
    namespace: dict = {}
    exec(compile(block, "docs/batch-norm.md", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 7), (3, 2, 4, 5)])
def test_numpy_reference_matches_batch_norm_layers(shape):
    reference = numpy_reference()
    rng = np.random.default_rng(len(shape))
    x_np = rng.standard_normal(shape) * 3 + 2
    dy_np = rng.standard_normal(shape)
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])

    layer_type = tb.nn.BatchNorm2d if len(shape) == 4 else tb.nn.BatchNorm1d
    layer = layer_type(shape[1], dtype=tb.float64)
    with tb.no_grad():
        layer.weight.copy_(tb.tensor(gamma))
        layer.bias.copy_(tb.tensor(beta))
    x = tb.tensor(x_np, requires_grad=True)
    y = layer(x)
    y.backward(tb.tensor(dy_np))

    y_ref, cache = reference["batchnorm_forward"](x_np, gamma, beta, eps=layer.eps)
    dx_ref, dgamma_ref, dbeta_ref = reference["batchnorm_backward"](dy_np, cache)
    running_mean, running_var = reference["update_running_stats"](
        x_np, np.zeros(shape[1]), np.ones(shape[1]), momentum=layer.momentum
    )
    np.testing.assert_allclose(y.detach().numpy(), y_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), dx_ref, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer.weight.grad.numpy(), dgamma_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), dbeta_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean.numpy(), running_mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.running_var.numpy(), running_var, rtol=1e-12, atol=1e-14)


def test_benchmark_charts_are_drawn_from_the_recorded_results(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "plot_results.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("gemm.svg", "norm.svg"):
        assert (tmp_path / name).read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert (DOCS / "img" / name).is_file(), f"docs/img/{name} is not committed"
