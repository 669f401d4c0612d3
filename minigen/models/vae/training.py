"""Data and the training loop shared by the VAE demos and tests.

    data = load_fashion_mnist()                  # embedded subset (offline), or full=True
    model = VAE.mlp(latent_dim=20)
    fit(model, data.x_train, args)               # args from minigen.train.arg_parser
    model.log_likelihood(data.x_test_binary, k=1000)

The images are kept as grey values in [0, 1], flattened to (N, 784).  What the model
trains on depends on its likelihood:

* Bernoulli decoder: *dynamically binarised* images, b ~ Bernoulli(x), drawn afresh
  for every batch (the DataLoader's seeded transform); the test set is binarised once
  with a fixed seed, so that test numbers are comparable between runs.
* Gaussian decoder: *dequantised* grey values y = (255 x + u) / 256, u ~ U(0, 1), so
  that a continuous density of y is a proper likelihood of the 8-bit image
  (convert with ``minigen.metrics.dequantized_nll``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import minigen as mg
from minigen.data import DataLoader, FashionMNIST, binarize_dynamic, to_unit
from minigen.train import Loop

__all__ = ["FashionData", "load_fashion_mnist", "dequantize", "prepare_test", "make_loader", "fit",
           "load_model", "sample_metrics"]


@dataclass
class FashionData:
    """Fashion-MNIST as flat grey images in [0, 1]: x (N, 784) float32, y (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    classes: tuple

    @property
    def x_test_binary(self):
        """The test images binarised once, with seed 0 (the fixed test set of a Bernoulli VAE)."""
        return prepare_test(self.x_test, "bernoulli")


def load_fashion_mnist(full=False, verbose=True) -> FashionData:
    """The embedded 3,000 / 1,000-image subset (default: offline, fast), or with
    ``full=True`` the 60,000 / 10,000 images of the installed files
    (``apt-get install dataset-fashion-mnist``, or see ``minigen.data``)."""
    source = "files" if full else "embedded"
    train = FashionMNIST("train", source=source, verbose=verbose)
    test = FashionMNIST("test", source=source, verbose=verbose)
    flat = lambda ds: to_unit(ds.images).reshape(len(ds), -1)
    return FashionData(flat(train), train.labels, flat(test), test.labels,
                       f"{train.source} / {test.source}", train.classes)


def dequantize(x, rng):
    """y = (255 x + u) / 256, u ~ U(0, 1): grey levels spread uniformly over their bins."""
    u = rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64)
    return ((x * 255 + u) / 256).astype(x.dtype)


def _transform(likelihood):
    return binarize_dynamic if likelihood == "bernoulli" else dequantize


def prepare_test(x, likelihood, seed=0):
    """Test images as the model sees them: binarised (Bernoulli) or dequantised
    (Gaussian) once, with a fixed seed."""
    return _transform(likelihood)(x, np.random.default_rng(seed))


def make_loader(x, batch_size, seed=0, likelihood="bernoulli", device="cpu"):
    """Shuffled batches of x, binarised or dequantised afresh for every batch (seeded)."""
    return DataLoader(x, batch_size, shuffle=True, seed=seed, device=device,
                      transform=_transform(likelihood))


def fit(model, x_train, args=None, *, out=None, objective="elbo", k=1, beta=None, steps=None,
        epochs=None, progress=None, desc=None):
    """Train ``model`` (a VAE or an Autoencoder) on x_train with Adam; return the Loop.

    ``args`` comes from ``minigen.train.arg_parser`` (steps/epochs, batch size, lr, seed,
    device, out, resume, checkpoint-every); keyword arguments override it.  Each step:

        loss = reconstruction + beta * KL   (objective='elbo')  or  -L_k  ('iwae')
        opt.zero_grad(); loss.backward(); opt.step()

    Checkpoints and the CSV log go to ``out`` (``--resume`` continues exactly).
    """
    get = lambda name, default: getattr(args, name, default) if args is not None else default
    batch_size, lr, seed = get("batch_size", 128), get("lr", 1e-3), get("seed", 0)
    device = get("device", "cpu")
    model.to(device)
    loader = make_loader(x_train, batch_size, seed, model.likelihood.name, device)
    opt = mg.optim.Adam(model.parameters(), lr=lr)
    # explicit keywords beat the command line; --steps beats --epochs (the demos give
    # their default length in epochs, so args.steps is set only when the user asks)
    if steps is None and epochs is not None:
        steps = epochs * len(loader)
    if steps is None:
        steps = get("steps", None)
    if steps is None and get("epochs", None) is not None:
        steps = get("epochs", None) * len(loader)
    if steps is None:
        raise ValueError("fit needs steps or epochs (as keywords or in args)")
    loop = Loop(loader, args, state={"model": model, "optimizer": opt}, steps=steps,
                out=out or get("out", "out"), progress=progress, desc=desc)
    model.train()
    for x in loop:
        loss, stats = model.loss(x, objective=objective, k=k, beta=beta)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loop.log(**stats)
    return loop


def load_model(model, path):
    """Load the weights saved by :func:`fit` / a demo's Loop (``OUT/checkpoint.npz``, or
    a folder holding one) into ``model`` (same architecture); returns the model."""
    import os
    if os.path.isdir(path):
        path = os.path.join(path, "checkpoint.npz")
    checkpoint = mg.load(path)
    model.load_state_dict(checkpoint["state"]["model"])
    return model


def sample_metrics(fake, real, seed=0):
    """Frechet distance, KID, precision/recall and class coverage of generated images
    (grey, in [0, 1]) against real ones, from ``minigen.metrics.evaluate_images``.

    Returns (dict, None), or (None, reason) when the metrics' feature classifier is not
    available (its weights are trained separately), so demos can go on without it.
    """
    try:
        from minigen.metrics import evaluate_images
        fake = np.clip(np.asarray(fake, dtype=np.float32), 0, 1).reshape(-1, 28, 28)
        real = np.asarray(real, dtype=np.float32).reshape(-1, 28, 28)
        # KID subsets of at most half of each set: subsets that differ, a std that means something
        subset = max(2, min(1000, len(fake) // 2, len(real) // 2))
        m = evaluate_images(fake, real=real, kid_subset_size=subset, seed=seed)
    except (FileNotFoundError, ImportError, AttributeError) as err:
        return None, f"{type(err).__name__}: {err}"
    keep = ("fd", "kid", "kid_std", "precision", "recall", "classes_covered")
    return {k: (float(m[k]) if k != "classes_covered" else int(m[k])) for k in keep}, None
