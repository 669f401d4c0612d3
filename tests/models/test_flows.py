"""Normalizing flows: every layer's log|det J| against the log-determinant of its full
Jacobian by the engine's autodiff (float64), x -> z -> x, a 2-D density that integrates
to one on a grid, ActNorm's data-dependent init, the 1x1 convolution's LU form and its
singular cases, and clear errors."""
import numpy as np
import pytest

import minigen as mg
from minigen.data import toy_2d
from minigen.models.flows import (ActNorm, AffineCoupling, InvConv1x1, LogitTransform,
                                  SingularWeightError, Squeeze, alternating_mask, channel_mask,
                                  checkerboard_mask, conv_net, mlp_net, realnvp_2d, realnvp_image)


def jacobians(fn, x):
    """(N, D_out, D_in): the Jacobian of each example of a per-example map, by the engine.
    Examples are independent, so one backward of output column j gives row j for all."""
    xt = mg.tensor(x, requires_grad=True)
    y = fn(xt)
    y = (y[0] if isinstance(y, tuple) else y).reshape(len(x), -1)
    rows = [mg.grad([y[:, j].sum()], [xt], retain_graph=True)[0].numpy().reshape(len(x), -1)
            for j in range(y.shape[1])]
    return np.stack(rows, axis=1)


def check_layer(layer, x, atol=1e-9):
    """log_det of the layer = log|det J| of its Jacobian; inverse(forward(x)) = x."""
    z, log_det = layer(mg.tensor(x))
    sign, expected = np.linalg.slogdet(jacobians(lambda t: layer(t)[0], x))
    assert np.all(sign != 0)
    np.testing.assert_allclose(log_det.numpy(), expected, atol=atol, rtol=1e-9)
    np.testing.assert_allclose(layer.inverse(z).numpy(), x, atol=1e-10)
    return expected


def perturb(module, rng, scale=0.3):
    """Move every parameter off its initial value (zero-initialised nets would be the identity)."""
    for p in module.parameters():
        p.data = (p.data + scale * rng.standard_normal(p.shape)).astype(p.dtype)
    return module


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("scale", ["tanh", "soft_clamp"])
def test_vector_coupling_log_det(rng, scale):
    mg.manual_seed(0)
    for parity in (0, 1):
        layer = perturb(AffineCoupling(alternating_mask(4, parity), mlp_net(4, 16), scale=scale)
                        .double(), rng)
        log_det = check_layer(layer, rng.standard_normal((3, 4)))
        assert np.all(np.abs(log_det) > 1e-3)            # not the identity


@pytest.mark.parametrize("make_mask", [checkerboard_mask, channel_mask])
def test_image_coupling_log_det(rng, make_mask):
    mg.manual_seed(0)
    shape = (2, 4, 4)
    layer = perturb(AffineCoupling(make_mask(shape, 1), conv_net(2, 8)).double(), rng)
    check_layer(layer, rng.standard_normal((2,) + shape))


def test_coupling_keeps_the_masked_part_and_starts_as_identity(rng):
    mask = checkerboard_mask((1, 4, 4), 0)
    layer = AffineCoupling(mask, conv_net(1, 8)).double()
    x = rng.standard_normal((2, 1, 4, 4))
    z, log_det = layer(mg.tensor(x))
    np.testing.assert_array_equal(z.numpy(), x)           # zero-initialised last layer
    np.testing.assert_array_equal(log_det.numpy(), 0)
    perturb(layer, rng)
    z, _ = layer(mg.tensor(x))
    np.testing.assert_array_equal(z.numpy()[:, mask == 1], x[:, mask == 1])
    assert np.all(z.numpy()[:, mask == 0] != x[:, mask == 0])


def test_soft_clamp_bounds_the_scale(rng):
    layer = AffineCoupling(alternating_mask(2), mlp_net(2, 8), scale="soft_clamp", clamp=1.5,
                           zero_init=False).double()
    perturb(layer, rng, scale=30.0)                        # huge raw scales
    _, log_det = layer(mg.tensor(rng.standard_normal((50, 2)) * 10))
    assert np.all(np.abs(log_det.numpy()) <= 1.5)          # one transformed coordinate


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 2)])
def test_actnorm_data_dependent_init_and_log_det(rng, shape):
    layer = ActNorm(3).double()
    x = rng.standard_normal(shape) * 4 + 2
    z, _ = layer(mg.tensor(x))
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(z.numpy().mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(z.numpy().std(axis=axes), 1, atol=1e-5)
    check_layer(layer, rng.standard_normal(shape))          # initialised once: not again
    assert bool(layer.initialized)
    again = ActNorm(3).double()
    again.load_state_dict(layer.state_dict())
    np.testing.assert_allclose(again(mg.tensor(x))[0].numpy(), z.numpy())


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2, 2)])
def test_invconv_log_det_and_inverse(rng, shape):
    mg.manual_seed(0)
    layer = perturb(InvConv1x1(3).double(), rng)
    check_layer(layer, rng.standard_normal(shape))


def test_invconv_lu_reproduces_a_given_weight_and_refuses_a_singular_one(rng):
    w = rng.standard_normal((4, 4))
    layer = InvConv1x1.from_weight(w, dtype=np.float64)
    np.testing.assert_allclose(layer.weight().numpy(), w, atol=1e-12)
    _, log_det = layer(mg.tensor(rng.standard_normal((2, 4))))
    np.testing.assert_allclose(log_det.numpy(), np.linalg.slogdet(w)[1], rtol=1e-10)
    singular = w.copy()
    singular[3] = singular[0] + 2 * singular[1]            # rank 3
    with pytest.raises(SingularWeightError, match="singular"):
        InvConv1x1.from_weight(singular)


def test_invconv_that_became_singular_raises(rng):
    layer = InvConv1x1(3)
    layer.log_s.data = np.array([0.1, -1e4, 0.2], dtype=np.float32)   # exp underflows to 0
    with pytest.raises(SingularWeightError, match="channel 1"):
        layer(mg.tensor(rng.standard_normal((2, 3)).astype(np.float32)))
    layer.log_s.data = np.array([0.1, np.nan, 0.2], dtype=np.float32)
    with pytest.raises(SingularWeightError, match="became singular"):
        layer.inverse(mg.tensor(np.zeros((1, 3), np.float32)))


def test_squeeze_and_logit_transform(rng):
    check_layer(Squeeze(), rng.standard_normal((2, 2, 4, 4)))
    check_layer(LogitTransform(0.05), rng.random((3, 1, 2, 3)))
    with pytest.raises(ValueError, match="even"):
        Squeeze()(mg.tensor(np.zeros((1, 1, 3, 4))))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LogitTransform()(mg.tensor(np.full((1, 1, 2, 2), 1.5)))


def trained_toy_flow(steps=30):
    mg.manual_seed(0)
    flow = realnvp_2d(num_couplings=4, hidden=32, invconv=True).double()
    data = toy_2d("moons").sample(512, seed=0).astype(np.float64)
    opt = mg.optim.Adam(flow.parameters(), lr=5e-3)
    losses = []
    for step in range(steps):
        loss = flow.loss(data[(step * 128) % 512:][:128])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return flow, data, losses


def test_whole_flow_log_det_equals_the_jacobians(rng):
    flow, data, losses = trained_toy_flow(steps=10)
    assert losses[-1] < losses[0]
    z, log_det = flow(mg.tensor(data[:6]))
    np.testing.assert_allclose(log_det.numpy(), np.linalg.slogdet(jacobians(flow, data[:6]))[1],
                               rtol=1e-9, atol=1e-9)
    h = data[:6]                                            # and layer by layer
    for layer in flow.layers:
        check_layer(layer, h)
        h = layer(mg.tensor(h))[0].numpy()


def test_image_flow_log_det_and_round_trip(rng):
    mg.manual_seed(0)
    flow = realnvp_image(4, hidden=8, num_checkerboard=2, num_channel=2)
    y = rng.random((3, 1, 4, 4)).astype(np.float32)
    flow(mg.tensor(y))                                      # ActNorm initialised on data
    perturb(flow, rng, scale=0.1)
    z, _ = flow(mg.tensor(y))
    assert z.shape == (3, 4, 2, 2)
    np.testing.assert_allclose(flow.inverse(z).numpy(), y, atol=1e-5)      # float32
    flow64 = flow.double()
    y64 = y.astype(np.float64)
    _, log_det = flow64(mg.tensor(y64))
    np.testing.assert_allclose(log_det.numpy(), np.linalg.slogdet(jacobians(flow64, y64))[1],
                               rtol=1e-8)
    assert flow64.sample(2).shape == (2, 1, 4, 4)


def test_toy_flow_round_trip_float32():
    mg.manual_seed(0)
    flow = perturb(realnvp_2d(num_couplings=6, hidden=32, invconv=True, zero_init=False),
                   np.random.default_rng(1), scale=0.05)
    x = toy_2d("8gaussians").sample(256, seed=0)
    z, _ = flow(mg.tensor(x))
    assert z.dtype == np.float32
    np.testing.assert_allclose(flow.inverse(z).numpy(), x, atol=1e-5)


def test_2d_density_integrates_to_one_on_a_grid():
    for flow in (realnvp_2d(num_couplings=4, hidden=32, zero_init=False).double(),
                 trained_toy_flow()[0]):
        flow(mg.tensor(toy_2d("moons").sample(256, seed=1).astype(np.float64)))  # ActNorm init
        ticks = np.linspace(-7, 7, 351)
        step = ticks[1] - ticks[0]
        grid = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)
        with mg.no_grad():
            density = np.exp(flow.log_prob(grid).numpy())
        total = density.sum() * step * step
        assert abs(total - 1) < 0.01, total
        print(f"integral of the density on the grid: {total:.5f}")


def test_flow_gradcheck_of_the_nll():
    mg.manual_seed(0)
    flow = realnvp_2d(num_couplings=2, hidden=4, invconv=True, zero_init=False).double()
    x = mg.tensor(toy_2d("moons").sample(5, seed=0).astype(np.float64))
    flow(x)                                                  # ActNorm initialised first
    params = list(flow.parameters())
    assert mg.gradcheck(lambda *_: flow.loss(x), params).ok


def test_bad_input_shapes_are_named():
    flow = realnvp_2d(num_couplings=2, hidden=4)
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(3, 3\)"):
        flow.log_prob(np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match="ActNorm"):
        ActNorm(3)(mg.tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="even number of channels"):
        channel_mask((3, 2, 2))
