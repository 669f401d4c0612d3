"""One seeded GAN run on a 2-D toy: the loop of ``demos/gan_toy.py``, of the tables over
seeds (``demos/gan_mode_collapse.py``) and of the sweep (``demos/gan_sweep.py``).

    run = train_toy("8gaussians", loss="wgan-gp", steps=1000, seed=0)
    run.numbers          # modes covered, high quality, reverse KL (PacGAN protocol)
    run.samples          # (10,000, 2) float32 of the final G (its EMA weights with ema > 0)

Each loss starts from the settings that work best for it on these toys,
``TOY_DEFAULTS[loss]``; ``settings=`` replaces them (``loss_settings`` merges the
command line's values in).  The data are fresh samples of the toy in every batch, drawn
by the loader's seeded per-batch generator: a run -- and a resumed run -- sees the same
data bit for bit.  The networks: ``ToyGenerator`` and ``ToyDiscriminator`` (the
``minibatch`` option of :mod:`.minibatch` decides what D sees of the batch).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np

import minigen as mg
from minigen.data import DataLoader, toy_2d
from minigen.metrics import mode_stats
from minigen.train import Loop

from .minibatch import discriminator_options
from .toy import ToyDiscriminator, ToyGenerator
from .training import GANTrainer, checked_resume, make_optimizer

__all__ = ["TOY_DEFAULTS", "PROTOCOL", "ToyRun", "toy_loader", "toy_trainer", "toy_mode_numbers",
           "train_toy"]

#: the per-loss settings that work best on the toys (what was tried: README, GAN section)
TOY_DEFAULTS = {
    "minimax": dict(optimizer="adam", lr=1e-3, betas=(0.5, 0.999), n_critic=1),
    "nonsaturating": dict(optimizer="adam", lr=1e-3, betas=(0.5, 0.999), n_critic=1),
    "wgan": dict(optimizer="rmsprop", lr=5e-4, betas=None, n_critic=5, clip=0.01),
    "wgan-gp": dict(optimizer="adam", lr=1e-3, betas=(0.5, 0.9), n_critic=5, gp_weight=0.1),
}

#: how results.json counts modes (VEEGAN / PacGAN)
PROTOCOL = {"samples": 2500, "min_count": 20, "n_sigma": 3,
            "what": "PacGAN: first 2,500 samples; high quality = within 3 std of the nearest "
                    "mode; a mode is covered by >= 20 high-quality samples; reverse KL of the "
                    "high-quality samples' mode histogram against uniform"}


@dataclass
class ToyRun:
    """What :func:`train_toy` gives back."""
    trainer: GANTrainer
    loop: Loop
    dist: object              # the toy (minigen.data.toy_2d)
    settings: dict            # the loss settings used
    samples: np.ndarray       # (n_samples, 2) float32 of the final (EMA) G
    numbers: dict             # toy_mode_numbers(dist, samples)


def toy_loader(dist, batch_size, seed, device="cpu"):
    """Fresh samples of the toy every batch, from the loader's seeded per-batch rng."""
    placeholder = np.zeros((100 * batch_size, 2), dtype=np.float32)   # only its length counts
    return DataLoader(placeholder, batch_size, seed=seed, device=device, drop_last=True,
                      transform=lambda x, rng: dist.sample(len(x), rng=rng))


def toy_trainer(loss="wgan-gp", minibatch="none", *, settings=None, hidden=128, depth=3,
                latent_dim=2, r1=0.0, ema=0.0, pack_after=0, device="cpu"):
    """G and D (3 x 128 ReLU MLPs by default), their optimisers and the GANTrainer.

    ``minibatch``: an option name of ``MINIBATCH_OPTIONS`` or a hook ``width -> (layer,
    new_width)`` for ToyDiscriminator."""
    s = TOY_DEFAULTS[loss] if settings is None else settings
    G = ToyGenerator(latent_dim=latent_dim, hidden=hidden, depth=depth)
    options = (discriminator_options(minibatch, pack_after) if isinstance(minibatch, str)
               else {"minibatch": minibatch})
    D = ToyDiscriminator(hidden=hidden, depth=depth, **options)
    G.to(device), D.to(device)
    return GANTrainer(G, D, make_optimizer(G.parameters(), s), make_optimizer(D.parameters(), s),
                      loss=loss, n_critic=s["n_critic"], gp_weight=s.get("gp_weight", 10.0),
                      r1_weight=r1, clip=s.get("clip"), ema_decay=ema or None)


def toy_mode_numbers(dist, samples):
    """Modes covered, high-quality fraction, reverse KL and per-mode counts (PROTOCOL)."""
    if dist.modes is None:
        return {}
    m = mode_stats(samples[:PROTOCOL["samples"]], dist.modes, dist.std,
                   min_count=PROTOCOL["min_count"], n_sigma=PROTOCOL["n_sigma"])
    return {"modes_covered": m["modes_covered"], "num_modes": m["num_modes"],
            "high_quality": m["high_quality"], "reverse_kl": m["reverse_kl"],
            "counts": m["counts"].tolist()}


def train_toy(data="25gaussians", loss="wgan-gp", minibatch="none", *, steps=2000, batch_size=256,
              hidden=128, depth=3, latent_dim=2, seed=0, settings=None, r1=0.0, ema=0.0,
              pack_after=0, device="cpu", n_samples=10_000, args=None, on_step=None, progress=False):
    """Train a toy GAN for ``steps`` generator updates and score its samples.

    ``args``: a demo's parsed arguments, for ``minigen.train.Loop`` (--out, --resume,
    --checkpoint-every, the tqdm bar); without them the loop's files go to a temporary
    folder.  ``on_step(trainer, loop)`` is called after every step (pictures).
    The evaluation samples come from their own seeded generator (seed + 1)."""
    dist = toy_2d(data)
    s = TOY_DEFAULTS[loss] if settings is None else settings
    mg.manual_seed(seed)
    trainer = toy_trainer(loss, minibatch, settings=s, hidden=hidden, depth=depth,
                          latent_dim=latent_dim, r1=r1, ema=ema, pack_after=pack_after,
                          device=device)
    loader = toy_loader(dist, trainer.loader_batch_size(batch_size), seed, device)
    with tempfile.TemporaryDirectory() as scratch:
        loop_args = {} if args is not None else {"out": scratch, "checkpoint_every": 0,
                                                 "progress": progress}
        loop = Loop(loader, args, steps=steps, state=trainer.state(),
                             desc=f"{loss} {data}", **loop_args)
        for real in checked_resume(loop):
            loop.log(**trainer.step(real))
            if on_step is not None:
                on_step(trainer, loop)
    samples = trainer.generate(n_samples, seed=seed + 1).astype(np.float32)
    return ToyRun(trainer, loop, dist, s, samples, toy_mode_numbers(dist, samples))
