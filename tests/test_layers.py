"""The language names no backend: no module under dsl/ imports jx.backends (backends are
found through the `jx.backends` entry-point group), and every installed backend loads
through that registry with the interface the language uses. The layering of dsl/ itself
is checked by `lint-imports` (pyproject's import-linter contracts)."""

import ast
import pathlib

import jx
import pytest
from jx import backend

DSL = pathlib.Path(__file__).resolve().parents[1] / "dsl"
INTERFACE = ("name", "array_types", "to_device", "to_host", "run_eqn", "run", "compile")


def _imports(path: pathlib.Path):
    package = ["jx", *path.relative_to(DSL).parent.parts]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield from (module, *(f"{module}.{a.name}" for a in node.names))


@pytest.mark.parametrize("path", sorted(DSL.rglob("*.py")), ids=lambda p: p.name)
def test_the_language_does_not_import_a_backend(path):
    bad = [m for m in _imports(path) if m == "jx.backends" or m.startswith("jx.backends.")]
    assert not bad, f"{path.name} imports {bad}; ask jx.backend.load(name) instead"


@pytest.mark.parametrize("name", backend.names())
def test_each_installed_backend_has_the_interface(name):
    try:
        be = backend.load(name)
    except jx.JxError as e:  # a backend that cannot run here says why
        assert "cannot run here" in str(e)
        return
    missing = [attr for attr in INTERFACE if not hasattr(be, attr)]
    assert not missing, f"the {name} backend lacks {missing}"
    assert be.device_count() >= 1


def test_an_unknown_backend_names_the_installed_ones():
    with pytest.raises(jx.ValueError, match="the installed backends are .*numpy"):
        backend.load("tpu9000")


def test_the_registry_is_complete_after_import():
    from jx.registry import REGISTRY

    before = set(REGISTRY)
    jx.compile("import linalg\nimport random\nimport nn\nimport optim\nx = linalg.inv(eye(2))\n")
    assert set(REGISTRY) == before
