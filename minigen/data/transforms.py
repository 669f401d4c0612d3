"""Small array transforms for images: scaling, binarising, padding, and torchvision-style
composable transforms.

The functions work on NumPy arrays, so a demo can prepare a whole data set once, or a
DataLoader can apply one to every batch (``transform=``).

The classes follow ``torchvision.transforms`` for the data sets' ``transform=``::

    from minigen.data import FashionMNIST, DataLoader, transforms
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train = FashionMNIST("train", transform=tf)          # images -> (1, 28, 28) in [-1, 1]
    loader = DataLoader(train, batch_size=64, shuffle=True)

Unlike torchvision's they take NumPy arrays (no PIL) and work on one image or on a whole
batch alike (a minigen data set applies them to a batch at a time, which is fast):
``ToTensor`` turns (H, W) into (1, H, W) and (N, H, W) into (N, 1, H, W); the channel
axis of the others is the third from the end.  ``ToTensor`` returns a float32 NumPy
array; the DataLoader makes the Tensor on the right device.
"""
from __future__ import annotations

import numpy as np

__all__ = ["to_unit", "to_symmetric", "from_symmetric", "binarize", "binarize_dynamic",
           "pad_to_32", "add_channel", "Compose", "ToTensor", "Normalize", "Lambda", "Pad",
           "Binarize"]


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


# -- torchvision-style transforms (objects, composable) ----------------------------------------
class Compose:
    """Apply transforms in order: ``Compose([ToTensor(), Normalize((0.5,), (0.5,))])``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"


class ToTensor:
    """Images -> float32 with a channel axis, as torchvision's ToTensor (without PIL):

    uint8 pixels are scaled to [0, 1] (x / 255), other dtypes become float32 unchanged;
    (H, W) -> (1, H, W), (H, W, C) with C in {1, 3, 4} -> (C, H, W);
    a batch (N, H, W) -> (N, 1, H, W), (N, H, W, C) -> (N, C, H, W).
    """

    def __call__(self, images):
        x = np.asarray(images)
        x = to_unit(x) if x.dtype == np.uint8 else x.astype(np.float32)
        if x.ndim == 2:
            return x[None]
        if x.ndim == 3:
            return x.transpose(2, 0, 1) if x.shape[-1] in (1, 3, 4) else x[:, None]
        if x.ndim == 4:
            return x.transpose(0, 3, 1, 2)
        raise ValueError(f"ToTensor: expected (H, W), (H, W, C), (N, H, W) or (N, H, W, C) "
                         f"images, got shape {x.shape}")

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """Per channel:  x_c <- (x_c - mean_c) / std_c  on (C, H, W) or (N, C, H, W) floats."""

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, np.float64))
        self.std = np.atleast_1d(np.asarray(std, np.float64))
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: mean {mean!r} and std {std!r} must be sequences of "
                             "the same length (one value per channel)")
        if not np.all(self.std > 0):
            raise ValueError(f"Normalize: std must be > 0 for every channel, got {std!r}")

    def __call__(self, x):
        x = np.asarray(x)
        if x.ndim < 3 or not np.issubdtype(x.dtype, np.floating):
            raise ValueError(f"Normalize: expected float (C, H, W) or (N, C, H, W) images, got "
                             f"{x.dtype} of shape {x.shape} (apply ToTensor first)")
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means for {channels} channels")
        mean = self.mean.astype(x.dtype).reshape(-1, 1, 1)   # keeps float32 float32
        std = self.std.astype(x.dtype).reshape(-1, 1, 1)
        return (x - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Lambda:
    """Wrap any function of the images: ``Lambda(lambda x: x.reshape(len(x), -1))``."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: {fn!r} is not callable")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self):
        return f"Lambda({getattr(self.fn, '__name__', self.fn)!r})"


class Pad:
    """Pad the last two axes by ``padding`` pixels of ``fill`` on every side (torchvision's
    Pad with one int; 2 turns 28x28 into 32x32)."""

    def __init__(self, padding: int, fill=0):
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"Pad: padding must be an integer >= 0, got {padding!r}")
        self.padding, self.fill = int(padding), fill

    def __call__(self, x):
        x = np.asarray(x)
        p = self.padding
        return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)], constant_values=self.fill)

    def __repr__(self):
        return f"Pad({self.padding}, fill={self.fill!r})"


class Binarize:
    """Fixed binarisation as a transform:  b = 1[x > threshold]  (see :func:`binarize`)."""

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold

    def __call__(self, x):
        return binarize(np.asarray(x), self.threshold)

    def __repr__(self):
        return f"Binarize({self.threshold})"
