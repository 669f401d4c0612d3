"""The MLP players of the 2-D toys (the WGAN-GP toy code's shape, ReLU MLPs).

    G:  z (N, latent_dim) -> [Linear -> ReLU] x depth -> Linear -> x (N, 2)
    D:  x (N, 2) -> [pack] -> [Linear -> act] x depth -> [minibatch layer] -> Linear -> (N', 1)

D returns logits (or critic scores for the WGANs): no sigmoid, the losses take logits.

Two hooks let a discriminator look at *several* samples at once (GANs part 2):

* ``pack=m`` (PacGAN, Lin et al. 2018): m samples are concatenated into one input of
  2m numbers, so D judges m samples jointly and N' = N / m (N must be a multiple of m);
* ``minibatch=factory``: ``factory(width) -> (layer, new_width)``; the layer is put after
  the last hidden layer and maps the batch's features (N', width) -> (N', new_width),
  e.g. minibatch discrimination or a minibatch-stddev feature.
"""
from __future__ import annotations

import minigen.nn as nn

__all__ = ["ToyGenerator", "ToyDiscriminator", "mlp"]


def mlp(in_dim, hidden, depth, activation):
    """[Linear(in, hidden) -> activation] x depth, as one Sequential; returns (net, width)."""
    layers, width = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), activation()]
        width = hidden
    return nn.Sequential(*layers), width


class ToyGenerator(nn.Module):
    """z ~ N(0, I) in ``latent_dim`` dimensions -> a point of the plane."""

    def __init__(self, latent_dim=2, hidden=256, depth=3, out_dim=2):
        super().__init__()
        self.latent_dim, self.out_dim = int(latent_dim), int(out_dim)
        self.body, width = mlp(self.latent_dim, hidden, depth, nn.ReLU)
        self.head = nn.Linear(width, self.out_dim)

    def forward(self, z):
        return self.head(self.body(z))


class ToyDiscriminator(nn.Module):
    """x (N, 2) -> logits (N / pack, 1).  ``activation``: ReLU (the WGAN-GP toy code) or
    LeakyReLU(0.2); ``pack`` and ``minibatch``: see the module docstring."""

    def __init__(self, in_dim=2, hidden=256, depth=3, activation="relu", pack=1, minibatch=None):
        super().__init__()
        if pack < 1:
            raise ValueError(f"ToyDiscriminator: pack must be >= 1, got {pack}")
        acts = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2)}
        if activation not in acts:
            raise ValueError(f"ToyDiscriminator: activation must be one of {sorted(acts)}, "
                             f"got {activation!r}")
        self.in_dim, self.pack = int(in_dim), int(pack)
        self.body, width = mlp(self.in_dim * self.pack, hidden, depth, acts[activation])
        if minibatch is not None:
            self.minibatch, width = minibatch(width)
        else:
            self.minibatch = None
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        if self.pack > 1:
            if len(x) % self.pack:
                raise ValueError(f"ToyDiscriminator: a batch of {len(x)} samples cannot be "
                                 f"packed in groups of {self.pack}")
            x = x.reshape(len(x) // self.pack, self.in_dim * self.pack)
        h = self.body(x)
        if self.minibatch is not None:
            h = self.minibatch(h)
        return self.head(h)
