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
        OpCase("cast (astype)", lambda x: mg.ops.cast(x, x.dtype) * x, [(3,)]),
        OpCase("to_device (cpu -> cpu)", lambda x: mg.ops.to_device(x, "cpu") * x, [(3,)]),
    ]


def reduce_cases():
    return [
        OpCase("sum (all)", lambda x: x.sum(), [(3, 4)]),
        OpCase("sum (axis=1, keepdims)", lambda x: x.sum(axis=1, keepdims=True), [(3, 4, 2)]),
        OpCase("mean (axis=(0, 2))", lambda x: x.mean(axis=(0, 2)), [(3, 4, 2)]),
        OpCase("var (axis=0, biased)", lambda x: x.var(axis=0, ddof=0), [(4, 3)]),
        OpCase("var (unbiased, keepdim)", lambda x: x.var(dim=1, keepdim=True), [(3, 4)]),
        OpCase("std (dim=1)", lambda x: x.std(dim=1), [(3, 4)]),
        OpCase("max (dim=1, values)", lambda x: x.max(dim=1).values, [(3, 4)], "distinct"),
        OpCase("amax (axis=(0, 1))", lambda x: x.amax(axis=(0, 1)), [(3, 4, 2)], "distinct"),
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
        OpCase("split", lambda x: mg.split(x, [1, 2, 1], dim=1), [(2, 4)]),
        OpCase("repeat (tile)", lambda x: x.repeat(2, 1, 3), [(2, 3)]),
        OpCase("transpose (swap two dims)", lambda x: x.transpose(0, 2), [(2, 3, 4)]),
        OpCase("pad", lambda x: mg.pad(x, ((1, 0), (2, 1)), value=0.5), [(2, 3)]),
    ]


def _labels(*shape, classes=3):
    return np.random.default_rng(7).integers(0, classes, shape)


def _dropout(x):
    mg.manual_seed(3)   # the same mask at every evaluation
    return F.dropout(x, p=0.4, training=True)


def _batch_norm_train(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True)


def _batch_norm_eval(x, w, b):
    running_mean = np.array([0.1, -0.2, 0.3])
    running_var = np.array([0.5, 1.5, 2.0])
    return F.batch_norm(x, running_mean, running_var, w, b, training=False)


def layer_cases():
    """Convolution, pooling, resizing, normalisation, dropout, embedding."""
    return [
        OpCase("conv2d (stride 2, pad 1, bias)",
               lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]),
        OpCase("conv2d (dilation 2, groups 2)",
               lambda x, w: F.conv2d(x, w, dilation=2, groups=2, padding=(1, 2)), [(1, 4, 5, 6), (2, 2, 2, 3)]),
        OpCase("conv_transpose2d (stride 2, output_padding 1)",
               lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
               [(2, 3, 3, 3), (3, 2, 3, 3), (2,)]),
        OpCase("conv_transpose2d (groups 2, dilation 2)",
               lambda x, w: F.conv_transpose2d(x, w, groups=2, dilation=2), [(1, 4, 3, 2), (4, 1, 2, 2)]),
        OpCase("max_pool2d (2x2)", lambda x: F.max_pool2d(x, 2), [(2, 2, 4, 5)], "distinct"),
        OpCase("max_pool2d (3x3, stride 2, pad 1)", lambda x: F.max_pool2d(x, 3, 2, 1), [(1, 2, 5, 5)], "distinct"),
        OpCase("avg_pool2d (3x3, stride 2, pad 1, count_include_pad=False)",
               lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [(1, 2, 5, 4)]),
        OpCase("interpolate (nearest, x2)", lambda x: F.interpolate(x, scale_factor=2) ** 2, [(1, 2, 2, 3)]),
        OpCase("interpolate (nearest, size 5x4)", lambda x: F.interpolate(x, size=(5, 4)), [(1, 1, 3, 3)]),
        OpCase("interpolate (bilinear)", lambda x: F.interpolate(x, size=(5, 3), mode="bilinear"), [(1, 2, 3, 4)]),
        OpCase("interpolate (bilinear, align_corners)",
               lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True), [(1, 1, 2, 3)]),
        OpCase("batch_norm (training, 4-D)", _batch_norm_train, [(4, 3, 2, 2), (3,), (3,)]),
        OpCase("batch_norm (training, 2-D)", _batch_norm_train, [(5, 3), (3,), (3,)]),
        OpCase("batch_norm (eval)", _batch_norm_eval, [(2, 3, 2, 2), (3,), (3,)]),
        OpCase("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
        OpCase("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 2, 2), (4,), (4,)]),
        OpCase("instance_norm", lambda x: F.instance_norm(x), [(2, 2, 3, 2)]),
        OpCase("dropout", _dropout, [(4, 5)]),
        OpCase("embedding", lambda w: F.embedding(np.array([[0, 2], [2, 2]]), w), [(3, 4)]),
        OpCase("pad (torch order)", lambda x: F.pad(x, (1, 2, 0, 1), value=-1.0), [(2, 2, 3)]),
    ]


def loss_cases():
    """Every loss, with every input that can carry a gradient."""
    return [
        OpCase("mse_loss", F.mse_loss, [(3, 4), (3, 4)]),
        OpCase("l1_loss (sum)", lambda x, t: F.l1_loss(x, t, reduction="sum"), [(3, 4), (3, 4)], ("away", "real")),
        OpCase("binary_cross_entropy", F.binary_cross_entropy, [(3, 4), (3, 4)], "prob"),
        OpCase("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
               [(3, 4), (3, 4)], ("real", "prob")),
        OpCase("binary_cross_entropy_with_logits (pos_weight, none)",
               lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=2.5, reduction="none"),
               [(3, 4), (3, 4)], ("real", "prob")),
        OpCase("cross_entropy", lambda x: F.cross_entropy(x, _labels(5)), [(5, 3)]),
        OpCase("cross_entropy (4-D, weights, label_smoothing)",
               lambda x: F.cross_entropy(x, _labels(2, 2, 2), weight=np.array([1.0, 2.0, 0.5]),
                                         label_smoothing=0.1), [(2, 3, 2, 2)]),
        OpCase("cross_entropy (probability targets)", lambda x, t: F.cross_entropy(x, t), [(4, 3), (4, 3)],
               ("real", "prob")),
        OpCase("nll_loss (ignore_index, none)",
               lambda x: F.nll_loss(x, np.array([0, 2, -100, 1]), reduction="none"), [(4, 3)]),
        OpCase("gaussian_nll_loss (full)", lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=True),
               [(3, 4), (3, 4), (3, 4)], ("real", "real", "positive")),
        OpCase("kl_normal (standard prior)", lambda m, lv: F.kl_normal(m, lv, reduction="batchmean"),
               [(3, 4), (3, 4)]),
        OpCase("kl_normal (two Gaussians)", lambda m, lv, m2, lv2: F.kl_normal(m, lv, m2, lv2, reduction="mean"),
               [(3, 4), (3, 4), (3, 4), (3, 4)]),
    ]


def all_cases():
    """Every case of the library, in the order of the table."""
    cases = (elementwise_cases() + reduce_cases() + matmul_cases() + shape_cases()
             + layer_cases() + loss_cases() + fused_cases())
    return cases


def fused_cases():
    """The fused ops of minigen.ops.fused (a layer and its activation in one kernel pass)."""
    from minigen.ops.fused import batch_norm_leaky_relu, conv2d_leaky_relu
    return [
        OpCase("conv2d_leaky_relu (fused, stride 2, bias)",
               lambda x, w, b: conv2d_leaky_relu(x, w, b, stride=2, padding=1, negative_slope=0.2),
               [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]),
        OpCase("conv2d_leaky_relu (fused relu, groups 2)",
               lambda x, w: conv2d_leaky_relu(x, w, groups=2, padding=1, negative_slope=0.0),
               [(1, 4, 4, 5), (2, 2, 3, 3)]),
        OpCase("batch_norm_leaky_relu (fused, training)",
               lambda x, w, b: batch_norm_leaky_relu(x, None, None, w, b, training=True,
                                                     negative_slope=0.2),
               [(4, 3, 2, 2), (3,), (3,)]),
    ]
