"""Every family on one bench (lecture L6.3's taxonomy as one table): the same data, the
same measuring code, one row per model.

A model enters the bench as a :class:`Candidate`: its name, family and L6.3 class, and
the callables it *naturally* has -- ``sample``, ``nll`` (with the kind: exact / bound /
IS estimate), ``inpaint``, ``anomaly_score``, ``latent``.  A missing callable means the
family has no such capability here, and the row says so ("—"); a family that is not on
the bench at all gets a :func:`not_built` row.  :func:`measure_row` is the one call path
that turns any candidate into its row, so every number of the table is computed the same way:

    bench = make_bench(data)                      # split, masks, held-out class, fixed once
    rows = [measure_row(build(bench), bench) for build in builders]

Conventions.  Images are flat (N, 784) float32 in [0, 1].  Binarised models (Bernoulli
VAE, FVSBN, MADE) report their NLL in nats per image on the test images binarised once
(seed 0); continuous ones (PCA, FA, RealNVP) in bits/dim of the 8-bit images, from the
density of dequantised pixels (255 x + u) / 256; DDPM's bound L_vlb is already a bound on
the NLL of the discrete 8-bit images (its discretised decoder), in bits/dim as well.  The anomaly class is held out of the
training images; "normal" test images are the other classes, and samples are compared with
those (FD, KID, precision/recall and class coverage from :func:`minigen.metrics.evaluate_images`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .metrics import auroc, bits_per_dim, dequantized_nll

__all__ = ["Bench", "Candidate", "make_bench", "measure_row", "sample_quality", "not_built",
           "conditional_gaussian_fill", "latent_search_inpaint", "PatchTables", "NOT_BUILT", "NONE"]

NOT_BUILT = "not built"
NONE = "—"


@dataclass
class Bench:
    """The fixed split every model is trained and measured on."""

    x_train: np.ndarray          # (N, 784) in [0, 1], anomaly class removed
    y_train: np.ndarray
    x_test: np.ndarray           # normal test images (anomaly class removed)
    y_test: np.ndarray
    x_anomaly: np.ndarray        # test images of the held-out class
    anomaly_class: int
    masks: dict                  # name -> (n_inpaint, 784) bool, True = observed
    inpaint_images: np.ndarray   # (n_inpaint, 784) the test images the masks apply to
    n_samples: int
    seed: int = 0

    @property
    def x_test_binary(self):
        return binarise(self.x_test, 0)

    @property
    def x_anomaly_binary(self):
        return binarise(self.x_anomaly, 1)


@dataclass
class Candidate:
    """One trained model and what it can do.  Every callable takes/returns flat images."""

    name: str
    family: str
    taxonomy: str                # L6.3: explicit tractable / explicit approximate / implicit
    parameters: int
    train_seconds: float
    sample: Callable[[int], np.ndarray]
    nll: Optional[Callable] = None           # images -> per-image NLL; see nll_space
    nll_kind: str = NONE                     # "exact" | "bound" | "IS estimate"
    nll_space: str = "binary"                # "binary" (nats/image) | "dequantised" (bits/dim) |
    #                                          "discrete": nats of the 8-bit images (bits/dim)
    inpaint: Optional[Callable] = None       # (x, observed) -> filled images
    inpaint_method: str = NONE
    inpaint_masks: tuple = ()                # masks the method handles (empty: all)
    anomaly_score: Optional[Callable] = None  # images -> per-image score, high = anomalous
    anomaly_method: str = NONE
    anomaly_input: str = "grey"              # "grey" | "binary" (the fixed binarised images)
    latent: Optional[Callable] = None        # images -> (N, d) features
    model: object = field(default=None, repr=False)


def binarise(x, seed):
    """Bernoulli draws of grey images, once, seeded (the VAE demo's fixed binarised test set)."""
    from .models.vae.training import prepare_test
    return prepare_test(x, "bernoulli", seed)


def dequantise(x, seed):
    """y = (255 x + u) / 256 once, seeded: the continuous pixels a density is fitted to."""
    from .models.vae.training import prepare_test
    return prepare_test(x, "gaussian", seed)


def make_bench(x_train, y_train, x_test, y_test, *, anomaly_class=1, n_samples=1000,
               n_inpaint=100, seed=0):
    """Remove ``anomaly_class`` from training and normal test images; fix the three
    in-painting masks of the VAE demo (centre, left, random) on the first ``n_inpaint``
    normal test images."""
    from .models.vae.inpainting import MASKS, make_mask
    if anomaly_class not in set(np.unique(y_train)):
        raise ValueError(f"anomaly_class {anomaly_class} is not a label of the training data")
    keep_train, keep_test = y_train != anomaly_class, y_test != anomaly_class
    x_test_normal = x_test[keep_test]
    n_inpaint = min(n_inpaint, len(x_test_normal))
    rng = np.random.default_rng(seed)
    masks = {kind: make_mask(kind, n_inpaint, rng=rng) for kind in MASKS}
    return Bench(x_train[keep_train], y_train[keep_train], x_test_normal, y_test[keep_test],
                 x_test[~keep_test], anomaly_class, masks, x_test_normal[:n_inpaint],
                 n_samples, seed)


def sample_quality(samples, bench):
    """FD, KID, precision, recall, class coverage of samples against the normal test images."""
    from .metrics import evaluate_images
    fake = np.clip(np.asarray(samples, dtype=np.float32), 0, 1).reshape(-1, 28, 28)
    real = bench.x_test.reshape(-1, 28, 28)
    subset = max(2, min(1000, len(fake) // 2, len(real) // 2))
    m = evaluate_images(fake, real=real, kid_subset_size=subset, kid_subsets=20, seed=bench.seed)
    return {k: m[k] for k in ("fd", "kid", "precision", "recall", "classes_covered")}


def _likelihood(c, bench):
    if c.nll is None:
        return {"likelihood": NONE, "likelihood_kind": c.nll_kind, "likelihood_unit": NONE}
    if c.nll_space == "binary":
        value = float(np.mean(c.nll(bench.x_test_binary)))
        unit = "nats/image (binarised)"
    elif c.nll_space == "discrete":          # -log P(x) of the 8-bit images themselves
        eight_bit = np.round(bench.x_test * 255) / 255
        value, unit = bits_per_dim(float(np.mean(c.nll(eight_bit))), 784), "bits/dim (8-bit, discrete)"
    elif c.nll_space != "dequantised":
        raise ValueError(f"unknown nll_space {c.nll_space!r}: binary, dequantised or discrete")
    else:
        nll = float(np.mean(c.nll(dequantise(bench.x_test, 0))))
        value, unit = bits_per_dim(dequantized_nll(nll, 784), 784), "bits/dim (dequantised)"
    return {"likelihood": value, "likelihood_kind": c.nll_kind, "likelihood_unit": unit}


def _inpainting(c, bench):
    from .models.vae.inpainting import missing_mse
    out, filled = {}, {}
    truth = bench.inpaint_images
    for kind, observed in bench.masks.items():
        if c.inpaint is None or (c.inpaint_masks and kind not in c.inpaint_masks):
            out[f"inpaint_{kind}"] = NONE if c.inpaint is None else "no natural method"
            continue
        guess = np.asarray(c.inpaint(truth, observed), dtype=np.float32).reshape(truth.shape)
        out[f"inpaint_{kind}"] = missing_mse(guess, truth, observed)
        filled[kind] = np.where(observed, truth, guess)
    out["inpaint_method"] = c.inpaint_method
    return out, filled


def _anomaly(c, bench):
    if c.anomaly_score is None:
        return {"anomaly_auroc": NONE, "anomaly_method": NONE}
    if c.anomaly_input == "binary":
        normal, odd = bench.x_test_binary, bench.x_anomaly_binary
    else:
        normal, odd = bench.x_test, bench.x_anomaly
    normal, odd = c.anomaly_score(normal), c.anomaly_score(odd)
    return {"anomaly_auroc": auroc(np.asarray(normal), np.asarray(odd)),
            "anomaly_method": c.anomaly_method}


def _representation(c, bench):
    if c.latent is None:
        return {"linear_probe": NONE}
    from .models.vae.representation import linear_probe_accuracy
    train, test = c.latent(bench.x_train), c.latent(bench.x_test)
    return {"linear_probe": linear_probe_accuracy(train, bench.y_train, test, bench.y_test,
                                                  epochs=10, seed=bench.seed)}


def measure_row(c: Candidate, bench: Bench):
    """The one call path: a trained candidate -> (row dict, pictures dict).

    pictures: ``samples`` (n, 784) and ``inpainted`` {mask: (n_inpaint, 784)} for the figure.
    """
    started = time.perf_counter()
    samples = np.clip(np.asarray(c.sample(bench.n_samples), dtype=np.float32), 0, 1)
    samples = samples.reshape(bench.n_samples, -1)
    sample_seconds = (time.perf_counter() - started) / bench.n_samples
    row = {"model": c.name, "family": c.family, "class": c.taxonomy, "status": "built",
           "parameters": int(c.parameters), "train_seconds": round(float(c.train_seconds), 2),
           "sample_ms_per_image": 1000 * sample_seconds}
    row.update(_likelihood(c, bench))
    row.update(sample_quality(samples, bench))
    inpaint, filled = _inpainting(c, bench)
    row.update(inpaint)
    row.update(_anomaly(c, bench))
    row.update(_representation(c, bench))
    return row, {"samples": samples, "inpainted": filled}


COLUMNS = ("parameters", "train_seconds", "sample_ms_per_image", "likelihood", "likelihood_kind",
           "likelihood_unit", "fd", "kid", "precision", "recall", "classes_covered",
           "inpaint_centre", "inpaint_left", "inpaint_random", "inpaint_method",
           "anomaly_auroc", "anomaly_method", "linear_probe")


def not_built(name, family, taxonomy, reason):
    """The row of a model that is not on the bench: every measurement "not built", never faked."""
    row = {"model": name, "family": family, "class": taxonomy, "status": NOT_BUILT,
           "reason": reason}
    row.update({k: NOT_BUILT for k in COLUMNS})
    return row


def conditional_gaussian_fill(x, observed, mean, cov):
    """E[x_m | x_o] of a Gaussian N(mean, cov): mean_m + C_mo C_oo^{-1} (x_o - mean_o),
    image by image (each row has its own mask).  The natural in-painting of PCA / FA."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    for i in range(len(x)):
        o, m = observed[i], ~observed[i]
        if not m.any():
            continue
        weights = np.linalg.solve(cov[np.ix_(o, o)], x[i, o] - mean[o])
        out[i, m] = mean[m] + cov[np.ix_(m, o)] @ weights
    return out.astype(np.float32)


def latent_search_inpaint(generate, latent_dim, x, observed, *, steps=200, lr=0.05, prior_weight=1e-3,
                          seed=0, device="cpu"):
    """In-painting with a generator, which has no conditional: search for the z whose image
    matches the observed pixels, then read the missing ones off G(z).

        z* = argmin_z  Σ_{i observed} (G(z)_i − x_i)² / |observed|  +  prior_weight · ‖z‖² / d

    by Adam on z (one z per image, from N(0, I)), the gradient through the generator by the
    engine's backward.  The ‖z‖² term (−log N(z; 0, I) up to constants) keeps z where the
    generator was trained.  ``generate``: z (N, latent_dim) tensor -> images in the space of
    ``x`` (flat (N, D) NumPy, the caller converts); ``observed``: bool (N, D), True = seen.
    Returns G(z*) as flat float32 NumPy (the caller pastes the observed pixels back)."""
    import minigen as mg
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    observed = np.asarray(observed, dtype=bool).reshape(x.shape)
    rng = np.random.default_rng(seed)
    z = mg.tensor(rng.standard_normal((len(x), latent_dim)).astype(np.float32), device=device,
                  requires_grad=True)
    target = mg.tensor(x, device=device)
    mask = mg.tensor(observed.astype(np.float32), device=device)
    seen = mg.tensor(np.maximum(observed.sum(axis=1, keepdims=True), 1).astype(np.float32), device=device)
    opt = mg.optim.Adam([z], lr=lr)
    for _ in range(int(steps)):
        r = (generate(z).reshape(len(x), -1) - target) * mask          # error on the seen pixels only
        loss = ((r * r).sum(axis=1, keepdims=True) / seen).sum() \
            + (prior_weight / latent_dim) * (z * z).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with mg.no_grad():
        return generate(z).reshape(len(x), -1).numpy().astype(np.float32)


class PatchTables:
    """The joint table of L6.1 as an image model: a 28×28 binary image is 49 independent
    4×4 blocks, the block at each position with its own full 2^16-state table
    (``minigen.models.classic.BinaryJointTable``, add-alpha smoothing)::

        log p(x) = Σ_{blocks b} log θ_b[s(x_b)]

    Exact likelihood, sampling (a state per block) and in-painting (within each block the
    table's exact conditional p(x_m | x_o); blocks are independent, so that is the exact
    conditional of the whole image).  49 × (2^16 − 1) free parameters for what is still a
    crude model: nothing links one block to the next."""

    def __init__(self, side=28, block=4, alpha=None):
        if side % block:
            raise ValueError(f"the image side {side} must be a multiple of the block size {block}")
        self.side, self.block, self.alpha = side, block, alpha
        self.per_row = side // block

    def _blocks(self, x):
        """(N, side²) -> (N, blocks, block²): each block's pixels in row-major order."""
        n, k, b = len(x), self.per_row, self.block
        return np.asarray(x).reshape(n, k, b, k, b).transpose(0, 1, 3, 2, 4).reshape(n, k * k, b * b)

    def _image(self, blocks):
        n, k, b = len(blocks), self.per_row, self.block
        return blocks.reshape(n, k, k, b, b).transpose(0, 1, 3, 2, 4).reshape(n, self.side * self.side)

    @property
    def parameters(self):
        return len(self.tables) * (2 ** (self.block ** 2) - 1)

    def fit(self, x_binary):
        from .models.classic import BinaryJointTable
        blocks = self._blocks(x_binary)
        # default alpha: the pseudo-counts of a table add up to a tenth of the images
        alpha = self.alpha if self.alpha is not None else 0.1 * len(blocks) / 2 ** (self.block ** 2)
        self.tables = [BinaryJointTable((self.block, self.block), alpha=alpha).fit(blocks[:, j])
                       for j in range(blocks.shape[1])]
        return self

    def log_prob(self, x_binary):
        blocks = self._blocks(x_binary)
        return sum(t.log_prob(blocks[:, j]) for j, t in enumerate(self.tables))

    def sample(self, n, rng):
        blocks = np.stack([t.sample(n, random_state=rng) for t in self.tables], axis=1)
        return self._image(blocks).astype(np.float32)

    def inpaint_mean(self, x_binary, observed):
        """E[x_m | x_o] (the conditional probability of each missing pixel being 1)."""
        xb, ob = self._blocks(x_binary).astype(np.float64), self._blocks(observed)
        out = np.empty_like(xb)
        for j, t in enumerate(self.tables):
            out[:, j] = t.inpaint(np.where(ob[:, j], xb[:, j], np.nan), method="mean")
        return self._image(out).astype(np.float32)


def markdown_table(rows):
    """The rows as a GitHub markdown table (numbers to 3 significant digits)."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v)
    heads = ("model", "class") + COLUMNS
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for row in rows:
        lines.append("| " + " | ".join(cell(row.get(h, NONE)) for h in heads) + " |")
    return "\n".join(lines)
