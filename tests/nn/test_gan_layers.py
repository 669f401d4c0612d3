"""The GAN layers beyond DCGAN: gradients to second order, and what each one computes."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
import minigen.nn as nn
from minigen.function import ShapeError


def _x(*shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def _check_both_orders(fn, inputs, name):
    """First- and second-order float64 gradient checks of fn over all `inputs`."""
    assert all(t.dtype == np.float64 for t in inputs)
    assert mg.gradcheck(fn, inputs, name=name).ok
    assert mg.gradgradcheck(fn, inputs, name=name).ok


def _randomise(module, seed=1):
    """Non-trivial float64 parameters (some layers start at zeros or ones)."""
    rng = np.random.default_rng(seed)
    module.to(np.float64)
    for p in module.parameters():
        p.data = rng.standard_normal(p.shape) * 0.7
    return module


def test_minibatch_discrimination_gradients_and_formula():
    mg.manual_seed(0)
    layer = _randomise(nn.MinibatchDiscrimination(3, 2, 2))
    x = _x(4, 3)
    _check_both_orders(lambda x, T: layer(x), [x, layer.T], "MinibatchDiscrimination")
    # o(x_i)_b = sum_{j != i} exp(-||M_ib - M_jb||_1), written out with NumPy loops
    m = (x.data @ layer.T.data).reshape(4, 2, 2)
    expected = np.zeros((4, 2))
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i] += np.exp(-np.abs(m[i] - m[j]).sum(axis=1))
    y = layer(x)
    assert y.shape == (4, 5)
    assert np.allclose(y.data[:, :3], x.data) and np.allclose(y.data[:, 3:], expected)
    # identical samples are maximally close: o = N - 1 for each of them
    same = layer(mg.tensor(np.repeat(x.data[:1], 4, axis=0)))
    assert np.allclose(same.data[:, 3:], 3.0)
    assert nn.MinibatchDiscrimination(3, 2, 2)(mg.randn(4, 3)).dtype == np.float32
    with pytest.raises(ShapeError, match=r"expects \(N, 3\)"):
        nn.MinibatchDiscrimination(3, 2, 2)(mg.randn(4, 5))


def test_minibatch_stddev_gradients_and_formula():
    layer = nn.MinibatchStdDev(group_size=2)
    x = _x(4, 2, 3, 3)
    _check_both_orders(lambda x: layer(x), [x], "MinibatchStdDev (images)")
    rows = _x(6, 3, seed=1)
    _check_both_orders(lambda x: nn.MinibatchStdDev(3)(x), [rows], "MinibatchStdDev (rows)")
    y = layer(x)
    assert y.shape == (4, 3, 3, 3)
    assert np.allclose(y.data[:, :2], x.data)
    # groups of 2: samples {0, 2} and {1, 3} (sample i in group i mod N/G)
    for members in ((0, 2), (1, 3)):
        s = np.sqrt(x.data[list(members)].var(axis=0) + 1e-8).mean()
        assert np.allclose(y.data[list(members), 2], s)
    # identical samples: no spread (only the sqrt(eps) floor)
    same = nn.MinibatchStdDev(4)(mg.tensor(np.repeat(x.data[:1], 4, axis=0)))
    assert np.allclose(same.data[:, 2], 1e-4)
    # a batch smaller than the group size is one group
    assert nn.MinibatchStdDev(4)(mg.randn(3, 5)).shape == (3, 6)
    assert nn.MinibatchStdDev(4)(mg.randn(8, 5)).dtype == np.float32


def test_minibatch_stddev_group_size_must_divide_the_batch():
    with pytest.raises(ValueError, match="group_size 4 does not divide the batch of 6"):
        nn.MinibatchStdDev(group_size=4)(mg.randn(6, 3))
    with pytest.raises(ValueError, match="group_size must be >= 1"):
        nn.MinibatchStdDev(group_size=0)


def test_equalized_linear_is_a_linear_with_scaled_weights():
    mg.manual_seed(0)
    eq = nn.EqualizedLinear(5, 3, lr_multiplier=0.1, bias_init=0.3)
    assert eq.scale == pytest.approx(0.1 * math.sqrt(2.0) / math.sqrt(5))
    # stored N(0, 1 / lr_mul^2); the bias stored divided by lr_mul
    assert np.allclose(eq.bias.data, 3.0)
    plain = nn.Linear(5, 3)
    plain.weight.data = eq.weight.data * eq.scale
    plain.bias.data = eq.bias.data * 0.1
    x = mg.randn(4, 5)
    assert np.allclose(eq(x).data, plain(x).data, atol=1e-6)
    assert eq(x).dtype == np.float32
    big = nn.EqualizedLinear(400, 300)
    assert abs(big.weight.data.std() - 1.0) < 0.02         # unit-variance storage

    eq = _randomise(nn.EqualizedLinear(3, 2, lr_multiplier=0.5))
    _check_both_orders(lambda x, w, b: eq(x), [_x(4, 3), eq.weight, eq.bias], "EqualizedLinear")


def test_equalized_conv_is_a_conv_with_scaled_weights():
    mg.manual_seed(0)
    eq = nn.EqualizedConv2d(3, 4, 3, padding=1, gain=1.0)
    assert eq.scale == pytest.approx(1 / math.sqrt(27))
    eq.bias.data = mg.randn(4).data
    plain = nn.Conv2d(3, 4, 3, padding=1)
    plain.weight.data = eq.weight.data * eq.scale
    plain.bias.data = eq.bias.data
    x = mg.randn(2, 3, 5, 5)
    assert np.allclose(eq(x).data, plain(x).data, atol=1e-5)

    eq = _randomise(nn.EqualizedConv2d(2, 2, 3, padding=1))
    _check_both_orders(lambda x, w, b: eq(x), [_x(2, 2, 3, 3), eq.weight, eq.bias],
                       "EqualizedConv2d")


def test_pixel_norm_gives_unit_rms_features():
    x = _x(2, 3, 2, 2)
    y = nn.PixelNorm()(x)
    assert np.allclose((y.data ** 2).mean(axis=1), 1.0)
    assert np.allclose(y.data * np.sqrt((x.data ** 2).mean(axis=1, keepdims=True)), x.data)
    _check_both_orders(lambda x: nn.PixelNorm()(x), [x], "PixelNorm")
    assert nn.PixelNorm()(mg.randn(3, 4)).dtype == np.float32


def test_adain_with_zero_style_is_instance_norm_plus_bias():
    mg.manual_seed(0)
    layer = nn.AdaIN(3, 4)
    # its affine map's bias starts at (scale, bias) = (1, 0): w = 0 gives a plain instance norm
    x = mg.randn(2, 3, 4, 4)
    assert np.allclose(layer(x, mg.zeros(2, 4)).data, F.instance_norm(x).data, atol=1e-5)
    assert not np.allclose(layer(x, mg.randn(2, 4)).data, F.instance_norm(x).data, atol=1e-2)
    _randomise(layer)
    x, zero = _x(2, 3, 4, 4), mg.zeros(2, 4, dtype=np.float64)
    b = layer.affine.bias.data
    expected = F.instance_norm(x, weight=mg.tensor(b[:3]), bias=mg.tensor(b[3:]))
    assert np.allclose(layer(x, zero).data, expected.data)
    # a style w: per-sample scale and bias A w applied after the normalisation
    w = _x(2, 4, seed=3)
    style = w.data @ (layer.affine.weight.data * layer.affine.scale).T + b
    normal = F.instance_norm(x).data
    assert np.allclose(layer(x, w).data,
                       normal * style[:, :3, None, None] + style[:, 3:, None, None])
    _check_both_orders(lambda x, w, A, c: layer(x, w),
                       [_x(2, 3, 2, 2), w, layer.affine.weight, layer.affine.bias], "AdaIN")
    with pytest.raises(ShapeError, match="styles of shape"):
        layer(x, mg.zeros(2, 5, dtype=np.float64))


def test_noise_injection_adds_scaled_noise_per_channel():
    mg.manual_seed(0)
    layer = nn.NoiseInjection(3)
    x = mg.randn(2, 3, 4, 4)
    assert np.array_equal(layer(x).data, x.data)            # the scales start at zero
    layer = _randomise(layer)
    x, noise = _x(2, 3, 4, 4), _x(2, 1, 4, 4, seed=5)
    y = layer(x, noise)
    assert np.allclose(y.data, x.data + layer.weight.data[None, :, None, None] * noise.data)
    _check_both_orders(lambda x, n, b: layer(x, n), [_x(2, 3, 2, 2), _x(2, 1, 2, 2), layer.weight],
                       "NoiseInjection")
    # drawn noise: seeded, and different per sample
    mg.manual_seed(1)
    a = layer(x)
    mg.manual_seed(1)
    assert np.array_equal(a.data, layer(x).data)
    assert not np.allclose((a - x).data[0], (a - x).data[1])
    with pytest.raises(ShapeError, match="noise must have shape"):
        layer(x, _x(2, 3, 4, 4))
