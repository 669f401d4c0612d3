"""The gradient-check cases of every op: one small float64 example each.

Used by `python -m minigen.gradcheck` (the table) and by the test-suite, which also
checks that every Function subclass of `minigen.ops` appears in the graph of at least
one case (a new op without a case fails the suite).

A case names the op, the function to check, the input shapes, and the domain the
inputs are drawn from: 'real' (standard normal), 'positive' (0.5 .. 2), 'away' (|x| in
0.2 .. 1.5, away from the kink at 0 of relu/abs), 'unit' (-0.8 .. 0.8), 'distinct'
(well-separated values, so max/min have no ties), 'prob' (0.05 .. 0.95).
"""
from dataclasses import dataclass, field

import numpy as np

import minigen as mg
import minigen.functional as F
from minigen.tensor import Tensor


def draw(rng, shape, domain):
    """A float64 array of `shape` from one of the named domains."""
    shape = tuple(shape)
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "away":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 1.5, shape)
    if domain == "unit":
        return rng.uniform(-0.8, 0.8, shape)
    if domain == "prob":
        return rng.uniform(0.05, 0.95, shape)
    if domain == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.25 + rng.uniform(0, 0.05, n)).reshape(shape) - 0.1 * n
    raise ValueError(f"unknown domain {domain!r}")


@dataclass
class OpCase:
    name: str
    fn: object
    shapes: list
    domains: object = "real"          # one domain for all inputs, or one per input
    atol: float = 1e-5
    rtol: float = 1e-3
    tags: set = field(default_factory=set)   # 'elementwise1', 'elementwise2' (hypothesis shapes)

    def domain(self, i):
        return self.domains if isinstance(self.domains, str) else self.domains[i]

    def make_inputs(self, rng, shapes=None):
        shapes = shapes or self.shapes
        return [Tensor(draw(rng, s, self.domain(i)), requires_grad=True) for i, s in enumerate(shapes)]


def _unary(name, fn, domain="real", shape=(3, 4)):
    return OpCase(name, fn, [shape], domain, tags={"elementwise1"})


def _binary(name, fn, domains="real", shapes=((3, 4), (4,))):
    return OpCase(name, fn, list(shapes), domains, tags={"elementwise2"})


def elementwise_cases():
    return [
        _binary("add", lambda a, b: a + b),
        _binary("sub", lambda a, b: a - b),
        _binary("mul", lambda a, b: a * b),
        _binary("div", lambda a, b: a / b, ("real", "positive")),
        _unary("neg", lambda x: -x),
        _unary("pow (scalar exponent)", lambda x: x ** 3.0),
        _unary("pow (fractional exponent)", lambda x: x ** 1.5, "positive"),
        _binary("pow (tensor exponent)", lambda a, b: a ** b, ("positive", "real")),
        _unary("exp", mg.exp),
        _unary("log", mg.log, "positive"),
        _unary("log1p", mg.log1p, "positive"),
        _unary("sqrt", mg.sqrt, "positive"),
        _unary("abs", mg.abs, "away"),
        _unary("sin", mg.sin),
        _unary("cos", mg.cos),
        _unary("erf", mg.erf),
        _unary("clip", lambda x: mg.clip(x, -0.5, 0.5)),
        _binary("maximum", mg.maximum),
        _binary("minimum", mg.minimum),
        _binary("where", lambda a, b: mg.where(a.data > 0, a, b)),
        _unary("tanh", mg.tanh),
        _unary("sigmoid", mg.sigmoid),
        _unary("relu", F.relu, "away"),
        _unary("leaky_relu", lambda x: F.leaky_relu(x, 0.2), "away"),
        _unary("elu", lambda x: F.elu(x, 1.3), "away"),
        _unary("softplus", lambda x: F.softplus(x, beta=2.0)),
        _unary("silu", F.silu),
        _unary("gelu", F.gelu),
        _unary("gelu (tanh approximation)", lambda x: F.gelu(x, approximate="tanh")),
        OpCase("cast (astype)", lambda x: mg.ops.cast(x, np.float64) * x, [(3,)]),
        OpCase("to_device (cpu -> cpu)", lambda x: mg.ops.to_device(x, "cpu") * x, [(3,)]),
    ]


def reduce_cases():
    return [
        OpCase("sum (all)", lambda x: x.sum(), [(3, 4)]),
        OpCase("sum (axis=1, keepdims)", lambda x: x.sum(axis=1, keepdims=True), [(3, 4, 2)]),
        OpCase("mean (axis=(0, 2))", lambda x: x.mean(axis=(0, 2)), [(3, 4, 2)]),
        OpCase("var (axis=0)", lambda x: x.var(axis=0), [(4, 3)]),
        OpCase("var (ddof=1, keepdims)", lambda x: x.var(axis=1, keepdims=True, ddof=1), [(3, 4)]),
        OpCase("std (axis=1)", lambda x: x.std(axis=1), [(3, 4)]),
        OpCase("max (axis=1)", lambda x: x.max(axis=1), [(3, 4)], "distinct"),
        OpCase("min (all)", lambda x: x.min(), [(3, 4)], "distinct"),
        OpCase("logsumexp (axis=-1)", lambda x: mg.logsumexp(x, axis=-1), [(3, 4)]),
        OpCase("softmax (axis=1)", lambda x: mg.softmax(x, axis=1), [(3, 4)]),
        OpCase("log_softmax (axis=0)", lambda x: mg.log_softmax(x, axis=0), [(3, 4)]),
    ]


def matmul_cases():
    return [
        OpCase("matmul (2-D)", lambda a, b: a @ b, [(3, 4), (4, 2)]),
        OpCase("matmul (batched, broadcast)", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)]),
        OpCase("matmul (vector)", lambda a, b: a @ b, [(4,), (4, 3)]),
        OpCase("linear", F.linear, [(5, 4), (3, 4), (3,)]),
        OpCase("linear (no bias, 3-D input)", F.linear, [(2, 5, 4), (3, 4)]),
    ]


def shape_cases():
    return [
        OpCase("reshape", lambda x: x.reshape(4, 3) * x.reshape(4, 3), [(3, 4)]),
        OpCase("transpose", lambda x: x.transpose(2, 0, 1), [(2, 3, 4)]),
        OpCase("broadcast_to", lambda x: mg.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
        OpCase("squeeze / unsqueeze / flatten",
               lambda x: x.unsqueeze(0).squeeze(0).flatten() ** 2, [(2, 3)]),
        OpCase("getitem (slices)", lambda x: x[1:, ::2], [(3, 4)]),
        OpCase("getitem (repeated integer index)", lambda x: x[np.array([0, 2, 0, 0])], [(3, 4)]),
        OpCase("getitem (boolean mask)", lambda x: x[np.array([True, False, True])], [(3, 4)]),
        OpCase("concatenate", lambda a, b: mg.concatenate([a, b], axis=1), [(2, 3), (2, 2)]),
        OpCase("stack", lambda a, b: mg.stack([a, b], axis=-1), [(2, 3), (2, 3)]),
        OpCase("split", lambda x: mg.split(x, [1, 3], axis=1), [(2, 4)]),
        OpCase("pad", lambda x: mg.pad(x, ((1, 0), (2, 1)), value=0.5), [(2, 3)]),
    ]


def all_cases():
    """Every case of the library, in the order of the table."""
    cases = elementwise_cases() + reduce_cases() + matmul_cases() + shape_cases()
    return cases
