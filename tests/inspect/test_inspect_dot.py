"""to_dot(): well-formed DOT holding every op, the backward graph, PNG only with `dot`."""
import re
import shutil

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
import minigen.functional as F
from minigen.inspection import to_dot, record, backward_order
from minigen.inspection import dot as dot_module

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)".*\];$')
EDGE = re.compile(r"^\s*(\w+) -> (\w+)( \[.*\])?;$")


def check_dot(source):
    """Structural check of the DOT text: one digraph, balanced braces outside strings,
    every statement a node, an edge, a subgraph or an attribute line, and every edge
    between declared nodes. Returns {node id: label}. Uses pydot too when installed."""
    assert source.startswith("digraph minigen {") and source.rstrip().endswith("}")
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', source)
    depth = 0
    for ch in outside_strings:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    labels, edges = {}, []
    for line in source.splitlines()[1:-1]:
        if (node := NODE.match(line)):
            assert node.group(1) not in labels, f"node {node.group(1)} declared twice"
            labels[node.group(1)] = node.group(2)
        elif (edge := EDGE.match(line)):
            edges.append((edge.group(1), edge.group(2)))
        else:
            assert re.match(r"^\s*(graph|node|edge) \[.*\];$|^\s*subgraph cluster_\d+ \{$|"
                            r"^\s*label=.*;$|^\s*\}$", line), f"unexpected DOT line: {line!r}"
    for a, b in edges:
        assert a in labels and b in labels, f"edge {a} -> {b} between undeclared nodes"
    try:
        import pydot
    except ImportError:
        pass
    else:
        assert pydot.graph_from_dot_data(source), "pydot could not parse the DOT text"
    return labels, edges


def mlp_loss():
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    x, y = mg.randn(6, 2), mg.randn(6, 1)
    return model, F.mse_loss(model(x), y) + 0.1 * mg.exp(model[0].weight).sum()


def test_dot_is_well_formed_and_contains_every_op():
    model, loss = mlp_loss()
    ops = {node.name for node in backward_order([loss])}
    graph = to_dot(loss, names=model)
    labels, edges = check_dot(graph.source)
    drawn_ops = {label.split("\\n")[0].split("(")[0] for label in labels.values()}
    assert ops <= drawn_ops, f"ops missing from the drawing: {ops - drawn_ops}"
    assert len(graph.op_names) == len(backward_order([loss]))
    for name, _ in model.named_parameters():
        assert any(label.startswith(name + "\\n") for label in labels.values())
    assert any(label.startswith("output") for label in labels.values())
    assert len(edges) >= len(graph.op_names)


def test_backward_graph_is_drawn_and_leaves_the_user_graph_usable():
    model, loss = mlp_loss()
    forward = to_dot(loss, names=model)
    both = to_dot(loss, names=model, backward=True)
    labels, _ = check_dot(both.source)
    assert len(both.op_names) > len(forward.op_names)
    assert "subgraph cluster_0" in both.source and "backward of Linear" in both.source
    for name, _ in model.named_parameters():
        assert any(label.startswith(f"dL/d {name}") for label in labels.values())
    assert all(p.grad is None for p in model.parameters())     # .grad untouched
    loss.backward()                                            # the graph was kept
    assert all(p.grad is not None for p in model.parameters())


def test_gradient_penalty_graph_marks_its_backward_nodes():
    D = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = mg.randn(5, 2).requires_grad_()
    with record():
        g, = mg.grad(D(x).sum(), x, create_graph=True)
        penalty = ((g * g).sum(axis=1) - 1.0).mean()
    source = to_dot(penalty, names=D).source
    check_dot(source)
    assert "backward of Tanh" in source and "#fde0c5" in source     # orange backward boxes
    check_dot(to_dot(penalty, names=D, backward=True).source)


def test_labels_are_escaped():
    x = mg.tensor(np.ones(3), requires_grad=True)
    x.name = 'the "quoted" \\ input'
    check_dot(to_dot((x * 2.0).sum()).source)


def test_max_nodes_limits_the_drawing():
    x = mg.tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(50):
        y = y * 1.01
    graph = to_dot(y.sum(), max_nodes=10)
    check_dot(graph.source)
    assert len(graph.op_names) == 10 and "41 more nodes not drawn" in graph.source


def test_without_dot_the_dot_file_is_written_and_no_png(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dot_module.shutil, "which", lambda name: None)
    _, loss = mlp_loss()
    graph = to_dot(loss, str(tmp_path / "g"))
    assert graph.dot_path == str(tmp_path / "g.dot") and (tmp_path / "g.dot").exists()
    assert graph.png_path is None and not (tmp_path / "g.png").exists()
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "no PNG rendered" in out and "not installed" in out


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="the Graphviz program `dot` is not installed (apt-get install graphviz)")
def test_png_is_rendered_when_dot_exists(tmp_path):
    _, loss = mlp_loss()
    graph = to_dot(loss, str(tmp_path / "g.png"), verbose=False, backward=True)
    assert graph.png_path == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
