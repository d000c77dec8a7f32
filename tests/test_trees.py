"""Trees (dsl/trees.py): tuples, records and registered node types flatten to leaves and a
hashable TreeDef; a PRNG key is a registered node whose one leaf is its data, so traced
calls, jit, vmap and loops carry keys with no key-specific code."""

import jx
import numpy as np
from jx import trees
from jx.prng import Key


class Pair:
    def __init__(self, a, b, tag):
        self.a, self.b, self.tag = a, b, tag


trees.register_node(Pair, lambda p: ((p.a, p.b), p.tag), lambda tag, ch: Pair(*ch, tag))


def test_a_registered_node_flattens_to_its_children():
    x = (Pair(np.ones(2), 3.0, "t"), {"k": 1.0})
    leaves, tree = trees.flatten(x)
    assert len(leaves) == 3 and trees.num_leaves(tree) == 3
    back = trees.unflatten(tree, [10 * v for v in leaves])
    assert isinstance(back[0], Pair) and back[0].tag == "t"
    np.testing.assert_array_equal(back[0].a, 10 * np.ones(2))
    assert back[0].b == 30.0 and back[1] == {"k": 10.0}


def test_the_aux_data_is_part_of_the_treedef():
    _, t1 = trees.flatten(Pair(1.0, 2.0, "a"))
    _, t2 = trees.flatten(Pair(1.0, 2.0, "a"))
    _, t3 = trees.flatten(Pair(1.0, 2.0, "b"))
    assert t1 == t2 and hash(t1) == hash(t2) and t1 != t3
    assert trees.structure_text(t1) == "Pair(array, array)"


def test_a_key_flattens_to_its_data():
    k = Key(np.zeros((3, 2), np.uint32))
    leaves, tree = trees.flatten(k)
    assert len(leaves) == 1 and leaves[0] is k.data
    rebuilt = trees.unflatten(tree, leaves)
    assert isinstance(rebuilt, Key) and rebuilt.record is not k.record  # a fresh key


def test_jitted_and_mapped_functions_of_keys_trace_once_per_signature():
    m = jx.compile(
        "import random\n"
        "def draw(k) = random.normal(k, (2,))\n"
        "g = jit(draw)\n"
        "v = vmap(draw)\n"
        "a = g(random.key(0))\n"
        "b = g(random.key(1))\n"
        "c = v(random.split(random.key(2), 4))\n"
        "d = v(random.split(random.key(3), 4))\n"
    )
    assert len(m._scope.vars["g"].cache) == 1
    assert len(m._scope.vars["v"].cache) == 1
    assert m.c.shape == (4, 2) and not np.array_equal(m.a, m.b)


def test_tree_map_hands_keys_to_the_function_whole():
    m = jx.compile(
        "import random\n"
        "t = tree_map(lambda k: random.normal(k, (2,)), (random.key(1), random.key(2)))\n"
    )
    assert [v.shape for v in m.t] == [(2,), (2,)]
