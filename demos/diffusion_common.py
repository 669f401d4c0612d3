"""What the diffusion demos share, written once: the training set-up (a seeded loader,
Adam, the step count) of demos/ddpm.py, demos/diffusion_toy.py and demos/score_langevin.py,
and the 2-D pictures of the last two: point clouds on a fixed square, a strip of them along
a reverse process, and vector fields (ε or the score) on a grid over the plane."""
import numpy as np

import minigen as mg
from minigen import viz
from minigen.data import DataLoader


def adam_setup(model, x_train, args):
    """(loader, optimizer, steps): a DataLoader over x_train seeded with --seed (whole
    batches only), Adam at --lr on the model's parameters, and --steps (or --epochs times
    the batches per epoch).  The training step itself stays in each demo, in plain sight."""
    loader = DataLoader(x_train, args.batch_size, seed=args.seed, drop_last=True, device=args.device)
    steps = args.steps if args.steps is not None else args.epochs * len(loader)
    return loader, mg.optim.Adam(model.parameters(), lr=args.lr), steps


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def plane_grid(lim, n=21):
    """(n², 2) float32 points of an n × n grid over [−lim, lim]²."""
    ticks = np.linspace(-lim, lim, n)
    xx, yy = np.meshgrid(ticks, ticks)
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def points_panel(ax, x, lim, title, marks=None, n=2000, alpha=0.5):
    """The first n points of x on [−lim, lim]², square, without ticks; ``marks``: red crosses."""
    ax.scatter(x[:n, 0], x[:n, 1], s=1, alpha=alpha)
    if marks is not None:
        ax.scatter(marks[:, 0], marks[:, 1], c="red", marker="x", s=20)
    ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_aspect("equal")
    ax.set_title(title, fontsize=9), ax.set_xticks([]), ax.set_yticks([])


def field_panel(ax, grid, v, title, marks=None):
    """Arrows v at the grid points (and red crosses at ``marks``), square, without ticks."""
    ax.quiver(grid[:, 0], grid[:, 1], v[:, 0], v[:, 1], color="tab:blue")
    if marks is not None:
        ax.scatter(marks[:, 0], marks[:, 1], c="red", marker="x", s=20)
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal"), ax.set_xticks([]), ax.set_yticks([])


def points_strip(clouds, titles, lim, suptitle, path, n=2000, alpha=0.5):
    """A row of point clouds (at most six, evenly picked) saved as one PNG; returns its path."""
    import matplotlib.pyplot as plt
    picks = np.linspace(0, len(clouds) - 1, min(6, len(clouds))).round().astype(int)
    fig, axes = plt.subplots(1, len(picks), figsize=(2.6 * len(picks), 2.8))
    for ax, k in zip(np.atleast_1d(axes), picks):
        points_panel(ax, clouds[k], lim, titles[k], n=n, alpha=alpha)
    fig.suptitle(suptitle)
    return viz.save_figure(fig, path)


def points_gif(clouds, titles, lim, path, n=2000):
    """Every cloud as a frame of a GIF; returns its path."""
    import matplotlib.pyplot as plt
    frames = []
    for x, title in zip(clouds, titles):
        fig, ax = plt.subplots(figsize=(3, 3))
        points_panel(ax, x, lim, title, n=n)
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
        plt.close(fig)
    return viz.save_gif(frames, path, duration_ms=300)
