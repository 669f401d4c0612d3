"""Seeing gradients: the teaching tools of minigen.

    from minigen import inspection
    with inspection.record():                      # remember the line that made each node
        loss = F.cross_entropy(model(x), y)
    inspection.trace(loss, names=model, backward=True)   # every node, with |dL/d out|
    inspection.to_dot(loss, "out/graph")           # Graphviz DOT (+ PNG when `dot` exists)
    flow = inspection.grad_flow(model)             # per-layer gradient norms over training
    with inspection.detect_anomaly(): ...          # stop at the first NaN/Inf, name the line
    inspection.explain("sigmoid")                  # an op's derivative and its numerical check
    inspection.check_graph(loss64)                 # every gradient vs finite differences

    origin.py     record(): where each node was made (the user's line and stack)
    trace.py      trace(): the graph in backward order with gradient norms, min, max
    dot.py        to_dot(): the forward graph, and the graph backward builds
    grad_flow.py  grad_flow(), compare(): per-layer norms, vanishing/exploding/dead ReLU
    anomaly.py    detect_anomaly(): the first NaN/Inf in forward or backward
    explain.py    explain(): docstring rule + backward code + gradcheck/gradgradcheck
    check.py      check_graph(): each node's and leaf's gradient beside finite differences

(Named `inspection`, not `inspect`, so that it never shadows Python's own `inspect`;
`minigen.inspect` still imports, as a deprecated alias of this package.)
"""
from minigen.inspection.origin import record, origin_of, Origin  # noqa: F401
from minigen.inspection.trace import trace, Trace, GradStats, backward_order  # noqa: F401
from minigen.inspection.dot import to_dot, DotGraph, render_png  # noqa: F401
from minigen.inspection.grad_flow import grad_flow, GradFlow, compare  # noqa: F401
from minigen.inspection.anomaly import detect_anomaly, AnomalyError, is_anomaly_enabled  # noqa: F401
from minigen.inspection.explain import explain, Explanation  # noqa: F401
from minigen.inspection.check import check_graph, GraphCheck  # noqa: F401

__all__ = ["record", "origin_of", "Origin", "trace", "Trace", "GradStats", "backward_order",
           "to_dot", "DotGraph", "render_png", "grad_flow", "GradFlow", "compare",
           "detect_anomaly", "AnomalyError", "is_anomaly_enabled", "explain", "Explanation",
           "check_graph", "GraphCheck"]
