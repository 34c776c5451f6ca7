"""Test-session setup: hypothesis profiles, and no silent skips in CI.

In CI (``CI`` set in the environment) hypothesis runs the deterministic ``ci`` profile, and any
skipped test fails the session: a missing oracle (PyTorch) or tool is an error there, not a skip.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

IN_CI = bool(os.environ.get("CI"))

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=30,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus: int, config) -> None:
    if IN_CI and _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) were skipped, and CI allows no skips: " + ", ".join(_skipped[:10]),
            red=True,
        )
