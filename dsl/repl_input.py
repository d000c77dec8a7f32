"""Where a REPL input ends, in the text typed so far.

On a terminal, Enter continues an input while a bracket is open, a line ends in a
backslash, or a block (a line ending in `:`) has not met a blank line yet (`needs_more`).
Over a pipe, `read_inputs` groups lines into inputs the same way, except that a block ends
at the next line that starts in column 0 other than `elif` or `else`, so blank lines inside
a block are kept, as in a script. Strings and comments are skipped in both.
"""

from __future__ import annotations

import re


def scan(text: str) -> tuple[int, bool, bool]:
    """(brackets left open, ends with a backslash, opens a block: a line ending in ':')."""
    depth, block, quote, last = 0, False, None, ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c in (quote, "\n"):  # jx strings never span lines
                quote, last = None, c
        elif c == "#":
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif c == "\n":
            block = block or (depth == 0 and last == ":")
            last = ""
        elif not c.isspace():
            quote = c if c in "'\"" else None
            depth += c in "([{"
            depth = max(0, depth - (c in ")]}"))
            last = c
        i += 1
    block = block or (depth == 0 and last == ":")
    return depth, last == "\\", block


def needs_more(text: str) -> bool:
    """On a terminal: whether Enter continues the input rather than running it."""
    if not text.strip() or text.lstrip().startswith(":"):
        return False
    depth, continued, block = scan(text)
    if depth or continued:
        return True
    return block and bool(text.rsplit("\n", 1)[-1].strip())  # a block ends at a blank line


def _continues_block(line: str) -> bool:
    stripped = line.strip()
    return (
        not stripped
        or stripped.startswith("#")
        or line[:1].isspace()
        or re.match(r"(elif|else)\b", stripped) is not None
    )


def read_inputs(lines):
    """Group a stream of lines into inputs: (first line number, text). A statement ends
    with its line (brackets and backslashes permitting); a block at the next line that
    starts in column 0 other than elif/else; a `:` line is a command."""
    buf: list[str] = []
    start = 0
    for lineno, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if buf and not _continues_block(line):
            yield start, "\n".join(buf)
            buf = []
        if not buf:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith(":"):
                yield lineno, line
                continue
            start = lineno
        buf.append(line)
        depth, continued, block = scan("\n".join(buf))
        if not (depth or continued or block):
            yield start, "\n".join(buf)
            buf = []
    if buf:
        yield start, "\n".join(buf)
