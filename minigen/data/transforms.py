"""Small array transforms for images: scaling, binarising, padding.

They work on NumPy arrays, so a demo can prepare a whole data set once, or a
DataLoader can apply one to every batch (``transform=``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["to_unit", "to_symmetric", "from_symmetric", "binarize", "binarize_dynamic",
           "pad_to_32", "add_channel"]


def to_unit(images, dtype=np.float32):
    """uint8 pixels 0..255 -> floats in [0, 1]:  x / 255."""
    return images.astype(dtype) / 255     # a Python int keeps the float32 dtype


def to_symmetric(images, dtype=np.float32):
    """uint8 pixels 0..255 -> floats in [-1, 1]:  2 x / 255 - 1 (what tanh outputs)."""
    return to_unit(images, dtype) * 2 - 1


def from_symmetric(x):
    """[-1, 1] -> [0, 1], clipped: for showing tanh outputs as pictures."""
    return ((x + 1) / 2).clip(0, 1)


def binarize(x, threshold: float = 0.5):
    """Fixed binarisation:  b = 1[x > threshold]  (x in [0, 1]); same dtype as x.

    Deterministic, so the same image always gives the same binary picture.
    """
    return (x > threshold).astype(x.dtype)


def binarize_dynamic(x, rng: np.random.Generator):
    """Dynamic binarisation:  b ~ Bernoulli(x), drawn afresh each time (x in [0, 1]).

    Used for binary likelihoods (Bernoulli VAE, NADE, ...): each pass over the data
    sees a new sample, which regularises, and grey pixels keep their meaning as
    probabilities instead of being rounded away.  ``rng`` makes it reproducible
    (the DataLoader passes its own per-batch Generator).
    """
    u = rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64)
    return (u < x).astype(x.dtype)


def pad_to_32(images, value=0):
    """Pad 28x28 images to 32x32 with 2 pixels on each side (last two axes).

    Powers of two make U-Nets and strided conv stacks halve evenly: 32 -> 16 -> 8 -> 4.
    ``value`` is the background (0 for [0,1] data, -1 for [-1,1] data).
    """
    h, w = images.shape[-2:]
    if (h, w) != (28, 28):
        raise ValueError(f"pad_to_32 expects 28x28 images, got {h}x{w}")
    widths = [(0, 0)] * (images.ndim - 2) + [(2, 2), (2, 2)]
    return np.pad(images, widths, constant_values=value)


def add_channel(images):
    """(N, H, W) -> (N, 1, H, W): the channel axis convolutions expect."""
    return images[:, None, :, :]
