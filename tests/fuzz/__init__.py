"""A fuzzer for jx's error contract: every bad input is a `jx.JxError` with a span in the
user's source, never another exception, a hang or a crash.

`cases.make_case(seed, index)` builds one reproducible case, either a program generated from
the grammar and the built-ins' signatures (`generate`) or a mutation of a program from the
examples, the standard library, the conformance cases and the tests (`mutate`). `runner`
executes cases in worker processes under time and memory limits and judges each outcome;
`minimise` shrinks a failing case while it keeps its failure signature. `python -m tests.fuzz`
runs long campaigns; `tests/test_fuzz.py` runs a bounded one inside the suite.
"""
