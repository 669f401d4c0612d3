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


# -- torchvision-style transforms --------------------------------------------------------------
from minigen.data import DataLoader, FashionMNIST, transforms  # noqa: E402


def test_to_tensor_scales_uint8_and_adds_the_channel_axis():
    t = transforms.ToTensor()
    one = np.array([[0, 255], [51, 102]], np.uint8)
    assert t(one).shape == (1, 2, 2) and t(one).dtype == np.float32
    np.testing.assert_allclose(t(one)[0], [[0, 1], [0.2, 0.4]], rtol=1e-6)
    assert t(np.zeros((5, 28, 28), np.uint8)).shape == (5, 1, 28, 28)     # a batch
    assert t(np.zeros((28, 28, 3), np.uint8)).shape == (3, 28, 28)        # one colour image
    assert t(np.zeros((5, 8, 8, 3), np.uint8)).shape == (5, 3, 8, 8)
    assert t(np.full((2, 2), 7.5)).max() == 7.5                          # floats not rescaled
    with pytest.raises(ValueError, match="ToTensor"):
        t(np.zeros(4))


def test_normalize_per_channel_keeps_float32():
    x = np.stack([np.zeros((2, 2)), np.ones((2, 2))]).astype(np.float32)   # (2, 2, 2)
    y = transforms.Normalize((0.5, 1.0), (0.5, 2.0))(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y[0], -1) and np.testing.assert_allclose(y[1], 0)
    batch = transforms.Normalize((0.5,), (0.5,))(np.ones((3, 1, 2, 2), np.float32))
    np.testing.assert_allclose(batch, 1)
    with pytest.raises(ValueError, match="std must be > 0"):
        transforms.Normalize((0.5,), (0,))
    with pytest.raises(ValueError, match="2 means for 3 channels"):
        transforms.Normalize((0, 0), (1, 1))(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="apply ToTensor first"):
        transforms.Normalize((0.5,), (0.5,))(np.zeros((28, 28), np.uint8))


def test_compose_lambda_pad_on_a_data_set_and_through_the_loader():
    tf = transforms.Compose([transforms.ToTensor(), transforms.Pad(2),
                             transforms.Normalize((0.5,), (0.5,)),
                             transforms.Lambda(lambda x: x * 1)])
    assert "ToTensor()" in repr(tf) and "Pad(2" in repr(tf)
    ds = FashionMNIST("test", source="embedded", transform=tf,
                      target_transform=transforms.Lambda(lambda y: y + 100))
    image, label = ds[3]                                     # one sample, as in torchvision
    raw = FashionMNIST("test", source="embedded")
    assert image.shape == (1, 32, 32) and label == raw.labels[3] + 100
    np.testing.assert_allclose(image[0, 2:-2, 2:-2], raw.images[3] / 255 * 2 - 1, atol=1e-6)
    assert image[0, 0, 0] == -1                              # padding 0 -> (0 - 0.5) / 0.5
    x, y = next(iter(DataLoader(ds, batch_size=8)))          # a batch at a time
    assert x.shape == (8, 1, 32, 32) and x.dtype == np.float32 and int(y.numpy()[0]) >= 100
    with pytest.raises(TypeError, match="not callable"):
        transforms.Compose([transforms.ToTensor(), "flip"])
    assert transforms.Binarize(0.5)(np.array([0.2, 0.7])).tolist() == [0, 1]
