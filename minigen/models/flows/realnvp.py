"""RealNVP (Dinh et al. 2017) and its Glow options, assembled from the layers of this package.

2-D toys (:func:`realnvp_2d`), K blocks of

    [ActNorm] -> [invertible 1x1 conv = a learned 2x2 mixing] -> affine coupling
                                                                 (alternating masks)

Images (:func:`realnvp_image`), for (1, H, W) dequantised pixels y in [0, 1]:

    logit transform (its Jacobian counted)
    -> checkerboard couplings (parity alternating), each followed by ActNorm
    -> squeeze to (4, H/2, W/2)
    -> [ActNorm -> 1x1 conv] -> channel couplings (parity alternating)

There is no multi-scale factoring-out of half the variables (RealNVP's section 3.6):
every variable goes through every layer, which is simpler and enough at 28 x 28.
"""
from __future__ import annotations

from .actnorm import ActNorm
from .base import NormalizingFlow
from .coupling import (AffineCoupling, alternating_mask, channel_mask, checkerboard_mask,
                       conv_net, mlp_net)
from .invconv import InvConv1x1
from .layers import LogitTransform, Squeeze

__all__ = ["realnvp_2d", "realnvp_image"]


def realnvp_2d(num_couplings=8, hidden=64, actnorm=True, invconv=False, scale="tanh",
               zero_init=True):
    """A RealNVP for 2-D points: ``num_couplings`` affine couplings with MLP nets."""
    layers = []
    for k in range(num_couplings):
        if actnorm:
            layers.append(ActNorm(2))
        if invconv:
            layers.append(InvConv1x1(2))
        layers.append(AffineCoupling(alternating_mask(2, k % 2), mlp_net(2, hidden), scale=scale,
                                     zero_init=zero_init))
    return NormalizingFlow(layers, (2,))


def realnvp_image(image_size=28, hidden=64, num_checkerboard=4, num_channel=4, actnorm=True,
                  invconv=True, scale="tanh", alpha=0.05, zero_init=True):
    """A RealNVP for (1, image_size, image_size) images in [0, 1] (see the module docstring)."""
    shape = (1, image_size, image_size)
    layers = [LogitTransform(alpha)]
    for k in range(num_checkerboard):
        layers.append(AffineCoupling(checkerboard_mask(shape, k % 2), conv_net(1, hidden),
                                     scale=scale, zero_init=zero_init))
        if actnorm:
            layers.append(ActNorm(1))
    layers.append(Squeeze())
    squeezed = (4, image_size // 2, image_size // 2)
    for k in range(num_channel):
        if actnorm:
            layers.append(ActNorm(4))
        if invconv:
            layers.append(InvConv1x1(4))
        layers.append(AffineCoupling(channel_mask(squeezed, k % 2), conv_net(4, hidden),
                                     scale=scale, zero_init=zero_init))
    return NormalizingFlow(layers, shape, z_shape=squeezed)
