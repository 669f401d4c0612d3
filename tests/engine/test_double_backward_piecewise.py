"""Gradients of piecewise-linear ops taken with create_graph=True carry a graph.

Their second derivative is zero where defined, and, as in PyTorch, differentiating
such a gradient again gives zeros instead of failing (a gradient penalty straight on a
ReLU input). Checked by gradgradcheck always and against PyTorch when it is installed.
"""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.gradcheck import gradcheck, gradgradcheck
from minigen.op_cases import draw

try:
    import torch
    import torch.nn.functional as TF
except ImportError:            # the PyTorch comparison is optional
    torch = None

# name, minigen function, torch function (or None), input shape, domain
OPS = [
    ("abs", mg.abs, lambda x: torch.abs(x), (3, 4), "away"),
    ("relu", F.relu, lambda x: TF.relu(x), (3, 4), "away"),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), (3, 4), "away"),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), (1, 2, 4, 4), "distinct"),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2), (1, 2, 4, 4), "real"),
    ("l1_loss", lambda x: F.l1_loss(x, mg.zeros(*x.shape, dtype=x.dtype) + 0.1),
     lambda x: TF.l1_loss(x, torch.zeros(x.shape, dtype=x.dtype) + 0.1), (3, 4), "away"),
]
IDS = [op[0] for op in OPS]


def _weights(shape):
    return np.random.default_rng(5).standard_normal(shape)


def _second(fn, x0, out_weights):
    """d/dx sum((d/dx sum(w * fn(x)))**2): a gradient penalty on fn's input."""
    x = mg.tensor(x0, requires_grad=True)
    y = fn(x)
    g, = mg.grad((y * mg.tensor(out_weights.reshape(y.shape))).sum(), x, create_graph=True)
    first_requires_grad = g.requires_grad
    h, = mg.grad((g * g).sum(), x)
    return first_requires_grad, h.numpy()


@pytest.mark.parametrize("name, fn, torch_fn, shape, domain", OPS, ids=IDS)
def test_gradient_of_the_gradient_is_zero_not_an_error(name, fn, torch_fn, shape, domain):
    x0 = draw(np.random.default_rng(0), shape, domain)
    y_shape = fn(mg.tensor(x0)).shape
    requires_grad, h = _second(fn, x0, _weights(y_shape))
    assert requires_grad, f"{name}: the create_graph gradient must carry a graph"
    assert h.shape == shape
    np.testing.assert_array_equal(h, np.zeros(shape))


@pytest.mark.parametrize("name, fn, torch_fn, shape, domain", OPS, ids=IDS)
def test_gradgradcheck(name, fn, torch_fn, shape, domain):
    x = mg.tensor(draw(np.random.default_rng(1), shape, domain), requires_grad=True)
    gradcheck(fn, [x], name=name)
    report = gradgradcheck(fn, [x], name=name)
    assert len(report.rows) >= 1


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("name, fn, torch_fn, shape, domain", OPS, ids=IDS)
def test_matches_pytorch(name, fn, torch_fn, shape, domain):
    x0 = draw(np.random.default_rng(2), shape, domain)
    y_shape = fn(mg.tensor(x0)).shape
    w = _weights(y_shape)
    requires_grad, h = _second(fn, x0, w)

    xt = torch.tensor(x0, requires_grad=True)
    yt = torch_fn(xt)
    gt, = torch.autograd.grad((yt * torch.tensor(w.reshape(tuple(yt.shape)))).sum(), xt, create_graph=True)
    ht, = torch.autograd.grad((gt * gt).sum(), xt)
    assert requires_grad == gt.requires_grad
    np.testing.assert_allclose(h, ht.detach().numpy(force=True), atol=1e-12)   # abs: a ZeroTensor
    # the first-order gradients agree too
    x = mg.tensor(x0, requires_grad=True)
    g, = mg.grad((fn(x) * mg.tensor(w.reshape(y_shape))).sum(), x)
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_penalty_reaches_the_weights_through_relu():
    """The WGAN-GP pattern: the penalty differentiates w through relu's gradient."""
    rng = np.random.default_rng(3)
    w = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    x = mg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    out = F.relu(x @ w).sum()
    g, = mg.grad(out, x, create_graph=True)
    penalty = (g * g).sum()
    penalty.backward()
    assert w.grad is not None and np.abs(w.grad.numpy()).sum() > 0
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((5, 3)))
