"""FVSBN, MADE and PixelCNN: exact normalisation over all 2^D states (at initialisation
and after training, the mask ensemble too), the autoregressive property by Jacobians,
the PixelCNN receptive field by the engine's gradients, sampling and exact completion,
and clear errors for bad input."""
import itertools
import math

import numpy as np
import pytest

import minigen as mg
from minigen.models.autoregressive import (FVSBN, MADE, GatedPixelCNN, PixelCNN,
                                           bottom_half_missing, receptive_field)
from minigen.nn.masked import causal_conv_mask


def all_states(d):
    return np.array(list(itertools.product([0.0, 1.0], repeat=d)))


def total_probability(log_prob, states):
    return float(np.exp(log_prob(states).numpy().astype(np.float64)).sum())


def train_a_little(model, data, steps=5, lr=0.05):
    opt = mg.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = model.loss(data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if isinstance(model, MADE):
            model.next_mask()
    return losses


def tiny_models():
    mg.manual_seed(0)
    return {
        "fvsbn": (FVSBN((10,)).double(), 10),
        "made natural": (MADE(10, hidden=(16, 16)).double(), 10),
        "made random, 4 masks": (MADE(10, hidden=(16,), num_masks=4, order="random", seed=3).double(), 10),
        "pixelcnn 3x3": (PixelCNN(3, channels=8, num_blocks=2, kernel_size=5).double(), 9),
        "gated pixelcnn 3x3": (GatedPixelCNN(3, channels=4, num_layers=1, kernel_size=3).double(), 9),
    }


@pytest.mark.parametrize("name", list(tiny_models()))
def test_probabilities_of_all_states_sum_to_one_before_and_after_training(name):
    model, d = tiny_models()[name]
    states = all_states(d)
    if isinstance(model, (PixelCNN, GatedPixelCNN)):
        states = states.reshape(-1, 1, 3, 3)
    assert abs(total_probability(model.log_prob, states) - 1) < 1e-6
    rng = np.random.default_rng(0)
    data = (rng.random((32,) + states.shape[1:]) < 0.3).astype(np.float64)
    losses = train_a_little(model, data)
    assert losses[-1] < losses[0]                        # it did learn something
    assert abs(total_probability(model.log_prob, states) - 1) < 1e-6
    if isinstance(model, MADE) and model.num_masks > 1:
        for k in range(model.num_masks):               # every member of the ensemble
            model.set_mask(k)
            assert abs(total_probability(model.log_prob, states) - 1) < 1e-6
        assert abs(total_probability(model.log_prob_ensemble, states) - 1) < 1e-6


def test_mask_ensemble_is_a_mixture_not_a_mean_of_logits():
    mg.manual_seed(0)
    model = MADE(8, hidden=(32,), num_masks=3, order="random").double()
    for param in model.parameters():                 # sharper conditionals than at init
        param.data = param.data * 4
    states = all_states(8)
    per_mask = np.stack([model.set_mask(k).log_prob(states).numpy() for k in range(3)])
    mixture = np.log(np.exp(per_mask).mean(axis=0))
    np.testing.assert_allclose(model.log_prob_ensemble(states).numpy(), mixture, rtol=1e-10)
    assert model.mask_index == 2                         # the mask in use is restored
    # the pitfall: average the logits over masks and call it a model -- not normalised
    logits = np.mean([model.set_mask(k).logits(mg.tensor(states)).numpy() for k in range(3)], axis=0)
    log_p = (states * logits - np.logaddexp(0, logits)).sum(axis=1)
    assert abs(np.exp(log_p).sum() - 1) > 0.01


def jacobian(fn, x):
    """J[d, i] = d fn(x)[d] / d x[i] for one example x (D,), by the engine (row by row)."""
    xt = mg.tensor(x[None], requires_grad=True)
    y = fn(xt).reshape(1, -1)
    return np.stack([mg.grad([y[0, d]], [xt], retain_graph=True)[0].numpy()[0]
                     for d in range(y.shape[1])])


@pytest.mark.parametrize("order", ["natural", "random"])
def test_made_autoregressive_property_by_jacobian(order):
    mg.manual_seed(1)
    d = 12
    model = MADE(d, hidden=(40, 40), num_masks=3, order=order, seed=5).double()
    rng = np.random.default_rng(0)
    orders = set()
    for k in range(3):
        model.set_mask(k)
        J = jacobian(model.logits, rng.standard_normal(d))
        rank = model.input_degrees                       # position of each input in the order
        allowed = rank[:, None] > rank[None, :]          # output d may see input i
        assert not np.any(J[~allowed]), f"mask {k}: an output depends on a later input"
        assert not np.any(np.diag(J))
        assert np.count_nonzero(J) > d                    # and it does depend on earlier ones
        last = int(np.argmax(rank))
        assert np.count_nonzero(J[last]) > 0
        orders.add(tuple(model.order))
    assert len(orders) == (1 if order == "natural" else 3)


def test_fvsbn_jacobian_is_strictly_lower_triangular():
    mg.manual_seed(0)
    model = FVSBN((7,)).double()
    J = jacobian(model.logits, np.random.default_rng(0).standard_normal(7))
    np.testing.assert_array_equal(J != 0, np.tri(7, k=-1, dtype=bool))
    np.testing.assert_allclose(J, np.tril(model.net.weight.numpy(), k=-1))


def expected_pixelcnn_field(model, row, col):
    """The input pixels logit (row, col) can depend on, by propagating index sets through
    the masks alone (no engine): the 3x3 type-B blocks, then the type-A input layer."""
    h, w = model.event_shape[1:]
    reach = np.zeros((h, w), dtype=bool)
    reach[row, col] = True

    def through(reach, mask):
        kh, kw = mask.shape
        out = np.zeros_like(reach)
        for r, c in zip(*np.nonzero(reach)):
            for i, j in zip(*np.nonzero(mask)):
                rr, cc = r + i - kh // 2, c + j - kw // 2
                if 0 <= rr < h and 0 <= cc < w:
                    out[rr, cc] = True
        return out

    for _ in model.blocks:                               # residual: skip | block = block (B has the centre)
        reach = through(reach, causal_conv_mask(1, 1, (3, 3), "B")[0, 0])
    k = model.input_conv.kernel_size
    return through(reach, causal_conv_mask(1, 1, k, "A")[0, 0])


def test_pixelcnn_receptive_field_by_engine_gradients_and_its_blind_spot():
    mg.manual_seed(0)
    model = PixelCNN(12, channels=8, num_blocks=3, kernel_size=5).double()
    row, col = 8, 4
    seen = receptive_field(model, row, col, n=8) > 0
    np.testing.assert_array_equal(seen, expected_pixelcnn_field(model, row, col))
    before = (np.arange(144) < row * 12 + col).reshape(12, 12)
    assert not seen[row, col]                            # type A: never the pixel itself
    assert not np.any(seen & ~before)                    # nothing after it in raster order
    blind = before & ~seen
    # the blind spot: earlier pixels up and to the right that no path reaches, while
    # pixels further up and as far right are seen (the triangle of stacked 3x3 kernels)
    assert blind[row - 1, col + 3] and blind[row - 1, 11] and blind[row - 2, col + 4]
    assert seen[row - 1, col + 2] and seen[row - 4, col + 5] and seen[row, 0]


def test_gated_pixelcnn_has_no_blind_spot():
    mg.manual_seed(0)
    model = GatedPixelCNN(12, channels=16, num_layers=3, kernel_size=5).double()
    row, col = 8, 4
    seen = receptive_field(model, row, col, n=8) > 0
    before = (np.arange(144) < row * 12 + col).reshape(12, 12)
    assert not seen[row, col] and not np.any(seen & ~before)
    # every earlier pixel of the band above is seen -- where the plain PixelCNN of the
    # same depth is blind (test above: (row - 1, col + 3), (row - 2, col + 4))
    band = np.zeros_like(before)
    band[row - 4:row, col - 4:col + 5] = True
    band[row, col - 4:col] = True
    assert np.all(seen[band])
    assert seen[row - 1, col + 3] and seen[row - 2, col + 4]


def test_gated_pixelcnn_window_gives_the_full_networks_logit():
    mg.manual_seed(0)
    model = GatedPixelCNN(12, channels=4, num_layers=2, kernel_size=5).double()
    x = (np.random.default_rng(1).random((2, 1, 12, 12)) < 0.5).astype(np.float64)
    full = model.logits(mg.tensor(x)).numpy().reshape(2, -1)
    for d in range(0, 144, 5):
        np.testing.assert_allclose(model.conditional_logit(mg.tensor(x), d).numpy(), full[:, d],
                                   atol=1e-12)


def test_type_a_first_layer_alone_sees_exactly_the_pixels_before():
    mg.manual_seed(0)
    model = PixelCNN(7, channels=4, num_blocks=0, kernel_size=7).double()
    seen = receptive_field(model, 3, 3) > 0
    expected = np.zeros((7, 7), dtype=bool)
    expected[:3, :] = True
    expected[3, :3] = True
    np.testing.assert_array_equal(seen, expected)


def test_pixelcnn_window_gives_the_full_networks_logit():
    mg.manual_seed(0)
    model = PixelCNN(14, channels=8, num_blocks=2, kernel_size=5).double()
    x = (np.random.default_rng(0).random((3, 1, 14, 14)) < 0.5).astype(np.float64)
    xt = mg.tensor(x)
    full = model.logits(xt).numpy().reshape(3, -1)
    assert model.reach == 4
    for d in range(0, 196, 3):
        np.testing.assert_allclose(model.conditional_logit(xt, d).numpy(), full[:, d], atol=1e-12)


def test_samples_follow_the_model_distribution():
    mg.manual_seed(0)
    model = MADE(3, hidden=(8,)).double()
    with mg.no_grad():
        model.layers[-1].bias.data = np.array([1.5, -1.0, 0.3])
    states = all_states(3)
    p = np.exp(model.log_prob(states).numpy())
    mg.manual_seed(1)
    samples = model.sample(20000)
    codes = (samples @ np.array([4, 2, 1])).astype(int)      # index into all_states
    freq = np.bincount(codes, minlength=8) / len(codes)
    np.testing.assert_allclose(freq, p, atol=0.015)


def test_ensemble_samples_follow_the_mixture():
    mg.manual_seed(5)
    model = MADE(3, hidden=(16,), num_masks=3, order="random", seed=5).double()
    for param in model.parameters():
        param.data = param.data * 4          # members that differ (by up to 0.22 per state)
    states = all_states(3)
    p = np.exp(model.log_prob_ensemble(states).numpy())
    members = [np.exp(model.set_mask(k).log_prob(states).numpy()) for k in range(3)]
    assert min(np.abs(q - p).max() for q in members) > 0.1    # one member alone would fail
    model.set_mask(0)
    mg.manual_seed(1)
    samples = model.sample_ensemble(20000)
    assert model.mask_index == 0
    freq = np.bincount((samples @ np.array([4, 2, 1])).astype(int), minlength=8) / 20000
    np.testing.assert_allclose(freq, p, atol=0.015)


def test_completion_is_the_exact_conditional():
    mg.manual_seed(0)
    model = MADE(6, hidden=(16,)).double()
    states = all_states(6)
    p = np.exp(model.log_prob(states).numpy())
    x = np.array([[1, 0, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0]], dtype=np.float64)
    observed = np.zeros_like(x, dtype=bool)
    observed[:, :3] = True
    observed[1, 3] = True
    completed, probs = model.complete(x, observed)
    np.testing.assert_array_equal(completed[observed], x[observed])
    for i, first_missing in ((0, 3), (1, 4)):
        prefix = np.all(states[:, :first_missing] == x[i, :first_missing], axis=1)
        with_one = prefix & (states[:, first_missing] == 1)
        exact = p[with_one].sum() / p[prefix].sum()         # p(x_d = 1 | x_o) by enumeration
        assert probs[i, first_missing] == pytest.approx(exact, rel=1e-6)
    with pytest.raises(ValueError, match="come first"):
        model.complete(x, ~observed)


def test_bottom_half_mask_is_a_prefix_of_raster_order():
    mg.manual_seed(0)
    model = PixelCNN(4, channels=4, num_blocks=1, kernel_size=3)
    x = (np.random.default_rng(0).random((2, 1, 4, 4)) < 0.5).astype(np.float32)
    observed = bottom_half_missing(2, side=4)
    completed, _ = model.complete(x, observed)
    np.testing.assert_array_equal(completed[:, 0, :2], x[:, 0, :2])
    assert set(np.unique(completed)) <= {0.0, 1.0}


def test_sampling_writes_frames_and_is_reproducible():
    model = PixelCNN(5, channels=4, num_blocks=1, kernel_size=3)
    mg.manual_seed(3)
    a, frames = model.sample(2, frames=4)
    mg.manual_seed(3)
    b = model.sample(2)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 1, 5, 5) and a.dtype == np.float32 and len(frames) == 4
    assert (frames[0] != 0).sum() <= 2 and np.array_equal(frames[-1], a)


def test_bad_inputs_give_clear_errors():
    made = MADE(10, hidden=(8,))
    with pytest.raises(ValueError, match="0 or 1"):
        made.log_prob(np.full((2, 10), 0.5, dtype=np.float32))
    with pytest.raises(ValueError, match=r"shape \(N, 10\)"):
        made.log_prob(np.zeros((2, 12), dtype=np.float32))
    cnn = PixelCNN(8, channels=4, num_blocks=1)
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\).*\(2, 1, 28, 28\)"):
        cnn.log_prob(np.zeros((2, 1, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="0 or 1"):
        FVSBN((4,)).log_prob(np.array([[0, 1, 2, 0]], dtype=np.float32))
    with pytest.raises(ValueError, match="order"):
        MADE(4, order="backwards")
    with pytest.raises(ValueError, match="mask index"):
        MADE(4, num_masks=2).set_mask(2)


def test_made_mask_and_order_survive_a_state_dict_round_trip():
    model = MADE(6, hidden=(8,), num_masks=3, order="random")
    model.set_mask(2)
    x = (np.random.default_rng(0).random((4, 6)) < 0.5).astype(np.float32)
    other = MADE(6, hidden=(8,), num_masks=3, order="random")
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other.order, model.order)
    np.testing.assert_allclose(other.log_prob(x).numpy(), model.log_prob(x).numpy())
    assert not np.array_equal(MADE(6, hidden=(8,), num_masks=3, order="random").order, model.order)
    assert math.isfinite(model.evaluate_nll_ensemble(x))
