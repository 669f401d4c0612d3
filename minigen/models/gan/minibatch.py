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
``pack4``   one input and gives one verdict for the m of them (``ToyDiscriminator(pack=m)``);
            with ``pack_after=k`` (``--pack-after k``) the m samples are joined after k
            shared per-sample layers instead of at the input -- on the 25-Gaussian grid
            a D packed at the input does not learn (see ``toy.py``)
==========  =======================================================================

    D = toy_discriminator("pack4", hidden=256)
    D = toy_discriminator("pack4", pack_after=2)       # pack after two shared layers
    D = ToyDiscriminator(minibatch=minibatch_discrimination(out_features=8, kernel_dims=4))
"""
from __future__ import annotations

import minigen.nn as nn

from .toy import ToyDiscriminator

__all__ = ["MINIBATCH_OPTIONS", "minibatch_discrimination", "minibatch_stddev",
           "toy_discriminator", "discriminator_options"]

MINIBATCH_OPTIONS = ("none", "disc", "stddev", "pack2", "pack4")


def minibatch_discrimination(out_features=8, kernel_dims=4):
    """ToyDiscriminator's ``minibatch`` hook: width -> (MinibatchDiscrimination, width + B)."""
    return lambda width: (nn.MinibatchDiscrimination(width, out_features, kernel_dims),
                          width + out_features)


def minibatch_stddev(group_size=4):
    """ToyDiscriminator's ``minibatch`` hook: width -> (MinibatchStdDev, width + 1)."""
    return lambda width: (nn.MinibatchStdDev(group_size), width + 1)


def discriminator_options(option, pack_after=0):
    """The ToyDiscriminator keyword arguments (``pack``, ``pack_after``, ``minibatch``) of an
    option name; ``pack_after`` (shared per-sample layers before packing) only for packing."""
    if option not in MINIBATCH_OPTIONS:
        raise ValueError(f"unknown minibatch option {option!r}; choose from "
                         f"{', '.join(MINIBATCH_OPTIONS)}")
    if option.startswith("pack"):
        return {"pack": int(option[len("pack"):]), "pack_after": pack_after}
    hooks = {"none": None, "disc": minibatch_discrimination(), "stddev": minibatch_stddev()}
    return {"minibatch": hooks[option]}


def toy_discriminator(option="none", pack_after=0, **kwargs):
    """A ToyDiscriminator for an option of MINIBATCH_OPTIONS (kwargs: hidden, depth, ...)."""
    return ToyDiscriminator(**kwargs, **discriminator_options(option, pack_after))
