"""A small Fashion-MNIST classifier, trained with minigen, used as a feature extractor.

FID uses Inception-v3 features of ImageNet photos; for 28x28 clothes a small
convolutional net trained on Fashion-MNIST itself is the fitting "inception" network.
Its penultimate layer (128 ReLU units) gives the features of :func:`features`, which
feed the Fréchet distance and KID; its predictions give the class coverage of samples.

The weights ship in ``fashion_classifier.npz`` (trained by
``scripts/train_feature_classifier.py``; test accuracy stored in the file's ``meta``).
Images go in as uint8 0..255 or floats in [0, 1], shaped (N, 28, 28), (N, 1, 28, 28)
or (N, 784); 32x32 padded images are cropped back to 28x28.
"""
from __future__ import annotations

import os

import numpy as np

from .frechet import frechet_distance, kid
from .modes import histogram_stats
from .precision_recall import precision_recall

__all__ = ["WEIGHTS_PATH", "build_classifier", "load_classifier", "prepare_images", "features",
           "predict", "class_coverage", "evaluate_images"]

WEIGHTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion_classifier.npz")
FEATURE_DIM = 128


def build_classifier():
    """The network (untrained): three conv layers, two of stride 2, then 128 features.

        (N,1,28,28) -conv 3x3, 16-> (N,16,28,28) -conv 4x4/2, 32-> (N,32,14,14)
        -conv 4x4/2, 32-> (N,32,7,7) -flatten-> 1568 -linear-> 128 (features) -linear-> 10

    with ReLU after every layer but the last: 227k parameters, about 0.9 MB.

    ``model.features`` is everything up to the 128 ReLU features; ``model.head`` the last layer.
    """
    import minigen.nn as nn

    class FashionClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                nn.Conv2d(16, 32, 4, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(32, 32, 4, stride=2, padding=1), nn.ReLU(),
                nn.Flatten(),
                nn.Linear(32 * 7 * 7, FEATURE_DIM), nn.ReLU(),
            )
            self.head = nn.Linear(FEATURE_DIM, 10)

        def forward(self, x):
            return self.head(self.features(x))

    return FashionClassifier()


_loaded: dict = {}


def load_classifier(path: str | None = None, device: str = "cpu"):
    """The trained classifier in eval mode (loaded once per path and device)."""
    import minigen as mg
    path = path or WEIGHTS_PATH
    key = (os.path.abspath(path), device)
    if key not in _loaded:
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: classifier weights missing; run "
                                    f"scripts/train_feature_classifier.py to make them")
        checkpoint = mg.load(path)
        model = build_classifier()
        model.load_state_dict(checkpoint["model"])
        model.eval()
        _loaded[key] = model.to(device)
    return _loaded[key]


def prepare_images(images, value_range=None) -> np.ndarray:
    """Images as float32 (N, 1, 28, 28) in [0, 1], the classifier's input.

    uint8 is divided by 255; floats are taken to lie in ``value_range`` (default
    (0, 1)): pass ``value_range=(-1, 1)`` for tanh outputs.  Floats far outside the
    range raise, so a forgotten rescaling cannot silently spoil a metric.
    """
    if hasattr(images, "numpy") and callable(images.numpy):     # a minigen Tensor
        images = images.numpy()
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255
    else:
        lo, hi = value_range or (0.0, 1.0)
        x = x.astype(np.float32)
        margin = 0.05 * (hi - lo)
        if x.size and (x.min() < lo - margin or x.max() > hi + margin):
            raise ValueError(f"image values span [{x.min():.3g}, {x.max():.3g}], outside "
                             f"value_range ({lo}, {hi}); pass the right value_range")
        x = np.clip((x - lo) / (hi - lo), 0, 1)
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"expected grey images (N,28,28), (N,1,28,28) or (N,784), got {x.shape}")
    if x.shape[2:] == (32, 32):
        x = x[:, :, 2:30, 2:30]                 # undo pad_to_32
    if x.shape[2:] != (28, 28):
        raise ValueError(f"expected 28x28 (or 32x32 padded) images, got {x.shape[2:]}")
    return np.ascontiguousarray(x)


def _run(images, fn, batch_size, device, value_range):
    import minigen as mg
    x = prepare_images(images, value_range)
    outputs = []
    with mg.no_grad():
        for start in range(0, len(x), batch_size):
            batch = mg.tensor(x[start:start + batch_size], device=device)
            outputs.append(fn(batch).numpy())
    return np.concatenate(outputs).astype(np.float64)


def features(images, batch_size: int = 500, device: str = "cpu", value_range=None,
             path: str | None = None) -> np.ndarray:
    """(N, 128) penultimate-layer features of the classifier."""
    model = load_classifier(path, device)
    return _run(images, model.features, batch_size, device, value_range)


def predict(images, batch_size: int = 500, device: str = "cpu", value_range=None,
            path: str | None = None) -> np.ndarray:
    """Predicted classes (N,) of the classifier."""
    model = load_classifier(path, device)
    return _run(images, model, batch_size, device, value_range).argmax(axis=1)


def class_coverage(images, min_count: int = 1, **kwargs) -> dict:
    """Which of the 10 classes the classifier sees in ``images``: ``counts`` per class,
    ``covered`` (classes with >= min_count images) and ``reverse_kl`` against uniform
    (0 for a balanced set, log 10 = 2.30 when every image is one class)."""
    return histogram_stats(predict(images, **kwargs), 10, min_count)


_real_cache: dict = {}


def _real_features(device):
    """Features of the real Fashion-MNIST test split (embedded subset if that is all there is)."""
    if device not in _real_cache:
        from ..data import FashionMNIST
        test = FashionMNIST("test")
        _real_cache[device] = features(test.images, device=device)
    return _real_cache[device]


def evaluate_images(fake, real=None, value_range=None, device: str = "cpu", k: int = 3,
                    kid_subsets: int = 50, kid_subset_size: int = 1000, seed: int = 0) -> dict:
    """All image-sample metrics in one call: FD, KID, precision/recall, class coverage.

    ``fake`` are generated images; ``real`` defaults to the Fashion-MNIST test split.
    Precision/recall compare equal numbers of real and fake features (the smaller count).
    """
    fake_f = features(fake, device=device, value_range=value_range)
    real_f = _real_features(device) if real is None else features(real, device=device)
    kid_mean, kid_std = kid(real_f, fake_f, n_subsets=kid_subsets,
                            subset_size=kid_subset_size, seed=seed)
    n = min(len(real_f), len(fake_f))
    rng = np.random.default_rng(seed)
    precision, recall = precision_recall(real_f[rng.choice(len(real_f), n, replace=False)],
                                         fake_f[rng.choice(len(fake_f), n, replace=False)], k=k)
    coverage = class_coverage(fake, device=device, value_range=value_range)
    return {"fd": frechet_distance(real_f, fake_f), "kid": kid_mean, "kid_std": kid_std,
            "precision": precision, "recall": recall, "classes_covered": coverage["covered"],
            "class_reverse_kl": coverage["reverse_kl"], "class_counts": coverage["counts"]}
