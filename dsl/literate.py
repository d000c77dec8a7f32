"""`jx literate FILE.jx`: a script as a document, Markdown (and HTML) with each top-level
statement's output and plots.

The script is checked as a whole, then run statement by statement, as `jx run` runs it.
The comment lines between statements become the prose (their `#` dropped); each statement
becomes a code block followed by what it printed (a bare expression shows its value, as in
the REPL) and the figures its `plot.*` calls drew, saved as PNG files beside the document
(`NAME-1.png`, ...). An error ends the document with its rendered message, and the command
exits 1.
"""

from __future__ import annotations

import dataclasses
import html
import io
import os

from . import syntax
from .api import get_backend, using
from .core import CTX
from .errors import JxError
from .formatting import format_value
from .interp import exec_block
from .modules import check_module, module_scope
from .plotting import RENDERERS


@dataclasses.dataclass
class Block:
    kind: str  # "prose", "code", "output", "error", "image"
    text: str


class Files:
    """The renderer of `jx literate`: each figure a PNG file in `folder`."""

    def __init__(self, folder: str, stem: str):
        self.folder, self.stem = folder, stem
        self.made: list[str] = []

    def figure(self):
        from matplotlib.figure import Figure  # noqa: PLC0415 - an optional dependency

        return Figure(figsize=(6, 4))

    def done(self, fig, kind: str) -> None:
        name = f"{self.stem}-{len(self.made) + 1}.png"
        fig.savefig(os.path.join(self.folder, name), dpi=100)
        self.made.append(name)


def render(path: str, out_dir: str, stem: str, backend="numpy") -> tuple[list[Block], bool]:
    """The document's blocks, and whether the script ran to its end; plots are written to
    `out_dir` as STEM-1.png, STEM-2.png, ..."""
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    lines = text.splitlines()
    blocks: list[Block] = []
    be = get_backend(backend) if isinstance(backend, str) else backend
    try:
        module = syntax.parse(text, path)
        check_module(module)
    except JxError as e:
        return [Block("code", text.rstrip()), Block("error", e.render())], False
    scope = module_scope(path)
    files = Files(out_dir, stem)
    done_line = code_start = 0
    saved = CTX.out, CTX.echo
    RENDERERS.append(files)
    try:
        starts = [_first_line(stmt, lines) for stmt in module.body] + [len(lines) + 1]
        for k, stmt in enumerate(module.body):
            start, end = starts[k], _last_line(stmt, lines, starts[k + 1])
            blocks += _prose(lines[done_line : start - 1])
            if blocks and blocks[-1].kind == "code":  # statements that showed nothing: one block
                blocks[-1].text = "\n".join(lines[code_start - 1 : end])
            else:
                code_start = start
                blocks.append(Block("code", "\n".join(lines[start - 1 : end])))
            done_line = end
            out = io.StringIO()
            CTX.out = out
            CTX.echo = lambda value, out=out: out.write(format_value(value) + "\n")
            plots_before = len(files.made)
            try:
                with using(be):
                    exec_block((stmt,), scope, top=True)
            except JxError as e:
                blocks += _output(out.getvalue())
                blocks.append(Block("error", e.render()))
                return blocks, False
            blocks += _output(out.getvalue())
            blocks += [Block("image", name) for name in files.made[plots_before:]]
    finally:
        RENDERERS.remove(files)
        CTX.out, CTX.echo = saved
    blocks += _prose(lines[done_line:])
    return blocks, True


def _first_line(stmt, lines) -> int:
    start = stmt.span.line
    while start > 1 and lines[start - 2].lstrip().startswith("@"):  # its decorators
        start -= 1
    return start


def _last_line(stmt, lines, next_start: int) -> int:
    """A statement's last line of code: before the next statement, blank lines and comments
    after it left out (those are prose)."""
    end = min(stmt.span.end_line, next_start - 1)
    while end > stmt.span.line and (not lines[end - 1].strip() or _is_comment(lines[end - 1])):
        end -= 1
    return end


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _prose(lines) -> list[Block]:
    """The comment lines between statements as paragraphs of text."""
    paragraphs, current = [], []
    for line in lines + [""]:
        stripped = line.strip()
        if _is_comment(stripped):
            body = stripped[1:]
            current.append(body.removeprefix(" "))
        elif current:
            paragraphs.append(Block("prose", "\n".join(current)))
            current = []
    return paragraphs


def _output(text: str) -> list[Block]:
    return [Block("output", text.rstrip("\n"))] if text.strip() else []


def markdown(blocks: list[Block]) -> str:
    parts = []
    for b in blocks:
        if b.kind == "prose":
            parts.append(b.text)
        elif b.kind == "code":
            parts.append(f"```jx\n{b.text}\n```")
        elif b.kind in ("output", "error"):
            parts.append(f"```text\n{b.text}\n```")
        else:
            parts.append(f"![plot]({b.text})")
    return "\n\n".join(parts) + "\n"


_STYLE = (
    "body{max-width:48em;margin:2em auto;font-family:sans-serif;line-height:1.5}"
    "pre{background:#f6f8fa;padding:.6em;overflow-x:auto}pre.output{background:#fff;"
    "border-left:3px solid #ccc}pre.error{background:#fff0f0;border-left:3px solid #c33}"
)


def to_html(blocks: list[Block], title: str) -> str:
    body = []
    for b in blocks:
        if b.kind == "prose":
            body += [f"<p>{html.escape(p)}</p>" for p in b.text.split("\n\n")]
        elif b.kind == "image":
            body.append(f'<img src="{html.escape(b.text)}" alt="plot">')
        else:
            body.append(f'<pre class="{b.kind}">{html.escape(b.text)}</pre>')
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
