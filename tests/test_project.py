"""Project hygiene that CI checks with the tests: lint, and the README's example runs as written
(the examples/ scripts are run by test_examples.py)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")  # conftest turns this into a failure in CI
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_example_runs_as_written(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"## Using it\n\n```python\n(.*?)```", readme, re.S)
    assert example is not None, "README.md lost its '## Using it' example"
    monkeypatch.chdir(tmp_path)  # it saves a file
    exec(compile(example.group(1), "README.md", "exec"), {})


def test_readme_opens_with_the_quickstart_and_the_command_ci_runs():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert first_block is not None, "README.md lost its opening commands"
    commands = [line for line in first_block.group(1).splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2, commands
    assert commands[0].endswith('pip install ".[examples]" && python examples/quickstart.py')
    ci_script = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci_script, "the README's second command and .ci/run must be the same line"
