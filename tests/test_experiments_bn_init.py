"""The classic experiments 1 and 2 (examples/bn_vs_no_bn.py, examples/init_and_activations.py) run
end to end in --smoke mode: each writes its PNGs and prints its tables.

They need the real MNIST files: read from ``<repo>/../shared/data`` when it exists (CI keeps
``shared/`` next to the clone), else from ``$TINYGRAD_BN_DATA``. Without either the tests skip on a
developer machine and fail in CI, where a skip is an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import IN_CI

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def mnist_root() -> Path:
    """The folder holding mnist/ (skips outside CI, fails in CI, when there is none)."""
    for root in (SHARED_DATA, os.environ.get("TINYGRAD_BN_DATA")):
        if root and (Path(root) / "mnist").is_dir():
            return Path(root)
    message = f"MNIST files not found in {SHARED_DATA} or $TINYGRAD_BN_DATA"
    if IN_CI:
        pytest.fail(message + " (CI must have them)")
    pytest.skip(message)


def run_smoke(script: str, out: Path) -> str:
    """Run ``examples/<script> --smoke`` as a user would; what it printed (a non-zero exit fails)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    # One kernel thread: the smoke runs are tiny, and the few cores are shared with other jobs.
    env["TINYGRAD_BN_NUM_THREADS"] = "1"
    command = [sys.executable, str(REPO / "examples" / script), "--smoke", "--data-dir", str(mnist_root())]
    done = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, f"{script} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def assert_pngs(out: Path, names: list[str]) -> None:
    for name in names:
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE, name


def test_bn_vs_no_bn_smoke(tmp_path):
    printed = run_smoke("bn_vs_no_bn.py", tmp_path)
    assert_pngs(
        tmp_path,
        [
            "bn_vs_no_bn.png",
            "bn_vs_no_bn_activation_std.png",
            "bn_vs_no_bn_diagnostics_plain.png",
            "bn_vs_no_bn_diagnostics_bn.png",
        ],
    )
    assert "step  loss (no BN)  acc % (no BN)  loss (BN)  acc % (BN)" in printed
    assert "steps to reach" in printed and "with BN" in printed and "without BN" in printed
    assert "gradient norm of the first weight matrix / the last at step 1" in printed


def test_init_and_activations_smoke(tmp_path):
    printed = run_smoke("init_and_activations.py", tmp_path)
    histograms = [f"init_histograms_{activation}.png" for activation in ("tanh", "sigmoid", "relu")]
    assert_pngs(tmp_path, [*histograms, "init_training.png"])
    for row in ("tanh        1.0·randn", "relu        He", "tanh, Xavier", "relu, He"):
        assert row in printed, row
    assert "training loss after k steps" in printed and "test acc %" in printed
