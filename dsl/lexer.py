"""A Pygments lexer for jx, used by the REPL's syntax highlighting and by documentation.

`JxLexer` knows jx's keywords (and the Python keywords jx reserves), its literals, its
operators and the names of the built-ins, which it reads from the running jx so the list
never drifts from the language. It is registered under the alias `jx` (file pattern
`*.jx`) through the `pygments.lexers` entry point, so Sphinx or MkDocs can highlight
```` ```jx ```` blocks. A line starting with `:` is a REPL command (`:type x`); that is
never valid jx, so it costs documentation nothing.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (
    Comment,
    Generic,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from .builtins import BUILTINS

#: jx's statement and expression keywords (grammar/jx.lark).
KEYWORDS = (
    "def",
    "return",
    "if",
    "elif",
    "else",
    "for",
    "while",
    "in",
    "lambda",
    "import",
    "from",
    "as",
    "pass",
    "assert",
)
#: Python keywords jx reserves so that using one gets a clear error: shown as errors.
RESERVED = (
    "async",
    "await",
    "break",
    "class",
    "continue",
    "del",
    "except",
    "finally",
    "global",
    "is",
    "nonlocal",
    "raise",
    "try",
    "with",
    "yield",
)
#: Top-level effects: highlighted apart from pure built-ins, as they only work at top level.
EFFECTS = ("print", "save", "load")


def _builtin_names() -> tuple:
    names = {n for n in BUILTINS if not n.startswith("_") and n not in EFFECTS}
    return tuple(sorted(names - {"None"}))


class JxLexer(RegexLexer):
    """jx source: Python's shape, jx's vocabulary."""

    name = "jx"
    aliases: ClassVar[list[str]] = ["jx"]
    filenames: ClassVar[list[str]] = ["*.jx"]

    tokens: ClassVar[dict] = {
        "root": [
            (r"^(:)([a-z]+)", bygroups(Generic.Prompt, Keyword.Pseudo)),
            (r"\n", Whitespace),
            (r"[^\S\n]+", Whitespace),
            (r"#.*$", Comment.Single),
            (r"\\\n", Text),
            (r"(def)(\s+)", bygroups(Keyword, Whitespace), "funcname"),
            (r"(import|from)(\s+)", bygroups(Keyword.Namespace, Whitespace), "module"),
            (words(("True", "False", "None"), suffix=r"\b"), Keyword.Constant),
            (words(("and", "or", "not"), suffix=r"\b"), Operator.Word),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(RESERVED, suffix=r"\b"), Keyword.Reserved),
            (words(EFFECTS, suffix=r"\b"), Name.Builtin.Pseudo),
            (words(_builtin_names(), prefix=r"(?<!\.)", suffix=r"\b"), Name.Builtin),
            include("numbers"),
            (r'"(\\\\|\\"|[^"\n])*"', String.Double),
            (r"'(\\\\|\\'|[^'\n])*'", String.Single),
            (r"\*\*=?|//=?|<<=?|>>=?|[-+*/%@&|^~<>=!]=?", Operator),
            (r"\.\.\.", Keyword.Constant),
            (r"[()\[\]{},:;.]", Punctuation),
            (r"[^\W\d]\w*", Name),
        ],
        "numbers": [
            (r"0[xX](_?[0-9a-fA-F])+", Number.Hex),
            (r"(\d(_?\d)*\.(\d(_?\d)*)?|\.\d(_?\d)*)([eE][-+]?\d(_?\d)*)?", Number.Float),
            (r"\d(_?\d)*[eE][-+]?\d(_?\d)*", Number.Float),
            (r"\d(_?\d)*", Number.Integer),
        ],
        "funcname": [(r"[^\W\d]\w*", Name.Function, "#pop"), (r"", Text, "#pop")],
        "module": [
            (r"(as)(\s+)", bygroups(Keyword.Namespace, Whitespace)),
            (r"import\b", Keyword.Namespace),
            (r"[^\W\d][\w.]*", Name.Namespace),
            (r"[^\S\n]+|,", Text),
            (r"[()]", Punctuation),
            (r"", Text, "#pop"),
        ],
    }
