"""Shrinking a failing case to a small reproducer with the same failure signature.

Delta debugging in two passes: first over lines, then over tokens (the mutator's tokens, so
whitespace and strings stay whole), each removing ever smaller chunks while the case still
fails the same way; a last pass drops surplus blank lines and spaces. Every try costs one
run, so `budget` bounds the tries: a timeout costs its whole time limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from .cases import Case
from .mutate import tokens
from .runner import Worker


def _shrink(parts: list[str], joiner: str, still_fails: Callable[[str], bool], tries) -> list[str]:
    chunk = max(1, len(parts) // 2)
    while chunk >= 1 and tries[0] > 0:
        start, shrunk = 0, False
        while start < len(parts) and tries[0] > 0:
            candidate = parts[:start] + parts[start + chunk :]
            tries[0] -= 1
            if candidate and still_fails(joiner.join(candidate)):
                parts, shrunk = candidate, True
            else:
                start += chunk
        if not shrunk:
            chunk //= 2
    return parts


def minimise(case: Case, signature: str, worker: Worker, budget: int = 300) -> Case:
    """The smallest variant of `case` found in `budget` runs that fails with `signature`."""
    seen: dict[str, bool] = {}

    def still_fails(source: str) -> bool:
        if source not in seen:
            seen[source] = worker.run(replace(case, source=source)).signature == signature
        return seen[source]

    tries = [budget]
    lines = _shrink(case.source.split("\n"), "\n", still_fails, tries)
    source = "".join(_shrink(tokens("\n".join(lines)), "", still_fails, tries))
    tidy = "\n".join(line.rstrip(" ") for line in source.split("\n") if line.strip(" ")) + "\n"
    if tidy != source and still_fails(tidy):
        source = tidy
    return replace(case, source=source)
