"""trace(): every node listed in backward order, with the gradient norms it prints right."""
import gc
import re
import sys

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
import minigen.functional as F
from minigen.autograd import GraphFreedError
from minigen.inspection import trace, record, backward_order

ROW = re.compile(r"^\s+(\d+)\s+(\*?\w+)")
NUMBER = r"([-+]?\d\.\d+e[-+]\d+)"


def small_graph():
    """A graph with a reused tensor, a constant, a broadcast and a two-output op."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    h = mg.tanh(x @ w)
    left, right = mg.tensor_split(h * h + 0.5 * h, [1], axis=1)
    loss = (left * 3.0 - right.exp()).mean()
    return x, w, loss


def parse_rows(text):
    """(index, op, |grad|, min, max) of every node row of a trace table."""
    rows = []
    for line in text.splitlines():
        match = ROW.match(line)
        numbers = re.findall(NUMBER, line)
        if match and len(numbers) == 3:
            rows.append((int(match.group(1)), match.group(2), *map(float, numbers)))
    return rows


def test_trace_lists_every_node_and_prints_the_right_gradient_norms():
    x, w, loss = small_graph()
    order = backward_order([loss])
    outputs = [[ref() for ref in node.outputs] for node in order]
    for outs in outputs:
        for y in outs:
            if y is not None:
                y.retain_grad()
    t = trace(loss, names={"x": x, "w": w}, show=False)
    loss.backward()
    text = t.format(limit=None)

    rows = parse_rows(text)
    assert [r[0] for r in rows] == list(range(1, len(order) + 1))
    assert [r[1] for r in rows] == [node.name for node in order]          # every node, in order
    assert f"trace: {len(order)} nodes" in text
    for (_, op, norm, lo, hi), outs in zip(rows, outputs):
        grads = np.concatenate([y.grad.data.reshape(-1) for y in outs if y is not None])
        np.testing.assert_allclose(norm, np.linalg.norm(grads), rtol=1e-4, err_msg=op)
        np.testing.assert_allclose([lo, hi], [grads.min(), grads.max()], rtol=1e-3, atol=1e-12)
    for leaf, name in ((x, "x"), (w, "w")):
        line = next(line for line in text.splitlines() if line.split()[:1] == [name])
        norm = float(re.findall(NUMBER, line)[0])
        np.testing.assert_allclose(norm, np.linalg.norm(leaf.grad.data), rtol=1e-4)


def test_trace_order_is_the_order_backward_visits_the_nodes():
    _, _, loss = small_graph()
    order = backward_order([loss])
    visited = []
    for k, node in enumerate(order):
        y = node.outputs[0]()
        y.register_hook(lambda g, k=k: visited.append(k))
    loss.backward()
    assert visited == list(range(len(order)))


def test_trace_shows_the_user_line_and_names_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x = mg.randn(5, 3)
    with record():
        out = model(x); line = sys._getframe().f_lineno  # noqa: E702
        loss = out.sum()
    t = trace(loss, names=model, backward=True, show=False)
    text = t.format()
    assert f"test_inspect_trace.py:{line}" in text
    for name, _ in model.named_parameters():
        assert name in text
    assert "no gradients yet" not in text


def test_trace_before_backward_then_after():
    _, _, loss = small_graph()
    t = trace(loss, show=False)
    assert "no gradients yet" in t.format()
    assert all(r.grad is None for r in t.nodes)
    loss.backward()
    assert all(r.grad is not None for r in t.nodes)
    assert "no gradients yet" not in t.format()


def test_trace_summarises_thousands_of_nodes():
    x = mg.tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(1500):
        y = mg.sin(y) * 1.0001
    t = trace(y.sum(), show=False)
    y.sum()                                    # another graph head: must not matter
    text = t.format(limit=40)
    lines = text.splitlines()
    assert len(t.nodes) == 3001
    assert len(lines) < 80, "a long graph must be summarised, not printed in full"
    assert "nodes not shown" in text and "summary by op" in text
    summary = {line.split()[0]: line for line in lines if re.match(r"^\s+(Sin|Mul|Sum)\s+[\d,]+", line)}
    assert "1,500" in summary["Sin"] and "1,500" in summary["Mul"]


def test_trace_hooks_go_away():
    x, w, loss = small_graph()
    t = trace(loss, show=False)
    assert x._hooks and w._hooks
    loss.backward()
    t.format()                                 # shown after backward: hooks removed
    assert not x._hooks and not w._hooks

    x, w, loss = small_graph()
    trace(loss, show=False)                    # the trace is dropped at once
    gc.collect()
    assert not x._hooks and not w._hooks


def test_trace_after_backward_explains_the_freed_graph():
    _, _, loss = small_graph()
    loss.backward()
    with pytest.raises(GraphFreedError, match="before loss.backward"):
        trace(loss, show=False)


def test_trace_marks_nodes_built_by_a_backward_pass():
    x = mg.tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    w = mg.tensor(np.random.default_rng(2).standard_normal((2, 2)), requires_grad=True)
    with record():
        g, = mg.grad(mg.tanh(x @ w).sum(), x, create_graph=True)
        penalty = (g * g).sum()
    t = trace(penalty, backward=True, show=False)
    text = t.format()
    assert any(r.made_by_backward for r in t.nodes)
    assert any(not r.made_by_backward for r in t.nodes)
    assert "*" in text and "built by a backward pass" in text


def test_trace_of_a_float32_model_with_functional_loss_runs():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    loss = F.mse_loss(model(mg.randn(8, 2)), mg.randn(8, 1))
    t = trace(loss, names=model, backward=True, show=False)
    assert repr(t).startswith("<Trace:") and "with gradients" in repr(t)
    assert all(r.grad is not None and r.grad.finite for r in t.leaves)
