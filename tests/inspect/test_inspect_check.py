"""check_graph(): each node's and leaf's gradient against finite differences by replay."""
import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
import minigen.functional as F
from minigen.function import Function
from minigen.inspection import check_graph, backward_order


def test_every_node_and_leaf_of_a_network_is_checked_and_agrees():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    loss = F.cross_entropy(model(x), np.array([0, 1, 1, 0]))
    result = check_graph(loss, names=model, show=False)
    nodes = [r for r in result.rows if r.index is not None]
    leaves = [r for r in result.rows if r.index is None]
    assert len({r.index for r in nodes}) == len(backward_order([loss]))   # every node
    assert sorted(r.label for r in leaves) == sorted(n for n, _ in model.named_parameters())
    assert result.ok and result.max_abs_error < 1e-7
    assert "all" in result.text and "agree" in result.text
    loss.backward()                           # the graph was kept and left usable
    assert all(p.grad is not None for p in model.parameters())


def test_a_wrong_backward_rule_is_caught_at_the_tensor_it_feeds():
    class WrongSquare(Function):
        """y = x^2, with a wrong backward (3 x instead of 2 x)."""

        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0] * 3.0

    w = mg.tensor(np.random.default_rng(1).standard_normal(4), requires_grad=True)
    h = mg.sin(w)
    loss = WrongSquare()(h).sum()
    result = check_graph(loss, show=False)
    failed = [r.label for r in result.rows if not r.ok]
    assert not result.ok and failed[0] == "Sin"          # dL/d(sin's output) is wrong
    assert "DISAGREE" in result.text


def test_large_tensors_are_sampled_and_float32_is_refused():
    x = mg.tensor(np.random.default_rng(2).standard_normal((40, 30)), requires_grad=True)
    result = check_graph(mg.tanh(x).sum(), max_entries=50, show=False)
    assert all(r.entries == 50 for r in result.rows if r.size > 50) and result.ok
    with pytest.raises(TypeError, match="float64"):
        check_graph(mg.randn(3).requires_grad_().sum(), show=False)
