"""The explicit joint table: every quantity checked against brute-force enumeration."""
import itertools

import numpy as np
import pytest

from minigen.models.classic import BinaryJointTable, NotFittedError, n_parameters
from minigen.models.classic.joint_table import index_to_states, states_to_index


@pytest.fixture
def data():
    """Correlated 2x2 binary images: the bottom row copies the top row 80% of the time."""
    rng = np.random.default_rng(0)
    top = (rng.random((500, 2)) < 0.4).astype(float)
    flip = rng.random((500, 2)) < 0.2
    bottom = np.where(flip, 1 - top, top)
    return np.hstack([top, bottom])


@pytest.fixture
def table(data):
    return BinaryJointTable((2, 2), alpha=1.0).fit(data)


def test_fit_is_smoothed_counting(data):
    t = BinaryJointTable((2, 2), alpha=0.5).fit(data)
    for s, state in enumerate(itertools.product([0, 1], repeat=4)):
        count = np.sum(np.all(data == np.array(state), axis=1))
        assert t.counts_[s] == count
        assert t.probs_[s] == pytest.approx((count + 0.5) / (len(data) + 0.5 * 16))
    assert t.probs_.sum() == pytest.approx(1.0)


def test_mle_without_smoothing_is_the_empirical_frequency(data):
    t = BinaryJointTable((2, 2), alpha=0.0).fit(data)
    np.testing.assert_allclose(t.probs_, t.counts_ / len(data))


def test_state_index_round_trip_and_order():
    states = index_to_states(np.arange(16), 4)
    np.testing.assert_array_equal(states_to_index(states), np.arange(16))
    # row-major reading order: pixel 0 is the most significant bit
    np.testing.assert_array_equal(states[0b1000], [1, 0, 0, 0])
    np.testing.assert_array_equal(states[0b0001], [0, 0, 0, 1])


def test_score_is_average_log_table_entry(table, data):
    expected = np.mean([np.log(table.probs_[states_to_index(x[None])[0]]) for x in data])
    assert table.score(data) == pytest.approx(expected)


def test_marginals_by_enumeration(table):
    states = table.states
    for pixels in ([0], [3], [1, 2], [2, 0], [3, 1, 0]):
        marg = table.marginal(pixels)
        assert marg.shape == (2,) * len(pixels)
        for values in itertools.product([0, 1], repeat=len(pixels)):
            match = np.all(states[:, pixels] == np.array(values), axis=1)
            assert marg[values] == pytest.approx(table.probs_[match].sum())
    np.testing.assert_allclose(table.pixel_marginals(), [table.marginal([j])[1] for j in range(4)])


def test_conditionals_by_enumeration(table):
    """p(x_m | x_o) = p(x_m, x_o) / sum over completions, checked for every mask and evidence."""
    states = table.states
    for observed in itertools.product([False, True], repeat=4):
        observed = np.array(observed)
        obs_idx = np.flatnonzero(observed)
        for values in itertools.product([0, 1], repeat=len(obs_idx)):
            x = np.full(4, np.nan)
            x[obs_idx] = values
            missing, cond = table.conditional(x)
            np.testing.assert_array_equal(missing, np.flatnonzero(~observed))
            consistent = np.all(states[:, obs_idx] == np.array(values), axis=1)
            evidence = table.probs_[consistent].sum()
            for completion in itertools.product([0, 1], repeat=len(missing)):
                full = x.copy()
                full[missing] = completion
                joint = table.probs_[states_to_index(full[None])[0]]
                assert cond[completion] == pytest.approx(joint / evidence)


def test_conditional_with_explicit_mask_matches_nan(table):
    x = np.array([1.0, 0.0, 0.0, 1.0])
    mask = np.array([True, False, True, False])
    m1, c1 = table.conditional(x, mask)
    m2, c2 = table.conditional(np.where(mask, x, np.nan))
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_allclose(c1, c2)


def test_inpainting_map_mean_and_sample(table):
    X = np.array([[1.0, 0.0, np.nan, np.nan], [np.nan, 1.0, np.nan, 1.0], [0, 1, 1, 0]])
    filled = table.inpaint(X, method="map")
    for i in range(2):
        missing, cond = table.conditional(X[i])
        best = np.unravel_index(np.argmax(cond), cond.shape)
        np.testing.assert_array_equal(filled[i, missing], best)
    np.testing.assert_array_equal(filled[2], X[2])            # complete rows untouched
    mean = table.inpaint(X, method="mean")
    missing, cond = table.conditional(X[0])
    assert mean[0, 2] == pytest.approx(cond[1, :].sum())       # p(x_2 = 1 | x_0, x_1)
    draws = table.inpaint(np.repeat(X[:1], 4000, axis=0), method="sample", random_state=0)
    assert draws[:, 2].mean() == pytest.approx(cond[1, :].sum(), abs=0.03)
    assert set(np.unique(draws)) <= {0.0, 1.0}


def test_sampling_follows_the_table(table):
    X = table.sample(20000, random_state=0)
    freq = np.bincount(states_to_index(X), minlength=16) / len(X)
    np.testing.assert_allclose(freq, table.probs_, atol=0.01)
    np.testing.assert_array_equal(table.sample(5, random_state=3), table.sample(5, random_state=3))


def test_accepts_image_shaped_input(data):
    a = BinaryJointTable((2, 2)).fit(data)
    b = BinaryJointTable((2, 2)).fit(data.reshape(-1, 2, 2))
    np.testing.assert_array_equal(a.probs_, b.probs_)


def test_parameter_count_explodes():
    assert n_parameters(4) == 15
    assert n_parameters(9) == 511
    assert n_parameters(16) == 65535
    assert n_parameters(784) == 2 ** 784 - 1
    assert len(str(n_parameters(784))) == 237


def test_errors(data):
    with pytest.raises(NotFittedError):
        BinaryJointTable().score(data)
    with pytest.raises(ValueError, match="binary"):
        BinaryJointTable().fit(data * 0.5)
    with pytest.raises(ValueError, match="pixels per row"):
        BinaryJointTable((3, 3)).fit(data)
    with pytest.raises(ValueError, match="NaN"):
        BinaryJointTable().fit(np.where(data == 1, np.nan, data))
    with pytest.raises(ValueError, match="2-D"):
        BinaryJointTable().fit(data[0])
    with pytest.raises(ValueError, match="does not scale"):
        BinaryJointTable((28, 28))
    with pytest.raises(ValueError, match="alpha"):
        BinaryJointTable(alpha=-1)
    t = BinaryJointTable().fit(data)
    with pytest.raises(ValueError, match="out of range"):
        t.marginal([4])
    with pytest.raises(ValueError, match="method"):
        t.inpaint(data, method="guess")
    with pytest.raises(TypeError, match="mask must be boolean"):
        t.conditional(data[0], mask=np.ones(4))
