"""Default initialisation of every layer matches PyTorch's formulas; nn.init functions."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
from minigen.nn import init


def _check_uniform(array, bound):
    """U(-bound, bound): inside the bounds, reaching close to them, variance bound^2 / 3."""
    a = np.asarray(array, dtype=np.float64).ravel()
    assert np.abs(a).max() <= bound
    assert np.abs(a).max() > 0.95 * bound
    assert abs(a.mean()) < 4 * bound / math.sqrt(3 * a.size)
    assert abs(a.std() - bound / math.sqrt(3)) < 0.03 * bound / math.sqrt(3)


def test_linear_default_init_is_uniform_one_over_sqrt_fan_in():
    mg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    _check_uniform(layer.weight.data, bound)
    assert np.abs(layer.bias.data).max() <= bound and np.abs(layer.bias.data).max() > 0.9 * bound
    assert layer.weight.dtype == np.float32 and layer.weight.shape == (300, 400)
    assert nn.Linear(3, 2, bias=False).bias is None


def test_conv2d_default_init_uses_in_channels_over_groups():
    mg.manual_seed(0)
    conv = nn.Conv2d(32, 64, 3, groups=2)
    assert conv.weight.shape == (64, 16, 3, 3)
    bound = 1 / math.sqrt(16 * 9)
    _check_uniform(conv.weight.data, bound)
    assert np.abs(conv.bias.data).max() <= bound


def test_conv_transpose2d_fan_in_comes_from_weight_dim_1_like_pytorch():
    mg.manual_seed(0)
    deconv = nn.ConvTranspose2d(64, 8, 4, stride=2, padding=1)
    assert deconv.weight.shape == (64, 8, 4, 4)
    bound = 1 / math.sqrt(8 * 16)           # weight.shape[1] * k * k, as torch does
    _check_uniform(deconv.weight.data, bound)
    assert np.abs(deconv.weight.data).max() > 2 / math.sqrt(64 * 16)   # not the in_channels fan
    assert np.abs(deconv.bias.data).max() <= bound


def test_embedding_is_standard_normal_and_norms_are_one_and_zero():
    mg.manual_seed(0)
    emb = nn.Embedding(1000, 64)
    w = emb.weight.data.astype(np.float64)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    for layer in (nn.BatchNorm1d(5), nn.BatchNorm2d(5), nn.LayerNorm(5), nn.GroupNorm(1, 5),
                  nn.InstanceNorm2d(5, affine=True)):
        assert np.array_equal(layer.weight.data, np.ones(5, np.float32))
        assert np.array_equal(layer.bias.data, np.zeros(5, np.float32))
    bn = nn.BatchNorm2d(5)
    assert np.array_equal(bn.running_mean, np.zeros(5)) and np.array_equal(bn.running_var, np.ones(5))
    assert nn.InstanceNorm2d(5).weight is None     # affine=False by default, as PyTorch


def test_seeded_initialisation_repeats_exactly():
    mg.manual_seed(7)
    a = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(1, 2, 3), nn.Embedding(5, 2))
    mg.manual_seed(7)
    b = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(1, 2, 3), nn.Embedding(5, 2))
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert np.array_equal(x, y), name
    c = nn.Linear(3, 4)
    assert not np.array_equal(c.weight.data, a[0].weight.data)


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported"):
        init.calculate_gain("swish")


def test_fans():
    assert init.calculate_fan_in_and_fan_out(mg.zeros(7, 5)) == (5, 7)
    assert init.calculate_fan_in_and_fan_out(mg.zeros(8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(mg.zeros(5))


@pytest.mark.parametrize("fn, expected_std", [
    (lambda t: init.xavier_uniform_(t, gain=2.0), 2.0 * math.sqrt(2 / (200 + 300))),
    (lambda t: init.xavier_normal_(t), math.sqrt(2 / (200 + 300))),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2) / math.sqrt(200)),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda t: init.kaiming_normal_(t, a=0.2), math.sqrt(2 / 1.04) / math.sqrt(200)),
    (lambda t: init.normal_(t, 0.0, 0.02), 0.02),
    (lambda t: init.uniform_(t, -1.0, 1.0), 1 / math.sqrt(3)),
    (lambda t: init.trunc_normal_(t, std=1.0, a=-1.0, b=1.0), 0.5396),   # std of N(0,1) cut to [-1, 1]
])
def test_init_functions_have_the_stated_spread(fn, expected_std):
    mg.manual_seed(3)
    t = nn.Parameter(mg.zeros(300, 200))
    data_before = t.data
    out = fn(t)
    assert out is t and t.data is not data_before and t.dtype == np.float32 and t.shape == (300, 200)
    std = t.data.astype(np.float64).std()
    assert abs(std - expected_std) < 0.02 * expected_std
    assert abs(t.data.mean()) < 5 * expected_std / math.sqrt(t.numel())


def test_uniform_bounds_constants_and_float64():
    t = nn.Parameter(mg.zeros(1000, dtype=np.float64))
    init.uniform_(t, 2.0, 3.0)
    assert t.dtype == np.float64 and t.data.min() >= 2.0 and t.data.max() < 3.0
    init.constant_(t, 0.5)
    assert np.all(t.data == 0.5) and t.dtype == np.float64
    init.ones_(t)
    assert np.all(t.data == 1)
    init.zeros_(t)
    assert not t.data.any()
    with pytest.raises(TypeError, match="Tensor"):
        init.zeros_(np.zeros(3))


def test_init_does_not_record_a_graph_and_uses_a_given_generator():
    t = nn.Parameter(mg.zeros(4, 4))
    init.kaiming_uniform_(t, a=math.sqrt(5))
    assert t.creator is None and t.requires_grad and t.is_leaf
    a = init.normal_(nn.Parameter(mg.zeros(5)), generator=np.random.default_rng(1)).data
    b = init.normal_(nn.Parameter(mg.zeros(5)), generator=np.random.default_rng(1)).data
    assert np.array_equal(a, b)


def test_against_torch_bounds_when_torch_is_installed():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.Linear(30, 20), torch.nn.Linear(30, 20)),
                         (nn.Conv2d(6, 4, 3, groups=2), torch.nn.Conv2d(6, 4, 3, groups=2)),
                         (nn.ConvTranspose2d(6, 4, 4), torch.nn.ConvTranspose2d(6, 4, 4))]:
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
        assert init.calculate_fan_in_and_fan_out(ours.weight) == (fan_in, _)
        assert np.abs(ours.weight.data).max() <= 1 / math.sqrt(fan_in)
