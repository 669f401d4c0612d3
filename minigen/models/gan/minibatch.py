"""Letting the discriminator see the whole batch: the remedies for mode collapse of L6.4.

A discriminator that judges one sample at a time cannot tell a generator that puts
every sample on one good mode from one that covers them all. Three ways to show it
several samples (``--minibatch`` of ``demos/gan_toy.py``):

==========  =======================================================================
``none``    the plain discriminator
``disc``    minibatch discrimination (Salimans et al. 2016): after D's last hidden
            layer, ``nn.MinibatchDiscrimination`` adds, per sample, how close it is
            (exp of minus L1 distances of learned projections) to the other samples
``stddev``  minibatch standard deviation (Karras et al. 2018): ``nn.MinibatchStdDev``
            appends the average spread of the features over groups of 4 samples
``pack2``   PacGAN (Lin et al. 2018): D takes m = 2 (or 4) samples concatenated into
``pack4``   one input and gives one verdict for the m of them (``ToyDiscriminator(pack=m)``)
==========  =======================================================================

    D = toy_discriminator("pack4", hidden=256)
    D = ToyDiscriminator(minibatch=minibatch_discrimination(out_features=8, kernel_dims=4))
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.nn as nn
from minigen.data import DataLoader, toy_2d

from .toy import ToyDiscriminator, ToyGenerator
from .training import GANTrainer

__all__ = ["MINIBATCH_OPTIONS", "minibatch_discrimination", "minibatch_stddev",
           "toy_discriminator", "discriminator_options", "train_toy"]

MINIBATCH_OPTIONS = ("none", "disc", "stddev", "pack2", "pack4")


def minibatch_discrimination(out_features=8, kernel_dims=4):
    """ToyDiscriminator's ``minibatch`` hook: width -> (MinibatchDiscrimination, width + B)."""
    return lambda width: (nn.MinibatchDiscrimination(width, out_features, kernel_dims),
                          width + out_features)


def minibatch_stddev(group_size=4):
    """ToyDiscriminator's ``minibatch`` hook: width -> (MinibatchStdDev, width + 1)."""
    return lambda width: (nn.MinibatchStdDev(group_size), width + 1)


def discriminator_options(option):
    """The ToyDiscriminator keyword arguments (``pack``, ``minibatch``) of an option name."""
    if option not in MINIBATCH_OPTIONS:
        raise ValueError(f"unknown minibatch option {option!r}; choose from "
                         f"{', '.join(MINIBATCH_OPTIONS)}")
    if option.startswith("pack"):
        return {"pack": int(option[len("pack"):])}
    hooks = {"none": None, "disc": minibatch_discrimination(), "stddev": minibatch_stddev()}
    return {"minibatch": hooks[option]}


def toy_discriminator(option="none", **kwargs):
    """A ToyDiscriminator for an option of MINIBATCH_OPTIONS (kwargs: hidden, depth, ...)."""
    return ToyDiscriminator(**kwargs, **discriminator_options(option))


def train_toy(option="none", data="25gaussians", steps=2000, batch_size=128, hidden=128,
              depth=3, lr=1e-3, betas=(0.5, 0.9), latent_dim=2, seed=0, n_eval=2500,
              min_count=20, ema_decay=None, device="cpu"):
    """Train the non-saturating toy GAN with one discriminator option; count its modes.

    A short, seeded run (Adam(lr, betas), one D step per G step, fresh data from
    ``minigen.data.toy_2d(data)`` every step), then ``n_eval`` samples of G scored with the
    PacGAN protocol (a mode is covered by >= ``min_count`` high-quality samples). Returns
    ``(stats, samples)``: stats holds modes_covered, num_modes, high_quality, reverse_kl.
    """
    mg.manual_seed(seed)
    toy = toy_2d(data)
    G = ToyGenerator(latent_dim=latent_dim, hidden=hidden, depth=depth).to(device)
    D = toy_discriminator(option, hidden=hidden, depth=depth).to(device)
    adam = lambda m: mg.optim.Adam(m.parameters(), lr=lr, betas=betas)
    trainer = GANTrainer(G, D, adam(G), adam(D), loss="nonsaturating", ema_decay=ema_decay)
    loader = DataLoader(toy.sample(steps * batch_size, seed=seed), batch_size, seed=seed,
                        drop_last=True, device=device)
    batches = loader.forever()
    for _ in range(steps):
        trainer.step(next(batches))
    samples = trainer.generate(n_eval).astype(np.float32)
    stats = toy.mode_stats(samples, min_count=min_count)
    keep = ("modes_covered", "num_modes", "high_quality", "reverse_kl")
    return {k: stats[k] for k in keep}, samples
