"""pmap against vmap on every collective, with elementwise chains after it that the NumPy
backend runs in place: each shard owns its buffers, so no shard sees another's writes.

Each case runs many times, with the mapped axis longer than the cores and a background
thread keeping the cores busy, so the shards interleave differently from run to run."""

import textwrap
import threading

import jx
import numpy as np
import pytest

# (name, collective) pairs: each shard's value after the collective, chained elementwise.
COLLECTIVES = {
    "psum": 'psum(x, "i")',
    "pmean": 'pmean(x, "i")',
    "pmax": 'pmax(x, "i")',
    "pmin": 'pmin(x, "i")',
    "all_gather": 'sum(all_gather(x, "i"), axis=0)',
    "axis_index": 'x * axis_index("i")',
}

# Chains that leave the collective's value dead midway, so its buffer is reused in place.
CHAINS = {
    "update": "p - 0.1 * c",
    "chain": "exp(tanh(c * 0.5)) + c * p - c",
    "twice": "(c + p) * (c - p) + sqrt(abs(c))",
}

REPEATS = 12


@pytest.fixture(scope="module")
def busy_cores():
    """Keep the cores loaded (NumPy releases the GIL), so the shards are preempted often."""
    stop = threading.Event()

    def burn():
        a = np.random.default_rng(0).standard_normal((256, 256))
        while not stop.is_set():
            a = np.tanh(a @ a.T * 1e-3)

    thread = threading.Thread(target=burn, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


def program(collective: str, chain: str) -> str:
    return textwrap.dedent(f"""
    def step(p, x):
        c = {collective}
        return {chain}
    par = pmap(step, axis_name="i")
    vec = vmap(step, axis_name="i")
    jpar = pmap(jit(step), axis_name="i")
    def loop(p, x):
        for k in range(3):
            c = {collective}
            p = {chain}
        return p
    lpar = pmap(loop, axis_name="i")
    lvec = vmap(loop, axis_name="i")
    """)


@pytest.mark.parametrize("chain", CHAINS)
@pytest.mark.parametrize("collective", COLLECTIVES)
def test_pmap_equals_vmap_after_collectives(collective, chain, busy_cores):
    m = jx.compile(program(COLLECTIVES[collective], CHAINS[chain]))
    rng = np.random.default_rng(7)
    p = rng.uniform(0.5, 1.5, (8, 64)).astype(np.float32)
    x = rng.uniform(0.5, 1.5, (8, 64)).astype(np.float32)
    want, want_loop = m.vec(p, x), m.lvec(p, x)
    for _ in range(REPEATS):
        np.testing.assert_allclose(m.par(p, x), want, rtol=2e-6, atol=1e-6)
        np.testing.assert_allclose(m.jpar(p, x), want, rtol=2e-6, atol=1e-6)
        np.testing.assert_allclose(m.lpar(p, x), want_loop, rtol=2e-6, atol=1e-6)


def test_the_reported_update(busy_cores):
    m = jx.compile('def upd(p, x) = p - 0.1 * psum(x, "i")\ng = pmap(upd, axis_name="i")')
    for _ in range(50):
        out = m.g(np.zeros((8, 3), np.float32), np.ones((8, 3), np.float32))
        np.testing.assert_allclose(out, np.full((8, 3), -0.8, np.float32), rtol=1e-6)


def test_shards_own_their_collective_results():
    """The mechanism itself: no two shards are handed the same buffer by a collective."""
    from jx.primitives.collectives import Rendezvous

    n = 6
    rendezvous = Rendezvous(n)
    results = [None] * n

    def shard(i):
        results[i] = rendezvous.exchange(i, np.full(4, float(i)), lambda vs: np.sum(vs, axis=0))

    threads = [threading.Thread(target=shard, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in results}) == n
    assert not any(np.shares_memory(a, b) for a in results for b in results if a is not b)
    for r in results:
        np.testing.assert_array_equal(r, np.full(4, 15.0))


def test_blas_threads_are_shared_out_among_the_shards(monkeypatch):
    """n shards on threads, each with the cores' worth of BLAS threads, oversubscribe the
    machine: while shards run, each gets its share."""
    import os

    from jx.backends import numpy as numpy_backend
    from threadpoolctl import threadpool_info

    seen = []

    def record(backend, program, shards, axis_name, span):
        np.dot(np.ones((4, 4)), np.ones((4, 4)))  # BLAS is loaded
        seen.append([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
        return [[] for _ in shards]

    monkeypatch.setattr(numpy_backend, "run_shards", record)
    numpy_backend.pmap(None, [[]] * 8, "i")
    want = max(1, (os.cpu_count() or 1) // 8)
    assert seen and seen[0] and all(n == want for n in seen[0])
