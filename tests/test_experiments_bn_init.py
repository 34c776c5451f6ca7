"""The classic experiments 1 and 2 (examples/bn_vs_no_bn.py, examples/init_and_activations.py) run
end to end in --smoke mode: each writes its PNGs and prints its tables.

They need the real MNIST files (see example_runs.mnist_root).
"""

from __future__ import annotations

from pathlib import Path

from example_runs import is_png, mnist_root, printed_by


def run_smoke(script: str, out: Path) -> str:
    return printed_by(script, "--smoke", "--data-dir", str(mnist_root()), "--out", str(out))


def assert_pngs(out: Path, names: list[str]) -> None:
    for name in names:
        assert is_png(out / name), name


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
