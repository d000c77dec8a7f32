"""jx in IPython and Jupyter: `%load_ext jx`, then `%%jx` cells and `%jx` lines.

All cells share one jx namespace (a REPL `Session`), so a function defined in one cell is
there in the next; a cell that fails changes nothing. A name that jx does not know — not
defined by earlier jx cells, not a built-in — is looked up in the IPython namespace each
time a cell uses it, and passes in as `jx.compile(env=...)` would pass it (arrays,
numbers, trees of them, jx functions; a Python callable is refused). Once jx code assigns
a name, jx's binding wins. A cell's last expression statement is its value, returned to
IPython (NumPy arrays, jx functions callable from Python) and so displayed as `Out[n]`;
earlier expression statements are not shown, as in a Python cell. `%jx EXPR` does the
same for one line, and `%jx :type EXPR` (any REPL command) runs the command. Errors show
as jx renders them, without a Python traceback, and still stop "run all".
"""

from __future__ import annotations

from IPython.core.magic import Magics, line_cell_magic, magics_class

from . import ast, syntax
from .api import to_host
from .builtins import BUILTINS
from .check import Checker
from .errors import JxError
from .repl import Session

#: The hidden name a cell's last expression is assigned to, to hand it back to IPython.
_RESULT = "__jx_cell_result__"


class JxCellError(Exception):
    """A jx error raised by a cell; IPython shows its rendered text, not a traceback."""

    def __init__(self, error: JxError):
        super().__init__(error.render())
        self.error = error

    def _render_traceback_(self) -> list[str]:
        return self.error.render().splitlines()


@magics_class
class JxMagics(Magics):
    def __init__(self, shell=None, **kwargs):
        super().__init__(shell, **kwargs)
        self.session = Session()
        self.host_names: set = set()  # jx names whose value came from the IPython namespace
        self.cells = 0

    @line_cell_magic
    def jx(self, line: str, cell: str | None = None):
        """Run jx code in the notebook's shared jx namespace; the last expression is the
        value. `%jx :help` lists the REPL commands, which work here too."""
        text = line if cell is None else cell
        if cell is None and text.strip().startswith(":"):
            self.session.command(text.strip())
            return None
        self.cells += 1
        name = f"<jx-cell-{self.cells}>"
        try:
            return self._run(syntax.parse(text, name), name)
        except JxError as e:
            raise JxCellError(e) from None

    def _run(self, module: ast.Module, name: str):
        body = module.body
        if body and isinstance(body[-1], ast.ExprStmt):
            last = body[-1].value
            target = ast.Name(last.span, _RESULT)
            body = body[:-1] + (ast.Assign(last.span, (target,), last),)
            module = ast.Module(module.span, body)
        host = self._host_values(module)
        scope = self.session.scope
        self.session.execute(module, name, env=host)
        self.host_names = (self.host_names | set(host)) - ast.bound_names(module.body)
        value = scope.vars.pop(_RESULT, None)
        return None if value is None else to_host(value, self.session.backend)

    def _host_values(self, module: ast.Module) -> dict:
        """The IPython values of the names this cell uses that jx does not define."""

        own = {k for k in self.session.scope.vars if k not in self.host_names}
        finder = _FreeNames(set(BUILTINS), own)
        try:
            finder.module(module)
        except JxError:
            pass  # the run reports it; the names found so far are all it needs
        user = self.shell.user_ns
        return {n: user[n] for n in sorted(finder.free) if n in user}


class _FreeNames(Checker):
    """The checker's scoping, collecting the names no scope binds instead of failing."""

    def __init__(self, builtins: set, known: set):
        super().__init__(builtins, known)
        self.free: set = set()

    def expr(self, e, scopes, in_function: bool) -> None:
        if isinstance(e, ast.Name) and not any(e.id in s for s in scopes):
            self.free.add(e.id)
            return
        super().expr(e, scopes, in_function)


def load_ipython_extension(ipython) -> None:
    """`%load_ext jx`: register `%%jx` and `%jx`."""
    ipython.register_magics(JxMagics)
