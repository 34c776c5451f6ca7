"""Shared by the tests that run examples/ scripts as their users do: in a subprocess, checked by what
they print and write.

The subprocess imports tinygrad_bn the way the test session does (the installed package in CI, the
caller's PYTHONPATH on a developer machine): it never puts the checkout on the path itself, whose
unbuilt tinygrad_bn/ would shadow the installed package in CI. It runs with one kernel thread (the
runs are tiny and the cores shared) and matplotlib's Agg backend.

MNIST comes from $TINYGRAD_BN_DATA, else ``../shared/data`` beside the checkout (where CI keeps it);
without either, a test that needs it skips on a developer machine and fails in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import IN_CI

REPO = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_example(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python examples/<script> <args>``: its exit status and output (not checked here)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg", "TINYGRAD_BN_NUM_THREADS": "1"}
    command = [sys.executable, str(REPO / "examples" / script), *args]
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env, timeout=timeout)


def printed_by(script: str, *args: str) -> str:
    """What ``examples/<script> <args>`` printed; a non-zero exit fails the test."""
    done = run_example(script, *args)
    assert done.returncode == 0, f"{script} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[: len(PNG_SIGNATURE)] == PNG_SIGNATURE


def mnist_root() -> Path:
    """The folder holding mnist/ (skips outside CI, fails in CI, when there is none)."""
    candidates = [Path(os.environ["TINYGRAD_BN_DATA"])] if os.environ.get("TINYGRAD_BN_DATA") else []
    candidates.append(REPO.parent / "shared" / "data")
    for root in candidates:
        if (root / "mnist").is_dir():
            return root
    message = f"no MNIST files: looked for mnist/ in {', '.join(map(str, candidates))}"
    if IN_CI:
        pytest.fail(message + " (CI must have them)")
    pytest.skip(message)
