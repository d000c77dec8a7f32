"""The optim module: each optimizer's updates over a tree of parameters, for several steps
with changing gradients, against a NumPy implementation of optax's formulas; plus
apply_updates, state structure, jit of a whole step, convergence on a least-squares
problem, and the MLP example that trains with optim.adam and saves its fit."""

import pathlib

import jx
import numpy as np
import pytest

STEPS = jx.compile(
    """
import optim

def run(opt, params, grads):
    init, update = opt
    state = init(params)
    history = ()
    for g in grads:
        updates, state = update(g, state, params)
        params = optim.apply_updates(params, updates)
        history = history + (params,)
    return history

def sgd(params, grads) = run(optim.sgd(0.1), params, grads)
def sgd_momentum(params, grads) = run(optim.sgd(0.1, momentum=0.9), params, grads)
def nesterov(params, grads) = run(optim.sgd(0.1, momentum=0.8, nesterov=True), params, grads)
def momentum(params, grads) = run(optim.momentum(0.05), params, grads)
def adam(params, grads) = run(optim.adam(1e-2), params, grads)
def adam_custom(params, grads) = run(optim.adam(0.3, b1=0.5, b2=0.9, eps=1e-3, eps_root=1e-4),
                                     params, grads)
def adamw(params, grads) = run(optim.adamw(1e-2, weight_decay=0.1), params, grads)
"""
)


def _tree_map(f, *trees):
    if isinstance(trees[0], dict):
        return {k: _tree_map(f, *(t[k] for t in trees)) for k in trees[0]}
    if isinstance(trees[0], tuple):
        return tuple(_tree_map(f, *parts) for parts in zip(*trees))
    return f(*trees)


def _sgd(lr, momentum=None, nesterov=False):
    def init(p):
        return None if momentum is None else _tree_map(np.zeros_like, p)

    def update(g, trace, p):
        if momentum is None:
            return _tree_map(lambda x: -lr * x, g), trace
        trace = _tree_map(lambda gi, t: gi + momentum * t, g, trace)
        d = _tree_map(lambda gi, t: gi + momentum * t, g, trace) if nesterov else trace
        return _tree_map(lambda x: -lr * x, d), trace

    return init, update


def _adam(lr, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, weight_decay=None):
    def init(p):
        return 0, _tree_map(np.zeros_like, p), _tree_map(np.zeros_like, p)

    def update(g, state, p):
        count, mu, nu = state
        mu = _tree_map(lambda gi, m: (1 - b1) * gi + b1 * m, g, mu)
        nu = _tree_map(lambda gi, v: (1 - b2) * gi * gi + b2 * v, g, nu)
        count += 1
        c1, c2 = 1 - b1**count, 1 - b2**count
        d = _tree_map(lambda m, v: (m / c1) / (np.sqrt(v / c2 + eps_root) + eps), mu, nu)
        if weight_decay is not None:
            d = _tree_map(lambda di, pi: di + weight_decay * pi, d, p)
        return _tree_map(lambda x: -lr * x, d), (count, mu, nu)

    return init, update


REFERENCES = {
    "sgd": _sgd(0.1),
    "sgd_momentum": _sgd(0.1, momentum=0.9),
    "nesterov": _sgd(0.1, momentum=0.8, nesterov=True),
    "momentum": _sgd(0.05, momentum=0.9),
    "adam": _adam(1e-2),
    "adam_custom": _adam(0.3, b1=0.5, b2=0.9, eps=1e-3, eps_root=1e-4),
    "adamw": _adam(1e-2, weight_decay=0.1),
}


def _reference(name, params, grads):
    init, update = REFERENCES[name]
    state, history = init(params), []
    for g in grads:
        updates, state = update(g, state, params)
        params = _tree_map(lambda p, u: p + u, params, updates)
        history.append(params)
    return history


def _problem(dtype):
    rng = np.random.default_rng(0)
    params = {
        "w": rng.normal(size=(3, 2)).astype(dtype),
        "layers": (rng.normal(size=4).astype(dtype), np.array(0.5, dtype)),
    }
    # Gradients from 1e-2 to 1e2, so that eps and the moments' scales matter.
    grads = tuple(
        _tree_map(lambda p, s=10.0 ** (i - 2): (rng.normal(size=p.shape) * s).astype(dtype), params)
        for i in range(5)
    )
    return params, grads


@pytest.mark.parametrize("name", REFERENCES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_updates_match_a_numpy_reference(name, dtype):
    params, grads = _problem(dtype)
    got = getattr(STEPS, name)(params, grads)
    expected = _reference(
        name, _tree_map(np.float64, params), [_tree_map(np.float64, g) for g in grads]
    )
    assert len(got) == len(expected) == 5
    rtol = {np.float64: 1e-10, np.float32: 1e-5}[dtype]
    for step, (g, e) in enumerate(zip(got, expected)):
        for a, b in zip(_leaves(g), _leaves(e)):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2, err_msg=f"step {step}")


def _leaves(tree):
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [np.asarray(tree)]


def test_state_and_update_structure():
    m = jx.compile(
        """
import optim
p = {"a": ones(2), "b": (zeros((2, 2)),)}
init, update = optim.adam(0.1)
state = init(p)
updates, state2 = update(p, state, p)
count = state2["count"]
plain_state = optim.sgd(0.1)[0](p)
trace = optim.momentum(0.1)[0](p)["trace"]
stepped = optim.apply_updates(p, updates)
half = optim.apply_updates({"x": ones(2, f16)}, {"x": ones(2) * 0.5})["x"]
"""
    )
    assert m.count == 1 and m.count.dtype == np.int32
    assert m.plain_state == ()
    np.testing.assert_array_equal(m.trace["b"][0], np.zeros((2, 2)))
    assert set(m.updates) == {"a", "b"} and m.updates["b"][0].shape == (2, 2)
    # Adam's first step has size learning_rate in every coordinate with a nonzero gradient.
    # (In f32: 1 - 0.999 is exact only to about 1e-5.)
    np.testing.assert_allclose(m.updates["a"], [-0.1, -0.1], rtol=1e-5)
    np.testing.assert_allclose(m.stepped["a"], [0.9, 0.9], rtol=1e-5)
    assert m.half.dtype == np.float16


OPTIMIZERS = [
    "optim.sgd(0.1)",
    "optim.sgd(0.05, momentum=0.9)",
    "optim.adam(0.05)",
    "optim.adamw(0.05, weight_decay=1e-3)",
]


@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_jitted_training_converges(opt):
    m = jx.compile(
        f"""
import optim
import random
kx, kw = random.split(random.key(0))
x = random.normal(kx, (64, 3))
true_w = array([1.5, -2.0, 0.5])
y = x @ true_w + 0.3
def loss(p) = mean(square(x @ p["w"] + p["b"] - y))
init, update = {opt}
def step(p, s):
    g = grad(loss)(p)
    u, s = update(g, s, p)
    return optim.apply_updates(p, u), s
params = {{"w": zeros(3), "b": 0.0}}
state = init(params)
first = loss(params)
step = jit(step)
for i in range(300):
    params, state = step(params, state)
last = loss(params)
"""
    )
    assert m.last < 1e-3 * m.first
    np.testing.assert_allclose(m.params["w"], [1.5, -2.0, 0.5], atol=0.05)


def test_mlp_example_trains_and_saves_its_curve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = pathlib.Path(__file__).parent.parent / "examples" / "mlp_sine.jx"
    ns = jx.run_file(str(path))
    assert ns.final < 1e-3
    data = np.load(tmp_path / "mlp_sine.npz")
    assert set(data.files) == {"x", "target", "prediction"}
    np.testing.assert_allclose(data["prediction"], np.sin(data["x"]), atol=0.05)
