"""binary_cross_entropy on saturated probabilities, and sigmoid at float32's extremes.

A float32 sigmoid is exactly 1 from x = 17 on, so `BCELoss()(Sigmoid()(x), t)` meets
p = 1 (and p = 0) in ordinary training (the PyTorch VAE and DCGAN examples do). The
loss clamps its logs at -100 and bounds the gradient's denominator as PyTorch does:
every value and gradient stays finite.
"""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
import minigen.nn as nn


def _sigmoid_bce(x_value, target):
    x = mg.tensor(np.array([x_value], np.float32), requires_grad=True)
    loss = nn.BCELoss()(nn.Sigmoid()(x), target)
    loss.backward()
    return loss, x.grad


def test_sigmoid_bce_at_x_20_target_1_is_zero_with_zero_gradient():
    loss, grad = _sigmoid_bce(20.0, 1.0)
    assert loss.dtype == np.float32 and grad.dtype == np.float32
    assert loss.item() == 0.0
    assert np.isfinite(grad.numpy()).all() and grad.item() == 0.0


@pytest.mark.parametrize("x_value", [-100.0, -30.0, -20.0, 20.0, 30.0, 100.0])
@pytest.mark.parametrize("target", [0.0, 1.0])
def test_sigmoid_bce_finite_everywhere(x_value, target):
    loss, grad = _sigmoid_bce(x_value, target)
    assert np.isfinite(loss.item()) and np.isfinite(grad.item())
    assert 0.0 <= loss.item() <= 100.0


def test_saturated_probabilities_both_targets():
    """p exactly 0 or 1 against t = 0 and 1: loss 0 or 100 (the clamp); gradient 0 where
    p equals t, and +-1/1e-12 (PyTorch's bound) where it does not."""
    p = mg.tensor(np.array([0.0, 1.0, 0.0, 1.0], np.float32), requires_grad=True)
    t = mg.tensor(np.array([0.0, 0.0, 1.0, 1.0], np.float32))
    loss = F.binary_cross_entropy(p, t, reduction="none")
    assert loss.numpy().tolist() == [0.0, 100.0, 100.0, 0.0]
    loss.sum().backward()
    g = p.grad.numpy()
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g, [0.0, 1e12, -1e12, 0.0], rtol=1e-6)


def test_target_gradient_finite_at_saturation():
    p = mg.tensor(np.array([0.0, 1.0, 0.5], np.float64))
    t = mg.tensor(np.array([0.3, 0.3, 0.3]), requires_grad=True)
    F.binary_cross_entropy(p, t, reduction="sum").backward()
    # d/dt = log(1 - p) - log(p), each log clamped at -100
    np.testing.assert_allclose(t.grad.numpy(), [100.0, -100.0, 0.0], atol=1e-12)


def test_second_order_finite_at_saturation():
    p = mg.tensor(np.array([0.0, 1.0, 0.25]), requires_grad=True)
    t = mg.tensor(np.array([1.0, 1.0, 0.0]), requires_grad=True)
    loss = F.binary_cross_entropy(p, t, reduction="sum")
    gp, gt = mg.grad(loss, [p, t], create_graph=True)
    hp, ht = mg.grad((gp * gp).sum() + (gt * gt).sum(), [p, t])
    assert np.isfinite(hp.numpy()).all() and np.isfinite(ht.numpy()).all()


def test_sigmoid_float32_keeps_small_values():
    x = mg.tensor(np.array([-20.0, -50.0, -80.0, -87.0], np.float32))
    y = mg.sigmoid(x)
    assert y.dtype == np.float32
    assert (y.numpy() > 0).all()
    np.testing.assert_allclose(y.numpy(), np.exp(x.numpy().astype(np.float64)), rtol=1e-5)
    top = mg.sigmoid(mg.tensor(np.array([0.0, 17.0, 100.0, 1e4, -1e4], np.float32))).numpy()
    assert top.tolist() == [0.5, 1.0, 1.0, 1.0, 0.0]


def test_matches_torch():
    torch = pytest.importorskip("torch")
    xs = np.array([-80.0, -30.0, -20.0, -3.0, 0.0, 2.5, 20.0, 30.0], np.float32)
    for target in (0.0, 1.0, 0.3):
        x = mg.tensor(xs, requires_grad=True)
        loss = nn.BCELoss(reduction="sum")(nn.Sigmoid()(x), target)
        loss.backward()
        tx = torch.tensor(xs, requires_grad=True)
        tloss = torch.nn.BCELoss(reduction="sum")(torch.sigmoid(tx), torch.full_like(tx, target))
        tloss.backward()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-30)
    ys = np.array([-88.0, -40.0, -20.0, -1.0, 0.0, 1.0, 20.0], np.float32)
    np.testing.assert_allclose(mg.sigmoid(mg.tensor(ys)).numpy(),
                               torch.sigmoid(torch.tensor(ys)).numpy(), rtol=1e-6)
