"""The MLP players of the 2-D toys (the WGAN-GP toy code's shape, ReLU MLPs).

    G:  z (N, latent_dim) -> [Linear -> ReLU] x depth -> Linear -> x (N, 2)
    D:  x (N, 2) -> [Linear -> act] x pack_after -> [pack] -> [Linear -> act] x (depth - pack_after)
                 -> [minibatch layer] -> Linear -> (N', 1)

D returns logits (or critic scores for the WGANs): no sigmoid, the losses take logits.

Two hooks let a discriminator look at *several* samples at once (GANs part 2):

* ``pack=m`` (PacGAN, Lin et al. 2018): m samples are concatenated into one input of
  2m numbers, so D judges m samples jointly and N' = N / m (N must be a multiple of m).
  ``pack_after=k`` packs after D's first k hidden layers instead of at the input: the
  same k layers describe each sample, then the m descriptions are concatenated.  Why:
  on the 25-Gaussian grid (σ = 0.05) a 3 x 128 D packed by 4 at the input still sits at
  chance after 2,000 Adam steps of telling real samples from real + N(0, 0.3²) noise
  (loss 1.384; 2 log 2 = 1.386), unpacked it reaches 0.72, packed after two shared
  layers 1.02 (README, "Beyond DCGAN");
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
    LeakyReLU(0.2); ``pack``, ``pack_after`` and ``minibatch``: see the module docstring."""

    def __init__(self, in_dim=2, hidden=256, depth=3, activation="relu", pack=1, minibatch=None,
                 pack_after=0):
        super().__init__()
        if pack < 1:
            raise ValueError(f"ToyDiscriminator: pack must be >= 1, got {pack}")
        if not 0 <= pack_after <= depth:
            raise ValueError(f"ToyDiscriminator: pack_after must be in [0, depth = {depth}], "
                             f"got {pack_after}")
        acts = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2)}
        if activation not in acts:
            raise ValueError(f"ToyDiscriminator: activation must be one of {sorted(acts)}, "
                             f"got {activation!r}")
        self.in_dim, self.pack, self.pack_after = int(in_dim), int(pack), int(pack_after)
        self.per_sample, width = mlp(self.in_dim, hidden, self.pack_after, acts[activation])
        self.body, width = mlp(width * self.pack, hidden, depth - self.pack_after, acts[activation])
        if minibatch is not None:
            self.minibatch, width = minibatch(width)
        else:
            self.minibatch = None
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        if len(x) % self.pack:
            raise ValueError(f"ToyDiscriminator: a batch of {len(x)} samples cannot be "
                             f"packed in groups of {self.pack}")
        h = self.per_sample(x)
        if self.pack > 1:
            h = h.reshape(len(x) // self.pack, h.shape[1] * self.pack)
        h = self.body(h)
        if self.minibatch is not None:
            h = self.minibatch(h)
        return self.head(h)
