"""Small helpers shared by the ``demos/classic_*.py`` scripts (lectures L6.1 and L6.2).

Not a demo itself: argument parsing with ``--out`` / ``--seed`` (minigen.train's checks) and a Fashion-MNIST loader
that returns flat float images in [0, 1].
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from minigen.data import FASHION_MNIST_CLASSES, FashionMNIST, to_unit  # noqa: E402,F401
from minigen.train import (demo_parser, non_negative_float_arg, non_negative_int_arg,  # noqa: E402,F401
                           positive_int_arg, positive_int_list_arg, write_results)
from minigen.viz import make_grid, plt, save_figure  # noqa: E402,F401


def parser(description: str, out: str):
    """The shared demo command line (``--out``, ``--seed``, checked at parse time by
    ``minigen.train``); each classic demo adds its own options with the same checks."""
    return demo_parser(description, out=out)


def load_fashion(n_train: int, n_test: int, seed: int = 0, embedded: bool = False):
    """Fashion-MNIST as ``(X_train, y_train, X_test, y_test)``, images flattened to 784 floats in [0, 1].

    Uses the full files when they are installed (``apt-get install dataset-fashion-mnist``),
    otherwise the embedded 3000/1000-image subset; ``embedded=True`` forces the subset.
    A seeded random subset of ``n_train`` / ``n_test`` images is drawn (all of them if fewer).
    """
    rng = np.random.default_rng(seed)
    source = "embedded" if embedded else "auto"
    out = []
    for split, n in (("train", n_train), ("test", n_test)):
        ds = FashionMNIST(split, source=source, verbose=False)
        idx = rng.choice(len(ds), size=min(n, len(ds)), replace=False)
        idx.sort()
        X = to_unit(ds.images[idx]).reshape(len(idx), -1).astype(np.float64)
        out += [X, ds.labels[idx]]
    print(f"Fashion-MNIST from {ds.source}: {len(out[0])} train / {len(out[2])} test images")
    return tuple(out)


def show_grid(ax, images, nrow, title=None, value_range=(0, 1), pad_value=0.5, padding=1):
    """Draw images ``(N, H, W)`` or RGB ``(N, H, W, 3)`` tiled on a matplotlib axis (grey separators)."""
    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=pad_value, value_range=value_range)
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)


def with_hidden(images, observed, color=(0.85, 0.25, 0.25)):
    """Grey images ``(N, H, W)`` as RGB with the hidden pixels (``observed`` False) in ``color``."""
    rgb = np.repeat(np.clip(images, 0, 1)[..., None], 3, axis=-1)
    rgb[~observed] = color
    return rgb


def report(out, results, paths):
    """Write ``OUT/results.json`` (the demo output contract) and print every picture's path."""
    write_results(out, results, {os.path.splitext(os.path.basename(p))[0]: p for p in paths})
