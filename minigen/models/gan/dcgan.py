"""DCGAN (Radford et al. 2016) for 28x28 grey images, following the lecture's five rules:

1. no pooling: strided convolutions in D, strided transposed convolutions in G;
2. batch norm in both players (not on G's output nor on D's input);
3. no fully connected hidden layers (z enters as a 1x1 map, D ends in a 7x7 convolution);
4. ReLU in G, tanh at its output (images in [-1, 1]);
5. LeakyReLU(0.2) in D.

    G  z (N, nz) -> (nz,1,1) -convT 7x7-> (2c,7,7) -convT 4x4/2-> (c,14,14)
                 -convT 4x4/2-> (1,28,28) -> tanh
    D  x (N,1,28,28) -conv 4x4/2-> (c,14,14) -conv 4x4/2-> (2c,7,7) -conv 7x7-> (N, 1) logits

The critic of WGAN-GP must treat each sample on its own (the penalty is a per-sample
gradient), so ``dcgan_discriminator(norm="layer")`` uses layer norm over (C, H, W)
instead of batch norm, and ``norm="none"`` none at all.  Weights start from N(0, 0.02)
(batch-norm scales from N(1, 0.02)), as in the paper: :func:`dcgan_init_`.
"""
from __future__ import annotations

import minigen.nn

__all__ = ["dcgan_generator", "dcgan_discriminator", "dcgan_init_", "NORMS"]

NORMS = ("batch", "layer", "none")


def _norm(nn, kind, channels, hw):
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.LayerNorm((channels, hw, hw))
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose from {', '.join(NORMS)}")


def dcgan_generator(latent_dim=100, channels=64, out_channels=1, norm="batch", nn=None):
    """z (N, latent_dim) -> images (N, out_channels, 28, 28) in [-1, 1].

    ``nn``: the layer namespace (default minigen.nn; the benchmarks pass torch.nn to build
    the same network in PyTorch)."""
    nn = nn or minigen.nn
    c = channels
    G = nn.Sequential(
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, 2 * c, 7, 1, 0, bias=False), _norm(nn, norm, 2 * c, 7), nn.ReLU(),
        nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), _norm(nn, norm, c, 14), nn.ReLU(),
        nn.ConvTranspose2d(c, out_channels, 4, 2, 1), nn.Tanh())
    G.latent_dim = int(latent_dim)
    return G


def dcgan_discriminator(channels=64, in_channels=1, norm="batch", nn=None, minibatch_stddev=False):
    """images (N, in_channels, 28, 28) -> logits / critic scores (N, 1).

    ``minibatch_stddev``: before the last convolution, ProGAN's ``nn.MinibatchStdDev(4)``
    appends one feature map, the features' average spread over groups of 4 images -- so
    D can see a batch that lacks variety (GANs part 2; the batch must be a multiple of 4)."""
    nn = nn or minigen.nn
    c = channels
    spread = [nn.MinibatchStdDev(4)] if minibatch_stddev else []
    return nn.Sequential(
        nn.Conv2d(in_channels, c, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(c, 2 * c, 4, 2, 1, bias=norm == "none"), _norm(nn, norm, 2 * c, 7), nn.LeakyReLU(0.2),
        *spread, nn.Conv2d(2 * c + len(spread), 1, 7, 1, 0), nn.Flatten())


def dcgan_init_(module, std=0.02):
    """The paper's initialisation: conv weights ~ N(0, std), norm scales ~ N(1, std),
    biases 0.  Returns the module."""
    nn = minigen.nn
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)) and getattr(m, "weight", None) is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module
