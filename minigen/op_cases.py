"""The case table of every op: one small float64 example each, collected from the ops.

Each file of `minigen/ops/` ends with its `CASES`, next to the ops they check (and
`minigen/functional.py` with the cases of the functions composed there); `all_cases()`
collects them. Used by `python -m minigen.gradcheck` (the table) and by the test-suite,
which checks for every case the forward against its NumPy `reference` (where one is
given), the gradient of every input (first order) and the gradient of the gradient
(second order), and that every Function subclass of `minigen.ops` appears in the graph
of at least one case (a new op without a case fails the suite).

A case names the op, the function to check, the input shapes, the domain the inputs
are drawn from: 'real' (standard normal), 'positive' (0.5 .. 2), 'away' (|x| in
0.2 .. 1.5, away from the kink at 0 of relu/abs), 'unit' (-0.8 .. 0.8), 'distinct'
(well-separated values, so max/min have no ties), 'prob' (0.05 .. 0.95); and
`reference`, a NumPy function of the input arrays giving the expected forward value.

A leaf of the package: the ops modules import it while minigen is being loaded.
"""
import importlib
from dataclasses import dataclass, field

import numpy as np

from minigen.tensor import Tensor

# the modules whose CASES make the table, in its order
CASE_MODULES = ("minigen.ops.elementwise", "minigen.ops.reduce", "minigen.ops.matmul",
                "minigen.ops.shape", "minigen.ops.conv", "minigen.ops.pool", "minigen.ops.norm",
                "minigen.functional", "minigen.ops.loss", "minigen.ops.fused")


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
    reference: object = None          # NumPy function of the input arrays: the expected forward

    def domain(self, i):
        return self.domains if isinstance(self.domains, str) else self.domains[i]

    def make_inputs(self, rng, shapes=None):
        shapes = shapes or self.shapes
        return [Tensor(draw(rng, s, self.domain(i)), requires_grad=True) for i, s in enumerate(shapes)]

    def check_forward(self, inputs, rtol=1e-10, atol=1e-12):
        """Assert that fn(*inputs) equals reference(*arrays), output by output."""
        got = self.fn(*inputs)
        want = self.reference(*[x.data for x in inputs])
        got = list(got) if isinstance(got, (tuple, list)) else [got]
        want = list(want) if isinstance(want, (tuple, list)) else [want]
        assert len(got) == len(want), f"{self.name}: {len(got)} outputs, reference gives {len(want)}"
        for y, expected in zip(got, want):
            np.testing.assert_allclose(y.data, expected, rtol=rtol, atol=atol, err_msg=self.name)


def unary(name, fn, domain="real", shape=(3, 4), reference=None):
    """A case of an elementwise op of one input (redrawn with any shape by hypothesis)."""
    return OpCase(name, fn, [shape], domain, tags={"elementwise1"}, reference=reference)


def binary(name, fn, domains="real", shapes=((3, 4), (4,)), reference=None):
    """A case of a broadcasting op of two inputs (redrawn with broadcastable shapes)."""
    return OpCase(name, fn, list(shapes), domains, tags={"elementwise2"}, reference=reference)


def all_cases():
    """Every case of the library, in the order of the table."""
    cases = []
    for name in CASE_MODULES:
        cases += importlib.import_module(name).CASES
    return cases

