"""`jx test`: expectations written in the comments of `.jx` files, checked on one backend or
on every installed one (docs/testing.md describes the format).

A test file is a jx script. Its top level runs first (its `print`s captured); then each
expectation is checked in the scope it left: an example (`# >>> EXPR` and the expected
value's lines under it, compared leaf by leaf with a tolerance), an expected error
(`# !! Class at line N: part of the message`), a property (`# forall x: f32[8] in [-1, 1]:
EXPR`, drawn and shrunk by hypothesis). A file whose first line is `# error: CLASS at line
N` must fail with that error on that line, the conformance cases' form; a script without
expectations passes when it runs to its end. Results go to the terminal, and to JUnit XML
or JSON for CI; `jx.pytest_plugin` lets pytest collect the same files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
import xml.etree.ElementTree as ET

import numpy as np

from . import api, syntax, trees
from . import backend as backend_registry
from .effects import quiet
from .errors import JxError

_FILE_ERROR = re.compile(r"#\s*error:\s*(\w+)\s+at\s+lines?\s+(\d+)(?:-(\d+))?")
_RAISES = re.compile(r"!!\s*(\w+)(?:\s+at\s+line\s+(\d+))?\s*(?::\s*(.*))?$")
_TOLERANCE = re.compile(r"tolerance:\s*(.*)")
_ARG = re.compile(r"\s*([A-Za-z_]\w*)\s*:\s*(\w+)\[([\d,\s]*)\](?:\s+in\s+\[([^\]]*)\])?\s*")
_DTYPES = {"f16": "float16", "f32": "float32", "f64": "float64", "i32": "int32"}
_DTYPES |= {"i64": "int64", "u32": "uint32", "bool": "bool"}
DEFAULT_TOLERANCE = {"rtol": 1e-6, "atol": 1e-6}
PROPERTY_EXAMPLES = 50
#: The names of files `jx test DIR` and pytest collect.
TEST_FILE = re.compile(r"^(test_.*|.*_test)\.jx$")


@dataclasses.dataclass
class Case:
    """One expectation of a file: an example (`>>>`), a property (`forall`), an error the
    whole file must raise, or the file itself (a script that must run to its end)."""

    path: str
    line: int
    kind: str  # "example", "property", "file-error", "script"
    text: str = ""  # the expression, or the property's arguments and expression
    expected: str = ""  # the expected value's expression, or the `!!`/`# error:` line
    tolerance: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_TOLERANCE))

    @property
    def name(self) -> str:
        what = {"example": self.text, "property": "forall " + self.text}.get(self.kind, self.kind)
        return f"{self.path}:{self.line}: {what}"


@dataclasses.dataclass
class Result:
    case: Case
    backend: str
    passed: bool
    message: str = ""
    seconds: float = 0.0


def collect(path: str) -> list[Case]:
    """The cases a file holds, in order."""
    with open(path, encoding="utf-8-sig") as f:
        lines = f.read().splitlines()
    if lines and _FILE_ERROR.match(lines[0]):
        return [Case(path, 1, "file-error", expected=lines[0])]
    cases, tolerance, i = [], dict(DEFAULT_TOLERANCE), 0
    while i < len(lines):
        body = _comment(lines[i])
        if body is not None and body.startswith(">>>"):
            expected, j = [], i + 1
            while j < len(lines):
                more = _comment(lines[j])
                if not more or more.startswith((">>>", "forall ", "tolerance:")):
                    break
                expected.append(more)
                j += 1
            text = body[3:].strip()
            cases.append(Case(path, i + 1, "example", text, " ".join(expected), dict(tolerance)))
            i = j
            continue
        if body is not None and body.startswith("forall "):
            cases.append(Case(path, i + 1, "property", body[len("forall ") :], "", dict(tolerance)))
        elif body is not None and _TOLERANCE.match(body):
            tolerance = {**tolerance, **_parse_tolerance(_TOLERANCE.match(body).group(1))}
        i += 1
    return cases or [Case(path, 1, "script")]


def _comment(line: str) -> str | None:
    stripped = line.strip()
    return stripped[1:].strip() if stripped.startswith("#") else None


def _parse_tolerance(text: str) -> dict:
    out = {}
    for part in text.split():
        key, _, value = part.partition("=")
        if key in ("rtol", "atol"):
            out[key] = float(value)
    return out


def find_files(paths) -> list[str]:
    """The test files named, and those under the folders named (`test_*.jx`, `*_test.jx`)."""
    found = []
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [os.path.join(folder, f) for f in sorted(files) if TEST_FILE.match(f)]
        else:
            found.append(path)
    return found


def backends_for(name: str) -> list[str]:
    """`all`: every installed backend that can run here; else the one named."""
    if name != "all":
        return [name]
    usable = []
    for candidate in backend_registry.names():
        try:
            api.get_backend(candidate)
        except JxError:
            continue
        usable.append(candidate)
    return usable


def run_file(path: str, backend: str) -> list[Result]:
    """Run every case of one file on one backend."""
    cases = collect(path)
    be = api.get_backend(backend)
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    start = time.perf_counter()
    if cases[0].kind == "file-error":
        passed, message = _check_file_error(cases[0], text, be)
        return [Result(cases[0], backend, passed, message, time.perf_counter() - start)]
    try:
        with quiet():
            scope = api.execute(text, path, be)
    except JxError as e:
        message = "the script failed: " + e.render()
        return [Result(c, backend, False, message, time.perf_counter() - start) for c in cases]
    if cases[0].kind == "script":
        return [Result(cases[0], backend, True, "", time.perf_counter() - start)]
    results = []
    for case in cases:
        start = time.perf_counter()
        check = _check_example if case.kind == "example" else _check_property
        passed, message = check(case, scope, be)
        results.append(Result(case, backend, passed, message, time.perf_counter() - start))
    return results


def _evaluate(expr: str, case: Case, scope, be, line=None):
    """The value of a jx expression in the script's scope. It is parsed where it stands in
    the file (inside parentheses opened on the line above), so an error's caret points at
    it in the comment."""
    line = line or case.line
    with open(case.path, encoding="utf-8-sig") as f:
        written = (f.read().splitlines() + [""] * line)[line - 1]
    column = max(written.find(expr), 0)
    source = "\n" * max(line - 2, 0) + "__jx_test_value = (\n" + " " * column + expr + "\n)\n"
    with quiet():
        api.run_module(syntax.parse(source, case.path), case.path, be, scope=scope)
    return scope.vars.pop("__jx_test_value")


def _check_example(case: Case, scope, be) -> tuple[bool, str]:
    raises = _RAISES.match(case.expected)
    if raises:
        return _check_raises(case, raises.groups(), scope, be)
    try:
        value = _evaluate(case.text, case, scope, be)
        if not case.expected:
            return False, f"no expected value under '>>> {case.text}'; it gave {_show(value, be)}"
        want = _evaluate(case.expected, case, scope, be, case.line + 1)
    except JxError as e:
        return False, e.render()
    problem = _compare(
        api.to_host(value, be, numbers=True), api.to_host(want, be, numbers=True), case.tolerance
    )
    if problem:
        return False, f"{problem}\n  got:      {_show(value, be)}\n  expected: {case.expected}"
    return True, ""


def _check_raises(case: Case, expected, scope, be) -> tuple[bool, str]:
    cls, line, part = expected
    try:
        value = _evaluate(case.text, case, scope, be)
    except JxError as e:
        return _matches(e, cls, int(line) if line else None, None, part)
    return False, f"expected {cls}, got {_show(value, be)}"


def _matches(e: JxError, cls: str, lo, hi, part=None) -> tuple[bool, str]:
    """Whether error `e` is of class `cls` (or a subclass), on lines lo..hi when given, with
    `part` in its message."""
    if cls not in {c.__name__ for c in type(e).__mro__}:
        return False, f"raised {type(e).__name__} instead of {cls}: {e.message}"
    found = e.span.line if e.span is not None else None
    if lo is not None and (found is None or not lo <= found <= (hi or lo)):
        where = f"{lo}" if hi in (None, lo) else f"{lo}-{hi}"
        return False, f"{cls} at line {found}, expected at line {where}\n{e.render()}"
    if part and part.strip() not in e.message:
        return False, f"the message {e.message!r} lacks {part.strip()!r}"
    return True, ""


def _show(value, be) -> str:
    host = api.to_host(value, be, numbers=True)
    return np.array2string(host, separator=", ") if isinstance(host, np.ndarray) else repr(host)


def _compare(got, want, tol) -> str:
    """'' when `got` matches `want`, else what differs."""
    got_leaves, got_tree = trees.flatten(got)
    want_leaves, want_tree = trees.flatten(want)
    if got_tree != want_tree:
        return "the structure differs"
    for g, w in zip(got_leaves, want_leaves):
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape:
            return f"shape {g.shape} where {w.shape} was expected"
        if g.dtype.kind in "fcV" or w.dtype.kind in "fcV":
            g, w = g.astype(np.float64), w.astype(np.float64)
            if not np.allclose(g, w, rtol=tol["rtol"], atol=tol["atol"], equal_nan=True):
                worst = float(np.nanmax(np.abs(g - w)))
                return f"values differ (largest difference {worst:.3g})"
        elif not np.array_equal(g, w):
            return "values differ"
    return ""


def _check_property(case: Case, scope, be) -> tuple[bool, str]:
    import hypothesis  # noqa: PLC0415 - an optional dependency (the test extra)
    from hypothesis import strategies as st  # noqa: PLC0415
    from hypothesis.extra import numpy as hnp  # noqa: PLC0415

    try:
        names, strategies, expr = _parse_property(case.text, st, hnp)
    except ValueError as e:
        return False, f"bad forall line: {e}"
    failure = {}

    @hypothesis.settings(
        max_examples=PROPERTY_EXAMPLES, deadline=None, database=None, derandomize=True
    )
    @hypothesis.given(st.tuples(*strategies))
    def prop(values):
        scope.vars.update(zip(names, values))
        try:
            held = _evaluate(expr, case, scope, be)
        finally:
            for name in names:
                scope.vars.pop(name, None)
        if not bool(np.all(api.to_host(held, be, numbers=True))):
            failure["example"] = dict(zip(names, values))  # the last one is the shrunk one
            raise AssertionError("the property is false")

    try:
        prop()
    except JxError as e:
        return False, e.render()
    except AssertionError:
        shown = ", ".join(
            f"{k}={np.array2string(v, separator=', ')}" for k, v in failure["example"].items()
        )
        return False, f"false for {shown}"
    return True, ""


def _parse_property(text: str, st, hnp):
    """(names, strategies, expression) of `x: f32[16] in [-2, 2], n: i32[]: expr`."""
    names, strategies, pos = [], [], 0
    while True:
        m = _ARG.match(text, pos)
        if m is None:
            raise ValueError(f"expected 'name: dtype[shape]' at {text[pos:]!r}")
        name, dtype_name, shape_text, bounds = m.groups()
        if dtype_name not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype_name!r}; use one of {', '.join(_DTYPES)}")
        dtype = np.dtype(_DTYPES[dtype_name])
        shape = tuple(int(s) for s in shape_text.replace(" ", "").split(",") if s)
        lo, hi = (float(b) for b in bounds.split(",")) if bounds else (-100.0, 100.0)
        if dtype.kind == "f":
            elements = st.floats(lo, hi, width=8 * dtype.itemsize, allow_nan=False)
        elif dtype.kind in "iu":
            elements = st.integers(int(lo), int(hi))
        else:
            elements = st.booleans()
        names.append(name)
        strategies.append(hnp.arrays(dtype, shape, elements=elements))
        pos = m.end()
        if text.startswith(",", pos):
            pos += 1
            continue
        if text.startswith(":", pos):
            return names, strategies, text[pos + 1 :].strip()
        raise ValueError(f"expected ',' or ':' at {text[pos:]!r}")


def _check_file_error(case: Case, text: str, be) -> tuple[bool, str]:
    m = _FILE_ERROR.match(case.expected)
    cls, lo, hi = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
    try:
        with quiet():
            api.execute(text, case.path, be)
    except JxError as e:
        return _matches(e, cls, lo, hi)
    return False, f"ran without the expected {cls}"


# ------------------------------------------------------------------ reports


def summary(results: list[Result]) -> str:
    failed = sum(not r.passed for r in results)
    return f"{len(results) - failed} passed, {failed} failed"


def write_junit(results: list[Result], path: str) -> None:
    """JUnit XML: one test suite per file and backend, one test case per expectation."""
    root = ET.Element("testsuites", tests=str(len(results)))
    suites: dict = {}
    for r in results:
        key = (r.case.path, r.backend)
        if key not in suites:
            suites[key] = ET.SubElement(root, "testsuite", name=f"{r.case.path}[{r.backend}]")
        suite = suites[key]
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{r.case.path}[{r.backend}]",
            name=r.case.name,
            time=f"{r.seconds:.6f}",
        )
        if not r.passed:
            ET.SubElement(case, "failure", message=r.message.splitlines()[0]).text = r.message
    for suite in suites.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
    root.set("failures", str(sum(not r.passed for r in results)))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_json(results: list[Result], path: str) -> None:
    rows = [
        {
            "file": r.case.path,
            "line": r.case.line,
            "kind": r.case.kind,
            "name": r.case.name,
            "backend": r.backend,
            "passed": r.passed,
            "message": r.message,
            "seconds": r.seconds,
        }
        for r in results
    ]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"summary": summary(results), "results": rows}, f, indent=2)
