"""Layers compute what their docstrings say (checked against NumPy formulas)."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
import minigen.nn as nn
from minigen.function import ShapeError


def _np(t):
    return np.asarray(t.data, dtype=np.float64)


def test_linear_forward_backward_and_dtype():
    mg.manual_seed(0)
    layer = nn.Linear(3, 2)
    x = mg.randn(4, 3)
    y = layer(x)
    assert y.dtype == np.float32
    assert np.allclose(y.data, x.data @ layer.weight.data.T + layer.bias.data, atol=1e-6)
    y.sum().backward()
    assert np.allclose(layer.bias.grad.data, 4.0)
    assert np.allclose(layer.weight.grad.data, np.ones((2, 4)) @ x.data, atol=1e-5)
    assert layer.weight.grad.dtype == np.float32
    assert nn.Linear(3, 2).to(np.float64)(mg.randn(5, 1, 3, dtype=np.float64)).shape == (5, 1, 2)


def test_conv_shapes_and_values():
    mg.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    x = mg.randn(2, 3, 9, 9)
    y = conv(x)
    assert y.shape == (2, 4, 5, 5)
    assert np.allclose(y.data, F.conv2d(x, conv.weight, conv.bias, 2, 1).data)
    # one output value written out
    patch = np.pad(x.data[0], ((0, 0), (1, 1), (1, 1)))[:, 2:5, 4:7]
    assert np.isclose(y.data[0, 1, 1, 2], (patch * conv.weight.data[1]).sum() + conv.bias.data[1],
                      atol=1e-5)
    deconv = nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1)
    assert deconv(y).shape == (2, 2, 10, 10)
    assert nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)(y).shape == (2, 2, 10, 10)
    grouped = nn.Conv2d(4, 6, 1, groups=2, bias=False)
    assert grouped.weight.shape == (6, 2, 1, 1) and grouped.bias is None
    assert grouped(y).shape == (2, 6, 5, 5)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_batchnorm_running_stats_follow_pytorch():
    """momentum 0.1, unbiased running variance, biased variance to normalise."""
    mg.manual_seed(0)
    bn = nn.BatchNorm1d(3)
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(3):
        x = mg.randn(8, 3) * 2.0 + 1.0
        y = bn(x)
        xs = _np(x)
        mean, var_b, var_u = xs.mean(0), xs.var(0), xs.var(0, ddof=1)
        assert np.allclose(_np(y), (xs - mean) / np.sqrt(var_b + 1e-5), atol=1e-5)
        rm = 0.9 * rm + 0.1 * mean
        rv = 0.9 * rv + 0.1 * var_u
        assert np.allclose(bn.running_mean, rm, atol=1e-6)
        assert np.allclose(bn.running_var, rv, atol=1e-6)
        assert int(bn.num_batches_tracked) == step + 1
    assert bn.running_mean.dtype == np.float32

    bn.eval()                                   # eval: running statistics, nothing updated
    x = mg.randn(5, 3)
    y = bn(x)
    expected = (_np(x) - rm) / np.sqrt(rv + 1e-5) * _np(bn.weight) + _np(bn.bias)
    assert np.allclose(_np(y), expected, atol=1e-5)
    assert np.allclose(bn.running_mean, rm, atol=1e-6) and int(bn.num_batches_tracked) == 3
    assert np.allclose(bn(x[:1]).data, y.data[:1])   # a single example gives the same answer


def test_batchnorm2d_per_channel_and_options():
    mg.manual_seed(0)
    bn = nn.BatchNorm2d(2, momentum=0.5)
    x = mg.randn(4, 2, 3, 3)
    bn(x)
    xs = _np(x)
    assert np.allclose(bn.running_mean, 0.5 * xs.mean(axis=(0, 2, 3)), atol=1e-6)
    assert np.allclose(bn.running_var, 0.5 + 0.5 * xs.var(axis=(0, 2, 3), ddof=1), atol=1e-6)

    cumulative = nn.BatchNorm1d(2, momentum=None)      # running averages over all batches
    batches = [mg.randn(6, 2) for _ in range(3)]
    for b in batches:
        cumulative(b)
    assert np.allclose(cumulative.running_mean, np.mean([_np(b).mean(0) for b in batches], 0), atol=1e-6)

    no_stats = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    assert no_stats.running_mean is None and list(no_stats.parameters()) == []
    assert list(no_stats.state_dict()) == []
    z = no_stats(batches[0])                           # batch statistics even in eval
    assert np.allclose(_np(z).mean(0), 0, atol=1e-5)

    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        nn.BatchNorm2d(2)(mg.randn(4, 2))
    with pytest.raises(ShapeError, match="3 channels"):
        nn.BatchNorm1d(2)(mg.randn(4, 3))


def test_layer_group_instance_norm():
    mg.manual_seed(0)
    x = mg.randn(2, 4, 3, 3)
    xs = _np(x)
    ln = nn.LayerNorm((3, 3))
    expected = (xs - xs.mean((2, 3), keepdims=True)) / np.sqrt(xs.var((2, 3), keepdims=True) + 1e-5)
    assert np.allclose(_np(ln(x)), expected, atol=1e-5)
    assert ln.weight.shape == (3, 3)

    gn = nn.GroupNorm(2, 4)
    g = xs.reshape(2, 2, -1)
    expected = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 1e-5)).reshape(xs.shape)
    assert np.allclose(_np(gn(x)), expected, atol=1e-5)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)

    inorm = nn.InstanceNorm2d(4)
    expected = (xs - xs.mean((2, 3), keepdims=True)) / np.sqrt(xs.var((2, 3), keepdims=True) + 1e-5)
    assert np.allclose(_np(inorm(x)), expected, atol=1e-5)
    assert np.allclose(_np(inorm.eval()(x)), expected, atol=1e-5)
    with pytest.raises(ValueError, match="track_running_stats"):
        nn.InstanceNorm2d(4, track_running_stats=True)


def test_dropout_scales_survivors_and_is_identity_in_eval():
    mg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = mg.ones(200, 100)
    y = drop(x).data
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.02 and y.dtype == np.float32
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    mg.manual_seed(5)
    a = nn.Dropout(0.5)(x).data
    mg.manual_seed(5)
    assert np.array_equal(a, nn.Dropout(0.5)(x).data)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_flatten_unflatten_upsample_identity_pool():
    x = mg.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Unflatten(1, (3, 4, 5))(nn.Flatten()(x)).shape == (2, 3, 4, 5)
    assert nn.Unflatten(1, (3, -1))(nn.Flatten()(x)).shape == (2, 3, 20)
    with pytest.raises(ShapeError, match="cannot be split"):
        nn.Unflatten(1, (7, 8))(nn.Flatten()(x))
    assert nn.Upsample(scale_factor=2)(x).shape == (2, 3, 8, 10)
    assert nn.Upsample(size=(6, 7), mode="bilinear", align_corners=False)(x).shape == (2, 3, 6, 7)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 2, 2)
    assert np.allclose(nn.AvgPool2d(2)(x).data, x.data[:, :, :4, :4].reshape(2, 3, 2, 2, 2, 2)
                       .mean(axis=(3, 5)), atol=1e-6)


def test_activations_match_their_formulas():
    x = mg.tensor(np.linspace(-3, 3, 13), dtype=np.float32)
    xs = _np(x)
    cases = [
        (nn.ReLU(inplace=True), np.maximum(xs, 0)),
        (nn.LeakyReLU(0.2), np.where(xs > 0, xs, 0.2 * xs)),
        (nn.ELU(), np.where(xs > 0, xs, np.expm1(xs))),
        (nn.Softplus(beta=2.0), np.log1p(np.exp(2 * xs)) / 2),
        (nn.SiLU(), xs / (1 + np.exp(-xs))),
        (nn.GELU(), xs * 0.5 * (1 + np.vectorize(math.erf)(xs / math.sqrt(2)))),
        (nn.GELU("tanh"), 0.5 * xs * (1 + np.tanh(math.sqrt(2 / math.pi) * (xs + 0.044715 * xs ** 3)))),
        (nn.Sigmoid(), 1 / (1 + np.exp(-xs))),
        (nn.Tanh(), np.tanh(xs)),
    ]
    for module, expected in cases:
        out = module(x)
        assert out.dtype == np.float32, module
        assert np.allclose(_np(out), expected, atol=1e-5), module
    logits = mg.randn(4, 5)
    p = _np(nn.Softmax(dim=1)(logits))
    assert np.allclose(p.sum(1), 1, atol=1e-6)
    assert np.allclose(_np(nn.LogSoftmax(dim=1)(logits)), np.log(p), atol=1e-5)
    with pytest.raises(TypeError, match="needs dim"):
        nn.Softmax()
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"


def test_embedding_lookup_and_padding_idx():
    mg.manual_seed(0)
    emb = nn.Embedding(10, 3, padding_idx=0)
    assert not emb.weight.data[0].any()
    idx = np.array([[0, 2, 2], [5, 0, 9]])
    out = emb(idx)
    assert out.shape == (2, 3, 3) and np.array_equal(out.data, emb.weight.data[idx])
    out.sum().backward()
    grad = emb.weight.grad.data
    assert not grad[0].any()                     # padding row receives no gradient
    assert np.allclose(grad[2], 2.0) and np.allclose(grad[5], 1.0) and not grad[1].any()
    frozen = nn.Embedding.from_pretrained(np.eye(3, dtype=np.float32))
    assert not frozen.weight.requires_grad and np.array_equal(frozen(np.array([1])).data, [[0, 1, 0]])
    with pytest.raises(TypeError, match="integers"):
        emb(np.array([0.5]))


def test_loss_modules_equal_the_functions():
    mg.manual_seed(0)
    x, t = mg.randn(6, 4), mg.randn(6, 4)
    labels = np.array([0, 3, 1, 2, 3, 0])
    assert nn.MSELoss()(x, t).item() == pytest.approx(F.mse_loss(x, t).item())
    assert nn.L1Loss(reduction="sum")(x, t).item() == pytest.approx(F.l1_loss(x, t, reduction="sum").item())
    assert nn.CrossEntropyLoss()(x, labels).item() == pytest.approx(F.cross_entropy(x, labels).item())
    assert nn.NLLLoss()(F.log_softmax(x, dim=1), labels).item() == pytest.approx(
        F.cross_entropy(x, labels).item(), rel=1e-6)
    probs = mg.rand(6, 4) * 0.9 + 0.05
    targets = (mg.rand(6, 4) > 0.5).astype(np.float32)
    assert nn.BCELoss()(probs, targets).item() == pytest.approx(F.binary_cross_entropy(probs, targets).item())
    assert nn.BCEWithLogitsLoss()(x, targets).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(x, targets).item())
    var = mg.rand(6, 4) + 0.5
    assert nn.GaussianNLLLoss()(x, t, var).item() == pytest.approx(F.gaussian_nll_loss(x, t, var).item())
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
