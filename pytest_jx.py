"""pytest's entry point for jx (the `pytest11` group): pytest collects `.jx` test files
(`test_*.jx`, `*_test.jx`) with `jx.pytest_plugin`.

This module stays outside the `jx` package so that pytest starting up does not import jx:
jx is imported when pytest first meets a `.jx` file, after the conftest files have set the
environment jx reads on import (`JX_CHECK_IR`, the XLA device count).
"""


def pytest_addoption(parser):
    parser.addoption(
        "--jx-backend", default="numpy", help="the backend .jx tests run on ('all': every one)"
    )


def pytest_collect_file(parent, file_path):
    if file_path.suffix != ".jx":
        return None
    from jx import pytest_plugin  # noqa: PLC0415 - jx only once a .jx file is met (see above)

    return pytest_plugin.collect_file(parent, file_path)
