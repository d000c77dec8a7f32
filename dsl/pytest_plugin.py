"""The pytest items of `.jx` test files (`test_*.jx`, `*_test.jx`), collected through the
`pytest_jx` entry point: each expectation of a file (see `jx.testing`) is one test item, run
on the backend `--jx-backend` names (`numpy` by default, `all` for every installed one). A
failure shows the expectation's message, never a Python traceback.
"""

from __future__ import annotations

import pytest

from . import testing


def collect_file(parent, file_path):
    if testing.TEST_FILE.match(file_path.name):
        return JxFile.from_parent(parent, path=file_path)
    return None


class JxFile(pytest.File):
    def collect(self):
        cases = testing.collect(str(self.path))
        for backend in testing.backends_for(self.config.getoption("--jx-backend")):
            results = _FileRun(str(self.path), backend)
            for case in cases:
                yield JxItem.from_parent(
                    self,
                    name=f"{case.line}: {case.text or case.kind} [{backend}]",
                    case=case,
                    results=results,
                )


class _FileRun:
    """One file's run on one backend, done once for all its items (the first asks)."""

    def __init__(self, path: str, backend: str):
        self.path, self.backend, self._results = path, backend, None

    def result(self, case) -> testing.Result:
        if self._results is None:
            self._results = {r.case.line: r for r in testing.run_file(self.path, self.backend)}
        return self._results[case.line]


class JxFailure(Exception):
    pass


class JxItem(pytest.Item):
    def __init__(self, *, case, results, **kwargs):
        super().__init__(**kwargs)
        self.case, self.results = case, results

    def runtest(self):
        result = self.results.result(self.case)
        if not result.passed:
            raise JxFailure(result.message)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, JxFailure):
            return f"{self.case.name}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line - 1, self.case.name
