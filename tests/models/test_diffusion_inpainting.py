"""RePaint: the jump schedule, exact known pixels, and a completion that follows the evidence."""
import numpy as np
import pytest

import minigen as mg
from minigen.models.diffusion import GaussianMixture, make_schedule, network_calls, repaint, repaint_schedule


def test_jump_schedule():
    assert repaint_schedule(5, jump_length=2, resample=1) == [4, 3, 2, 1, 0, -1]
    walk = repaint_schedule(20, jump_length=5, resample=3)
    assert walk[0] == 19 and walk[-1] == -1
    assert all(abs(a - b) == 1 for a, b in zip(walk, walk[1:]))
    # jumps go back from the current step: after reaching 10, up to 15 and down again (twice)
    i = walk.index(10)
    assert walk[i:i + 12] == [10, 11, 12, 13, 14, 15, 14, 13, 12, 11, 10, 11]
    # jump points 0, 5, 10 (below S - jump_length = 15): 3 points x 2 repeats x 5 steps more
    assert network_calls(20, 5, 3) == 20 + 3 * 2 * 5
    with pytest.raises(ValueError):
        repaint_schedule(10, 0, 1)


def test_known_pixels_are_exact_and_shapes_checked():
    s = make_schedule("linear", 100)
    rng = np.random.default_rng(0)
    x0 = mg.tensor(rng.uniform(-1, 1, (3, 1, 4, 4)).astype(np.float32))
    observed = rng.random((3, 1, 4, 4)) < 0.5
    out = repaint(lambda x, t: x * 0.3, s, x0, observed, S=10, jump_length=3, resample=2).numpy()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[observed], x0.numpy()[observed])
    assert np.all(out[~observed] != x0.numpy()[~observed])
    with pytest.raises(ValueError, match="mask of shape"):
        repaint(lambda x, t: x, s, x0, observed[:, :, :2])
    with pytest.raises(TypeError, match="boolean"):
        repaint(lambda x, t: x, s, x0, observed.astype(np.float32))


def test_completion_follows_the_observed_half():
    """Two 'images' of 4 pixels, all +0.8 or all -0.8: seeing two pixels decides the rest."""
    mix = GaussianMixture([[0.8] * 4, [-0.8] * 4], std=0.05)
    s = make_schedule("linear", 1000)
    mg.manual_seed(0)
    truth = mix.sample(200, np.random.default_rng(1))
    observed = np.zeros((200, 4), dtype=bool)
    observed[:, :2] = True
    out = repaint(mix.eps_fn(s), s, mg.tensor(truth), observed, S=50, jump_length=5, resample=3).numpy()
    sign = np.sign(truth[:, :1])
    assert np.mean(np.sign(out[:, 2:]) == sign) > 0.97
    assert np.abs(out[:, 2:] - 0.8 * sign).mean() < 0.1
