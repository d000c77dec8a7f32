"""jx in IPython and Jupyter: `%load_ext jx`, then `%%jx` cells and `%jx` lines.

All cells share one jx namespace (a REPL `Session`), so a function defined in one cell is
there in the next; a cell that fails changes nothing. A name that jx does not know — not
defined by earlier jx cells, not a built-in — is looked up in the IPython namespace each
time a cell uses it, and passes in as `jx.compile(env=...)` would pass it (arrays,
numbers, trees of them, jx functions; a Python callable is refused). Such a name is read
again from Python before every cell runs, Python's or jx's, so a jx function sees the
current value of a Python global. Once jx code assigns a name, jx's binding wins, and the
names a `%%jx` cell binds are put into the IPython namespace too (jx functions callable
from Python, arrays, keys). A cell's last expression statement is its value, returned to
IPython (NumPy arrays, jx functions callable from Python) and so displayed as `Out[n]`;
earlier expression statements are not shown, as in a Python cell. `%jx EXPR` does the
same for one line, and `%jx :type EXPR` (any REPL command) runs the command. A cell's
source is named after its prompt, `In[n]`, in error locations. Re-running a cell first
forgets the PRNG key uses of its previous run (a notebook's cells are re-run, unlike the
REPL's inputs), so a cell that draws from a key can run again. Errors show as jx renders
them, without a Python traceback, and still stop "run all".
"""

from __future__ import annotations

from IPython.core.magic import Magics, line_cell_magic, magics_class

from . import ast, syntax
from .api import to_host, to_jx
from .builtins import BUILTINS
from .check import Checker
from .errors import JxError
from .prng import journal_forget, journal_mark, journal_restore, journal_since
from .repl import Session
from .values import Module

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
        self.host_names: dict = {}  # jx names whose value came from Python: name -> object
        self.cell_id = None  # the notebook cell running now (None outside Jupyter)
        self.prompt = None  # its In[n] number
        self.key_uses: dict = {}  # cell id or source -> the key uses of its last run

    def before_cell(self, info) -> None:
        """IPython's pre_run_cell: note the cell, and read Python's values again."""
        self.cell_id = getattr(info, "cell_id", None)
        # IPython has counted the cell already when it keeps its history.
        self.prompt = self.shell.execution_count - bool(getattr(info, "store_history", False))
        user = self.shell.user_ns
        changed = {
            n: user[n] for n, seen in self.host_names.items() if user.get(n, seen) is not seen
        }
        for name, value in changed.items():
            try:
                self.session.scope.vars[name] = to_jx(value, f"Python value '{name}'")
            except JxError:
                continue  # no longer something jx takes: the cell that uses it says so
            self.host_names[name] = value

    @line_cell_magic
    def jx(self, line: str, cell: str | None = None):
        """Run jx code in the notebook's shared jx namespace; the last expression is the
        value. `%jx :help` lists the REPL commands, which work here too."""
        text = line if cell is None else cell
        if cell is None and text.strip().startswith(":"):
            self.session.command(text.strip())
            return None
        name = f"In[{self.shell.execution_count if self.prompt is None else self.prompt}]"
        try:
            return self._run(syntax.parse(text, name), name, self.cell_id or text)
        except JxError as e:
            raise JxCellError(e) from None

    def _run(self, module: ast.Module, name: str, cell):
        body = module.body
        if body and isinstance(body[-1], ast.ExprStmt):
            last = body[-1].value
            target = ast.Name(last.span, _RESULT)
            body = body[:-1] + (ast.Assign(last.span, (target,), last),)
            module = ast.Module(module.span, body)
        host = self._host_values(module)
        scope = self.session.scope
        earlier = self.key_uses.pop(cell, [])
        forgotten = journal_forget(earlier)
        mark = journal_mark()
        try:
            self.session.execute(module, name, env=host)
        except BaseException:
            self.key_uses[cell] = earlier  # the failed run changed nothing, this neither
            journal_restore(forgotten)
            raise
        self.key_uses[cell] = journal_since(mark)
        bound = ast.bound_names(module.body)
        self.host_names = {n: v for n, v in {**self.host_names, **host}.items() if n not in bound}
        value = scope.vars.pop(_RESULT, None)
        self._share(bound - {_RESULT})
        return None if value is None else to_host(value, self.session.backend)

    def _share(self, names) -> None:
        """Put the values of jx names into the IPython namespace, as Python sees them."""
        for name in names:
            value = self.session.scope.vars.get(name)
            if name.startswith("_") or value is None or isinstance(value, Module):
                continue
            try:
                self.shell.user_ns[name] = to_host(value, self.session.backend)
            except JxError:
                continue  # a value Python has no form for stays jx's own

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
    magics = JxMagics(ipython)
    ipython.register_magics(magics)
    ipython.events.register("pre_run_cell", magics.before_cell)
