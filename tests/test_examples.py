"""Every example script runs with `jx run` and prints what it says."""

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.jx"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "jx.cli", "run", str(path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip(), "an example prints its result"


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


def test_control_flow_example_output(tmp_path):
    path = next(p for p in EXAMPLES if p.name == "control_flow.jx")
    out = subprocess.run(
        [sys.executable, "-m", "jx.cli", "run", str(path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert "halvings(40) = 6" in out
    assert "step: 3.0 6.0" in out
