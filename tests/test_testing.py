"""`jx test` run as a user runs it (a subprocess): examples with tolerances, expected errors
with their class and line, properties shrunk to a small counterexample, `--backend all`,
JUnit XML and JSON reports, and pytest collecting `.jx` test files through jx's plugin."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

FAILING = """\
def f(x) = x * 2.0

# >>> f(ones(2))
# [2.0, 2.1]

# >>> f(ones(2)) @ ones(3)
# !! ShapeError at line 1

# >>> f(ones(2))
# !! TypeError

# forall x: f32[4] in [0, 10]: all(x < 5.0)
"""

PASSING = """\
def f(x) = x * 2.0

# >>> f(ones(2))
# [2.0, 2.0]

# tolerance: rtol=0.1 atol=0
# >>> f(ones(2))
# [2.1, 1.9]

# >>> f(ones(2)) @ ones(3)
# !! ShapeError at line 10: matmul

# forall x: f32[4] in [0, 10], n: i32[] in [1, 3]: allclose(f(x) * n, x * (2.0 * n))
"""


def jx(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "jx.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.fixture
def files(tmp_path):
    (tmp_path / "test_good.jx").write_text(PASSING)
    (tmp_path / "test_bad.jx").write_text(FAILING)
    (tmp_path / "helper.jx").write_text("this is not collected: no test_ prefix\n")
    return tmp_path


def test_a_passing_file_exits_0(files):
    proc = jx("test", str(files / "test_good.jx"), "-v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("ok [numpy]") == 4
    assert proc.stdout.strip().endswith("4 passed, 0 failed")


def test_failures_say_what_differs(files):
    proc = jx("test", str(files / "test_bad.jx"))
    assert proc.returncode == 1
    out = proc.stdout
    assert "Traceback" not in out + proc.stderr
    assert "test_bad.jx:3: f(ones(2))" in out and "values differ (largest difference 0.1)" in out
    assert "ShapeError at line 6, expected at line 1" in out
    assert "expected TypeError, got [2., 2.]" in out
    assert out.strip().endswith("0 passed, 4 failed")


def test_a_property_reports_its_shrunk_counterexample(files):
    out = jx("test", str(files / "test_bad.jx")).stdout
    # shrunk to the boundary: the smallest value that breaks it, 5.0 (unshrunk draws from
    # [0, 10] are rarely whole numbers)
    assert "false for x=[5., 5., 5., 5.]" in out


def test_a_folder_collects_test_files_on_every_backend(files):
    proc = jx("test", str(files), "--backend", "all")
    backends = sorted(
        {
            line.split("[")[1].split("]")[0]
            for line in proc.stdout.splitlines()
            if line.endswith("failed") and "[" in line
        }
    )
    assert "numpy" in backends
    summary = proc.stdout.strip().splitlines()[-1]
    passed, failed = (int(w) for w in summary.replace(",", "").split()[::2])
    assert (passed, failed) == (4 * len(backends), 4 * len(backends))
    assert "helper.jx" not in proc.stdout


def test_junit_and_json_reports(files, tmp_path):
    junit, report = tmp_path / "out.xml", tmp_path / "out.json"
    jx("test", str(files), "--junit", str(junit), "--json", str(report))
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("8", "4")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    bad = next(s for name, s in suites.items() if "test_bad.jx" in name)
    assert [c.find("failure") is not None for c in bad.iter("testcase")] == [True] * 4
    rows = json.loads(report.read_text())["results"]
    assert {(r["line"], r["passed"]) for r in rows if r["file"].endswith("test_good.jx")} == {
        (3, True),
        (7, True),
        (10, True),
        (13, True),
    }


def test_a_file_that_must_fail(tmp_path):
    path = tmp_path / "test_error.jx"
    path.write_text("# error: ShapeError at line 2\nx = ones(2) + ones(3)\n")
    assert jx("test", str(path)).returncode == 0
    path.write_text("# error: ShapeError at line 3\nx = ones(2) + ones(3)\n")
    proc = jx("test", str(path))
    assert proc.returncode == 1 and "ShapeError at line 2, expected at line 3" in proc.stdout


def test_a_script_without_expectations_passes_when_it_runs(tmp_path):
    (tmp_path / "test_plain.jx").write_text("assert 1 + 1 == 2\nprint('quiet')\n")
    proc = jx("test", str(tmp_path))
    assert proc.returncode == 0 and "quiet" not in proc.stdout
    (tmp_path / "test_plain.jx").write_text("assert 1 + 1 == 3\n")
    proc = jx("test", str(tmp_path))
    assert proc.returncode == 1 and "AssertionError" in proc.stdout


def test_no_test_files_is_a_usage_error(tmp_path):
    proc = jx("test", str(tmp_path))
    assert proc.returncode == 2 and "no test files" in proc.stderr


def test_pytest_collects_jx_files(files):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(files)],
        capture_output=True,
        text=True,
        cwd=files,
        timeout=300,
        check=False,
    )
    assert "4 failed, 4 passed" in proc.stdout, proc.stdout
    assert "values differ (largest difference 0.1)" in proc.stdout
    assert "test_bad.jx::3: f(ones(2)) [numpy] FAILED" in proc.stdout or (
        "FAILED test_bad.jx::3: f(ones(2)) [numpy]" in proc.stdout
    )
