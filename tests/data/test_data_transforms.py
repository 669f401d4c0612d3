"""Scaling, binarising and padding images."""
import numpy as np
import pytest

from minigen.data import (add_channel, binarize, binarize_dynamic, from_symmetric, pad_to_32,
                          to_symmetric, to_unit)


def test_scaling_endpoints_and_dtype():
    x = np.array([[0, 51, 255]], np.uint8)
    u, s = to_unit(x), to_symmetric(x)
    assert u.dtype == np.float32 and s.dtype == np.float32
    np.testing.assert_allclose(u, [[0, 0.2, 1]], rtol=1e-6)
    np.testing.assert_allclose(s, [[-1, -0.6, 1]], rtol=1e-6)
    np.testing.assert_allclose(from_symmetric(s), u, rtol=1e-6)
    assert to_unit(x, np.float64).dtype == np.float64


def test_fixed_binarisation():
    x = np.array([0.1, 0.5, 0.51, 0.9], np.float32)
    assert binarize(x).tolist() == [0, 0, 1, 1] and binarize(x).dtype == np.float32
    assert binarize(x, threshold=0.05).tolist() == [1, 1, 1, 1]


def test_dynamic_binarisation_is_bernoulli_and_seeded():
    x = np.full((200, 28, 28), 0.3, np.float32)
    x[:, :, :14] = 0.0                         # black stays black, always
    b = binarize_dynamic(x, np.random.default_rng(1))
    assert set(np.unique(b)) == {0.0, 1.0} and b.dtype == np.float32
    assert b[:, :, :14].sum() == 0
    assert abs(b[:, :, 14:].mean() - 0.3) < 0.005          # E[b] = x
    np.testing.assert_array_equal(b, binarize_dynamic(x, np.random.default_rng(1)))
    assert not np.array_equal(b, binarize_dynamic(x, np.random.default_rng(2)))


def test_pad_to_32():
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    p = pad_to_32(x, value=-1)
    assert p.shape == (3, 1, 32, 32) and p.dtype == np.float32
    np.testing.assert_array_equal(p[..., 2:30, 2:30], x)
    assert np.all(p[..., :2, :] == -1) and np.all(p[..., :, 30:] == -1)
    assert pad_to_32(x[:, 0]).shape == (3, 32, 32)
    with pytest.raises(ValueError, match="28x28"):
        pad_to_32(np.zeros((2, 32, 32)))
    assert add_channel(x[:, 0]).shape == (3, 1, 28, 28)
