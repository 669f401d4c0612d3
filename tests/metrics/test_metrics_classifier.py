"""The shipped Fashion-MNIST feature classifier and the image metrics built on it."""
import os

import numpy as np
import pytest

from minigen.data import FashionMNIST, pad_to_32, to_symmetric, to_unit
from minigen.metrics import (class_coverage, evaluate_images, features, frechet_distance, kid,
                             predict)
from minigen.metrics.classifier import WEIGHTS_PATH

DEBIAN = "/usr/share/datasets/fashion-mnist"


@pytest.fixture(scope="module")
def real():
    """Embedded subset: 1,000 test and 3,000 train images (always available)."""
    test = FashionMNIST("test", source="embedded", verbose=False)
    train = FashionMNIST("train", source="embedded", verbose=False)
    return {"test": test, "train": train, "f_test": features(test.images),
            "f_train": features(train.images)}


def test_weights_are_small_and_good():
    import minigen as mg
    assert os.path.getsize(WEIGHTS_PATH) < 2 * 2**20
    meta = mg.load(WEIGHTS_PATH)["meta"]
    assert float(meta["test_accuracy"]) > 0.88             # measured on the full test split


def test_accuracy_on_the_embedded_test_subset(real):
    acc = (predict(real["test"].images) == real["test"].labels).mean()
    assert acc > 0.85


def test_class_coverage(real):
    balanced = class_coverage(real["test"].images)
    assert balanced["covered"] == 10 and balanced["reverse_kl"] < 0.02
    trousers = real["test"].images[real["test"].labels == 1]
    collapsed = class_coverage(trousers, min_count=5)
    assert collapsed["covered"] == 1 and collapsed["reverse_kl"] > 2.0     # near log 10


def test_input_conventions_give_the_same_features(real):
    images = real["test"].images[:50]
    f = real["f_test"][:50]
    np.testing.assert_allclose(features(to_unit(images)), f, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features(to_unit(images)[:, None]), f, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features(to_unit(images).reshape(50, 784)), f, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features(pad_to_32(to_unit(images))), f, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features(to_symmetric(images), value_range=(-1, 1)), f,
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="value_range"):
        features(to_symmetric(images))                      # forgot to say it is [-1, 1]
    with pytest.raises(ValueError, match="28x28"):
        features(np.zeros((2, 1, 20, 20), np.float32))


def test_fd_and_kid_real_vs_real_near_zero_noise_far(real):
    rng = np.random.default_rng(0)
    noise = rng.random((1000, 28, 28)).astype(np.float32)
    f_noise = features(noise)
    fd_real = frechet_distance(real["f_test"], real["f_train"])
    fd_noise = frechet_distance(real["f_test"], f_noise)
    kid_real, _ = kid(real["f_test"], real["f_train"], n_subsets=10, subset_size=500)
    kid_noise, _ = kid(real["f_test"], f_noise, n_subsets=10, subset_size=500)
    assert fd_real < 0.02 * fd_noise
    assert abs(kid_real) < 0.002 * kid_noise
    # one class only: a mode-collapsed "generator" sits in between
    bags = real["train"].images[real["train"].labels == 8]
    fd_bags = frechet_distance(real["f_test"], features(bags))
    assert 5 * fd_real < fd_bags < fd_noise


def test_evaluate_images_reports_coverage(real):
    bags_only = real["train"].images[real["train"].labels == 8][:200]
    r = evaluate_images(bags_only, real=real["test"].images, kid_subsets=5, kid_subset_size=200)
    assert r["class_counts"][8] > 0.9 * 200 and r["class_reverse_kl"] > 1.5
    assert r["recall"] < 0.5
    full = evaluate_images(real["train"].images[:1000], real=real["test"].images,
                           kid_subsets=5, kid_subset_size=500)
    assert full["classes_covered"] == 10 and full["class_reverse_kl"] < 0.05
    assert full["precision"] > 0.6 and full["recall"] > 0.6 and full["fd"] < r["fd"]


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(DEBIAN), reason="Debian dataset-fashion-mnist not installed")
def test_full_test_split_against_full_train_split():
    test, train = FashionMNIST("test", root=DEBIAN), FashionMNIST("train", root=DEBIAN)
    f_test, f_train = features(test.images), features(train.images)
    noise = features(np.random.default_rng(0).random((10000, 28, 28)).astype(np.float32))
    assert frechet_distance(f_test, f_train) < 0.01 * frechet_distance(f_test, noise)
