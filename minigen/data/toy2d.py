"""Seeded 2-D toy distributions, the test beds of GAN / flow / diffusion papers.

=================  =========================================================  ======
name               what                                                        modes
=================  =========================================================  ======
``8gaussians``     8 Gaussians on a circle of radius 2, std 0.02 (VEEGAN,       8
                   Unrolled GAN, PacGAN)
``25gaussians``    5x5 grid of Gaussians at {-4,-2,0,2,4}^2, std 0.05           25
                   (VEEGAN, PacGAN, WGAN-GP)
``rings``          concentric rings of radius 1, 2, 3, radial std 0.05         -
``moons``          two interleaving half circles, std 0.05 (scaled x2)          -
``swissroll``      the 2-D swiss roll of FFJORD (scaled by 1/5)                 -
``checkerboard``   uniform on 8 of the 16 squares of [-4,4]^2 (FFJORD)          -
=================  =========================================================  ======

Every distribution is an object with ``sample(n, seed=...)`` returning an (n, 2)
float32 array.  The mixtures also carry ``modes`` (K, 2) and ``std``, which is what
the mode-counting metrics of ``minigen.metrics`` need::

    ring = toy_2d("8gaussians")
    x = ring.sample(2000, seed=0)
    ring.mode_stats(generated)     # modes covered, high-quality fraction, reverse KL
"""
from __future__ import annotations

import abc

import numpy as np

__all__ = ["Toy2D", "GaussianMixture2D", "eight_gaussians", "twenty_five_gaussians",
           "ConcentricRings", "TwoMoons", "SwissRoll", "Checkerboard", "toy_2d", "TOY_2D_NAMES"]


def _rng(seed=None, rng=None) -> np.random.Generator:
    """One place that turns ``seed`` / ``rng`` into a Generator (never the global NumPy state)."""
    if rng is not None:
        return rng
    return np.random.default_rng(seed)


class Toy2D(abc.ABC):
    """Base class: subclasses implement ``_sample(n, rng)`` returning (n, 2) floats."""

    name = "toy"
    #: (K, 2) mode centres, or None when the distribution has no isolated modes
    modes: np.ndarray | None = None
    #: the standard deviation of each mode (the "3 sigma" of the high-quality test)
    std: float | None = None

    def sample(self, n: int, seed: int | None = None, rng: np.random.Generator | None = None):
        """``n`` samples as an (n, 2) float32 array; same seed, same samples."""
        return self._sample(int(n), _rng(seed, rng)).astype(np.float32)

    @abc.abstractmethod
    def _sample(self, n, rng):
        """(n, 2) samples drawn with the NumPy Generator ``rng``."""

    def mode_stats(self, samples, min_count: int = 1) -> dict:
        """Mode coverage of ``samples`` (see :func:`minigen.metrics.mode_stats`)."""
        if self.modes is None:
            raise ValueError(f"{self.name} has no isolated modes to count")
        from ..metrics.modes import mode_stats          # lazy: data does not need metrics
        return mode_stats(samples, self.modes, self.std, min_count=min_count)

    def __repr__(self) -> str:
        k = "" if self.modes is None else f", {len(self.modes)} modes, std={self.std}"
        return f"<{type(self).__name__} {self.name!r}{k}>"


class GaussianMixture2D(Toy2D):
    """Equal-weight mixture of isotropic Gaussians N(mu_k, std^2 I):  pick k uniformly,
    then x = mu_k + std * eps,  eps ~ N(0, I)."""

    def __init__(self, modes, std: float, name: str = "mixture"):
        self.modes = np.asarray(modes, dtype=np.float64)
        self.std = float(std)
        self.name = name

    def _sample(self, n, rng):
        k = rng.integers(len(self.modes), size=n)
        return self.modes[k] + self.std * rng.standard_normal((n, 2))


def eight_gaussians(radius: float = 2.0, std: float = 0.02) -> GaussianMixture2D:
    """8 Gaussians evenly spaced on a circle: mu_k = r (cos 2 pi k/8, sin 2 pi k/8)."""
    angles = 2 * np.pi * np.arange(8) / 8
    modes = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture2D(modes, std, name="8gaussians")


def twenty_five_gaussians(spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """25 Gaussians on the 5x5 grid {-2,-1,0,1,2}^2 * spacing."""
    ticks = spacing * np.arange(-2, 3)
    modes = np.array([(x, y) for x in ticks for y in ticks])
    return GaussianMixture2D(modes, std, name="25gaussians")


class ConcentricRings(Toy2D):
    """Rings of radius r_j (chosen uniformly), angle uniform, radius blurred by N(0, std^2)."""

    name = "rings"

    def __init__(self, radii=(1.0, 2.0, 3.0), std: float = 0.05):
        self.radii = np.asarray(radii, dtype=np.float64)
        self.ring_std = float(std)

    def _sample(self, n, rng):
        r = self.radii[rng.integers(len(self.radii), size=n)] + self.ring_std * rng.standard_normal(n)
        theta = rng.uniform(0, 2 * np.pi, size=n)
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


class TwoMoons(Toy2D):
    """Two interleaving half circles (as sklearn's make_moons), centred and scaled by 2:
    upper (cos t, sin t), lower (1 - cos t, 1/2 - sin t), t ~ U(0, pi), plus N(0, std^2)."""

    name = "moons"

    def __init__(self, std: float = 0.05):
        self.noise = float(std)

    def _sample(self, n, rng):
        t = rng.uniform(0, np.pi, size=n)
        lower = rng.random(n) < 0.5
        x = np.where(lower, 1 - np.cos(t), np.cos(t))
        y = np.where(lower, 0.5 - np.sin(t), np.sin(t))
        points = np.stack([x - 0.5, y - 0.25], axis=1) * 2     # centre on the origin
        return points + self.noise * rng.standard_normal((n, 2))


class SwissRoll(Toy2D):
    """The 2-D swiss roll: t = 1.5 pi (1 + 2u), u ~ U(0,1);  x = (t cos t, t sin t) / 5 + noise."""

    name = "swissroll"

    def __init__(self, std: float = 0.1):
        self.noise = float(std)

    def _sample(self, n, rng):
        t = 1.5 * np.pi * (1 + 2 * rng.random(n))
        points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 5
        return points + self.noise * rng.standard_normal((n, 2))


class Checkerboard(Toy2D):
    """Uniform on the 8 "black" squares of a 4x4 checkerboard covering [-4, 4]^2.

    Draw x1 ~ U(-4, 4); its column c = floor(x1 / 2) picks which rows are black
    ((row + column) even); x2 is uniform on one of those two rows.
    """

    name = "checkerboard"

    def _sample(self, n, rng):
        x1 = rng.uniform(-4, 4, size=n)
        column = np.floor(x1 / 2).astype(int)            # -2..1
        row = 2 * rng.integers(0, 2, size=n) - 2 + (column % 2)   # rows -2..1, parity = column's
        x2 = 2 * row + rng.uniform(0, 2, size=n)
        return np.stack([x1, x2], axis=1)


_FACTORIES = {
    "8gaussians": eight_gaussians,
    "25gaussians": twenty_five_gaussians,
    "rings": ConcentricRings,
    "moons": TwoMoons,
    "swissroll": SwissRoll,
    "checkerboard": Checkerboard,
}
TOY_2D_NAMES = tuple(_FACTORIES)


def toy_2d(name: str, **kwargs) -> Toy2D:
    """A toy distribution by name (see the table above); keyword arguments go to its constructor."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown toy distribution {name!r}; choose from {', '.join(TOY_2D_NAMES)}")
    return _FACTORIES[name](**kwargs)
