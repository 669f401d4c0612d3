"""Pictures for the demos: image grids, curves, 2-D scatter / density plots, latent
spaces, interpolation strips and GIF animations.

Every function writes a file and returns its path, so a demo can print where to look.
Matplotlib always runs with the non-interactive Agg backend: demos work the same on a
laptop, over ssh and in CI, and never open a window.
Inputs may be NumPy arrays, CuPy arrays or minigen Tensors (see :func:`to_numpy`).
"""
from __future__ import annotations

import csv
import math
import os

import matplotlib

matplotlib.use("Agg")                     # before pyplot is imported: never a GUI window
import matplotlib.pyplot as plt           # noqa: E402
import numpy as np                        # noqa: E402

__all__ = ["to_numpy", "make_grid", "image_grid", "save_image", "curves", "read_csv_log", "scatter_2d",
           "density_2d", "density_grid", "latent_scatter", "interpolation_strip", "save_gif",
           "save_figure"]


def to_numpy(x) -> np.ndarray:
    """A NumPy array from a NumPy array, a CuPy array or a minigen Tensor."""
    if hasattr(x, "numpy") and callable(x.numpy):        # minigen Tensor
        x = x.numpy()
    if hasattr(x, "get") and not isinstance(x, np.ndarray):   # CuPy array
        x = x.get()
    return np.asarray(x)


def save_figure(fig, path: str, dpi: int = 100) -> str:
    """Save ``fig`` to ``path`` (creating folders), close it, return the path."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)                         # demos make hundreds of figures: free them
    return path


# -- images ----------------------------------------------------------------------------
def _as_nhwc(images) -> np.ndarray:
    """Images as (N, H, W, C) with C in {1, 3}, from (N,H,W), (N,C,H,W) or (N,H,W,C)."""
    x = to_numpy(images).astype(np.float64)
    if x.ndim == 2:                                  # one image
        x = x[None]
    if x.ndim == 3:
        return x[..., None]
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        return x.transpose(0, 2, 3, 1)               # channels first -> last
    if x.ndim == 4 and x.shape[-1] in (1, 3):
        return x
    raise ValueError(f"cannot read images of shape {x.shape}: expected (N,H,W), (N,C,H,W) "
                     f"or (N,H,W,C) with C = 1 or 3")


def _to_unit_range(x: np.ndarray, value_range) -> np.ndarray:
    """Map pixel values to [0, 1]: from ``value_range=(lo, hi)``, else guess from the data
    (uint8-like 0..255, [-1, 1] from tanh, or already [0, 1])."""
    if value_range is None:
        lo, hi = float(x.min()), float(x.max())
        value_range = (0, 255) if hi > 1.5 else (-1, 1) if lo < -0.01 else (0, 1)
    lo, hi = value_range
    return np.clip((x - lo) / (hi - lo), 0, 1)


def make_grid(images, nrow: int | None = None, padding: int = 2, pad_value: float = 1.0,
              value_range=None) -> np.ndarray:
    """Tile images into one (H', W', C) array in [0, 1], ``nrow`` images per row.

    Image i sits at row i // nrow, column i % nrow; ``padding`` pixels of ``pad_value``
    separate them.  Empty cells at the end stay ``pad_value``.
    """
    x = _to_unit_range(_as_nhwc(images), value_range)
    n, h, w, c = x.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    rows = int(math.ceil(n / nrow))
    grid = np.full((padding + rows * (h + padding), padding + nrow * (w + padding), c),
                   pad_value, dtype=np.float64)
    for i in range(n):
        top = padding + (i // nrow) * (h + padding)
        left = padding + (i % nrow) * (w + padding)
        grid[top:top + h, left:left + w] = x[i]
    return grid


def image_grid(images, path: str, nrow: int | None = None, labels=None, title: str | None = None,
               value_range=None, class_names=None, cmap: str = "gray") -> str:
    """Save a grid of images as a PNG.  ``labels`` (ints or strings), when given, are
    written above each image (ints are looked up in ``class_names`` when given)."""
    x = _as_nhwc(images)
    n, h, w, _ = x.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    if labels is None:
        grid = make_grid(x, nrow, value_range=value_range)
        scale = max(2.0, min(12.0, grid.shape[1] / 40))
        fig, ax = plt.subplots(figsize=(scale, scale * grid.shape[0] / grid.shape[1]))
        ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap=cmap,
                  vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
    else:
        # one subplot per image, so every label sits above its own picture
        labels = [class_names[int(l)] if class_names is not None else str(l)
                  for l in to_numpy(labels).ravel()] if not isinstance(labels, (list, tuple)) \
            else [str(l) for l in labels]
        rows = int(math.ceil(n / nrow))
        unit = _to_unit_range(x, value_range)
        fig, axes = plt.subplots(rows, nrow, figsize=(1.3 * nrow, 1.5 * rows), squeeze=False)
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i < n:
                img = unit[i].squeeze(-1) if unit.shape[-1] == 1 else unit[i]
                ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
                ax.set_title(labels[i], fontsize=7)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def save_image(tensor, path: str, nrow: int = 8, padding: int = 2, normalize: bool = False,
               value_range=None, scale_each: bool = False, pad_value: float = 0.0) -> str:
    """Write images as one PNG grid, pixel for pixel as ``torchvision.utils.save_image``.

    ``tensor``: (N, C, H, W) or one image (C, H, W) / (H, W), C = 1 or 3 (a Tensor or an
    array).  ``nrow`` images per row (fewer if there are fewer images), ``padding`` pixels
    of ``pad_value`` around and between them.  Without ``normalize`` the values are taken
    to lie in [0, 1] and clipped; with it they are mapped to [0, 1] from ``value_range``
    = (low, high) (clipped to it), or from the min and max of all images (of each image
    with ``scale_each``).  Pixels are stored as round(255 x) in RGB; one image is saved
    without padding.  Unlike :func:`image_grid` (a matplotlib figure for the demos) this
    writes the bare grid.  Returns the path.
    """
    from minigen import _checks
    nrow = _checks.positive_int(nrow, "save_image: nrow")
    padding = _checks.non_negative_int(padding, "save_image: padding")
    x = to_numpy(tensor).astype(np.float64)
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        if x.shape[0] not in (1, 3):
            raise ValueError(f"save_image: a 3-D input is one (C, H, W) image with C = 1 or 3, "
                             f"got shape {x.shape}; for N grey images pass x[:, None] "
                             f"(N, 1, H, W)")
        x = x[None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"save_image: expected (N, C, H, W) images with C = 1 or 3, got shape "
                         f"{x.shape}")
    if normalize:
        def rescale(images):
            low, high = value_range if value_range is not None else (images.min(), images.max())
            return (np.clip(images, low, high) - low) / max(high - low, 1e-5)
        x = np.stack([rescale(image) for image in x]) if scale_each else rescale(x)
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)                   # grey -> RGB, as torchvision does
    n, c, h, w = x.shape
    if n == 1:
        grid = x[0]
    else:
        columns = min(nrow, n)
        rows = int(math.ceil(n / columns))
        grid = np.full((c, rows * (h + padding) + padding, columns * (w + padding) + padding),
                       pad_value, dtype=np.float64)
        for i in range(n):
            top = padding + (i // columns) * (h + padding)
            left = padding + (i % columns) * (w + padding)
            grid[:, top:top + h, left:left + w] = x[i]
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    plt.imsave(path, pixels)
    return path


def interpolation_strip(images, path: str, title: str | None = None, value_range=None,
                        row_labels=None) -> str:
    """Save interpolations: ``images`` of shape (rows, steps, ...) become one row per
    interpolation, left to right from the first endpoint to the second."""
    x = to_numpy(images)
    rows, steps = x.shape[:2]
    grid = make_grid(x.reshape(rows * steps, *x.shape[2:]), nrow=steps, value_range=value_range)
    fig, ax = plt.subplots(figsize=(min(14, 0.8 * steps + 1), 0.8 * rows + 0.5))
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    h = (grid.shape[0] - 2) / rows
    if row_labels is not None:
        ax.set_yticks([2 + h * (r + 0.5) for r in range(rows)], [str(l) for l in row_labels])
    else:
        ax.set_yticks([])
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


# -- curves ----------------------------------------------------------------------------
def read_csv_log(path: str) -> dict[str, np.ndarray]:
    """Columns of a CSV log (as written by ``minigen.train``) as float arrays; blanks are NaN."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {k: np.array([float(r[k]) if r.get(k) not in (None, "") else np.nan for r in rows])
            for k in rows[0]}


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    """Running mean over ``window`` points (NaNs ignored), same length as y."""
    if window <= 1:
        return y
    ok = ~np.isnan(y)
    kernel = np.ones(window)
    num = np.convolve(np.where(ok, y, 0), kernel, mode="full")[:len(y)]
    den = np.convolve(ok.astype(float), kernel, mode="full")[:len(y)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def curves(data, path: str, x: str = "step", keys=None, title: str | None = None,
           smooth: int = 1, logy: bool = False, separate: bool = False) -> str:
    """Plot loss / metric curves.

    ``data``: a CSV log path, a dict ``name -> values`` (x = index unless ``data[x]``
    exists), or a list of per-step dicts.  ``keys`` picks curves (default: all but x);
    ``smooth`` is a running-mean window; ``separate`` gives one panel per curve.
    """
    if isinstance(data, (str, os.PathLike)):
        data = read_csv_log(os.fspath(data))
    elif isinstance(data, list):
        names = list(dict.fromkeys(k for row in data for k in row))
        data = {k: np.array([row.get(k, np.nan) for row in data], dtype=float) for k in names}
    data = {k: np.asarray(v, dtype=float) for k, v in data.items()}
    keys = [k for k in (keys or data) if k != x]
    panels = len(keys) if separate else 1
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.5), squeeze=False)
    for i, key in enumerate(keys):
        ax = axes[0, i if separate else 0]
        y = data[key]
        xs = data[x] if x in data else np.arange(len(y))
        ok = ~np.isnan(y)
        ax.plot(xs[ok], _smooth(y, smooth)[ok], label=key)
        ax.set_xlabel(x)
        if logy:
            ax.set_yscale("log")
        if separate:
            ax.set_title(key)
    if not separate:
        axes[0, 0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


# -- 2-D points ------------------------------------------------------------------------
def _mark_modes(ax, modes):
    if modes is not None:
        m = to_numpy(modes)
        ax.scatter(m[:, 0], m[:, 1], marker="x", s=40, c="red", linewidths=1.5,
                   alpha=0.8, label="true modes", zorder=3)


def scatter_2d(samples, path: str, modes=None, real=None, title: str | None = None,
               lim: float | None = None, s: float = 3) -> str:
    """Scatter of 2-D samples; ``real`` points (grey) behind them, true ``modes`` as red x."""
    pts = to_numpy(samples)
    fig, ax = plt.subplots(figsize=(5, 5))
    if real is not None:
        r = to_numpy(real)
        ax.scatter(r[:, 0], r[:, 1], s=s, c="lightgray", label="data")
    ax.scatter(pts[:, 0], pts[:, 1], s=s, c="tab:blue", alpha=0.6, label="samples")
    _mark_modes(ax, modes)
    if lim is not None:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)   # outside the data
    for handle in legend.legend_handles:           # same-size legend markers
        handle.set_sizes([30])
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def density_2d(samples, path: str, modes=None, bins: int = 100, lim: float | None = None,
               title: str | None = None) -> str:
    """2-D histogram (a density estimate) of samples, true ``modes`` as red x."""
    pts = to_numpy(samples)
    lim = lim or float(np.abs(pts).max()) * 1.05
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.hist2d(pts[:, 0], pts[:, 1], bins=bins, range=[[-lim, lim], [-lim, lim]], cmap="viridis")
    _mark_modes(ax, modes)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def density_grid(log_prob, path: str, lim: float = 4.0, n: int = 200, modes=None,
                 title: str | None = None) -> str:
    """Heat map of a model density:  ``log_prob`` maps (M, 2) NumPy points to (M,) log p.

    Shows exp(log p) on an n x n grid over [-lim, lim]^2 (for flows, EBMs, diffusion scores).
    """
    ticks = np.linspace(-lim, lim, n)
    xx, yy = np.meshgrid(ticks, ticks)
    points = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    density = np.exp(to_numpy(log_prob(points)).reshape(n, n))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(density, origin="lower", extent=[-lim, lim, -lim, lim], cmap="viridis")
    _mark_modes(ax, modes)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def latent_scatter(z, labels, path: str, class_names=None, title: str | None = None,
                   s: float = 4) -> str:
    """Latent codes coloured by class.  Codes with more than 2 dimensions are projected on
    their first two principal components (the plot says so on its axes)."""
    z = to_numpy(z).astype(np.float64)
    labels = to_numpy(labels).astype(int).ravel()
    axis_names = ("z1", "z2")
    if z.shape[1] > 2:
        centred = z - z.mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        z, axis_names = centred @ vt[:2].T, ("PC 1", "PC 2")
    fig, ax = plt.subplots(figsize=(6, 5))
    cmap = plt.get_cmap("tab10")
    for c in np.unique(labels):
        m = labels == c
        name = class_names[c] if class_names is not None else str(c)
        ax.scatter(z[m, 0], z[m, 1], s=s, color=cmap(c % 10), label=name)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.legend(fontsize=7, markerscale=3, loc="best")
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


# -- animation -------------------------------------------------------------------------
def save_gif(frames, path: str, duration_ms: int = 200, loop: int = 0) -> str:
    """A GIF from frames: PNG paths, or image arrays ((H,W) / (H,W,3), values in [0,1] or
    0..255).  Use it to step through training: save a grid every N steps, then animate."""
    from PIL import Image                       # Pillow comes with matplotlib

    images = []
    for frame in frames:
        if isinstance(frame, (str, os.PathLike)):
            with Image.open(frame) as im:
                images.append(im.convert("RGB"))
        else:
            a = to_numpy(frame).astype(np.float64)
            if a.max() <= 1.0:
                a = a * 255
            images.append(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8).squeeze()).convert("RGB"))
    if not images:
        raise ValueError("save_gif needs at least one frame")
    size = images[0].size                       # frames of a GIF share one size
    images = [im if im.size == size else im.resize(size) for im in images]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration_ms, loop=loop)
    return path
