"""The docs' jx code blocks (```jx fences in README.md and docs/*.md) parse: a snippet may
use names it does not define, but never syntax the language lacks."""

import pathlib
import re

import pytest
from jx import syntax

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```jx\n(.*?)^```", re.DOTALL | re.MULTILINE)
BLOCKS = [
    pytest.param(text, id=f"{path.name}:{n}")
    for path in DOCS
    for n, text in enumerate(FENCE.findall(path.read_text(encoding="utf-8")))
]


def test_there_are_blocks_to_check():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("text", BLOCKS)
def test_doc_block_parses(text):
    syntax.parse(text, "doc.jx")
