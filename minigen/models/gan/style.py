"""The StyleGAN generator (Karras et al. 2019), at 28x28: a mapping network, a learned
constant input, AdaIN styles, noise injection, style mixing and the truncation trick.

    z ~ N(0, I) --PixelNorm--> mapping f: [EqualizedLinear -> LReLU] x L --> w  (W space)
    synthesis: learned constant (c0, 7, 7)
        7x7:   + noise -> LReLU -> AdaIN(w_0) -> conv3 -> + noise -> LReLU -> AdaIN(w_1)
        14x14: upsample -> conv3 -> + noise -> LReLU -> AdaIN(w_2) -> conv3 -> ... AdaIN(w_3)
        28x28: upsample -> conv3 -> ...                       AdaIN(w_4) ... AdaIN(w_5)
        -> toRGB (1x1 conv)

* the **mapping network** (L = 4 layers here; 8 in the paper) trains with a 100x lower
  learning rate (``EqualizedLinear(lr_multiplier=0.01)``, as the paper); the lecture says it
  "disentangles the latent space and reduces correlations" -- ``demos/stylegan.py`` measures
  a linear probe of the image's class in z and in w;
* z never enters the synthesis network: it starts from a **learned constant**;
* **AdaIN** (``nn.AdaIN``): each of the 6 style layers normalises every feature map and
  gives it a scale and a bias computed from its own copy w_i of w;
* **noise injection** (``nn.NoiseInjection``): per-pixel N(0, 1) noise with a learned scale
  per channel, for the stochastic details;
* **style mixing**: w_i = f(z_1) for layers i < k, f(z_2) from layer k on (``mix``); in
  training a batch is mixed with probability ``mixing_prob`` (mixing regularisation);
* **truncation**: w' = w_avg + psi (w - w_avg), psi in [0, 1], w_avg a running mean of
  f(z) kept while training (``truncate``).

The discriminator is ProGAN's at full resolution (``progan.ProDiscriminator``); the loss
the paper's: non-saturating with R1 on real data (part 1's GANTrainer, ``r1_weight``).
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.functional as F
import minigen.nn as nn
from minigen import backend

from .progan import growth_resolutions

__all__ = ["MappingNetwork", "StyleGenerator", "check_psi"]


def check_psi(psi):
    """psi of the truncation trick, which must lie in [0, 1]."""
    if not 0.0 <= float(psi) <= 1.0:
        raise ValueError(f"truncation psi must be in [0, 1] (0: the average w, 1: no "
                         f"truncation), got {psi}")
    return float(psi)


class MappingNetwork(nn.Module):
    """z (N, latent_dim) -> w (N, w_dim): PixelNorm, then `layers` x [EqualizedLinear -> LReLU(0.2)],
    every layer with lr_multiplier (0.01: the paper's 100x lower learning rate)."""

    def __init__(self, latent_dim=32, w_dim=32, layers=4, lr_multiplier=0.01):
        super().__init__()
        if layers < 1:
            raise ValueError(f"the mapping network needs >= 1 layer, got {layers}")
        modules, width = [nn.PixelNorm()], latent_dim
        for _ in range(layers):
            modules += [nn.EqualizedLinear(width, w_dim, lr_multiplier=lr_multiplier),
                        nn.LeakyReLU(0.2)]
            width = w_dim
        self.net = nn.Sequential(*modules)

    def forward(self, z):
        return self.net(z)


class _StyleLayer(nn.Module):
    """[conv3] -> + noise -> LReLU -> AdaIN(w): one style input of the synthesis network."""

    def __init__(self, cin, cout, w_dim, conv=True):
        super().__init__()
        self.conv = nn.EqualizedConv2d(cin, cout, 3, padding=1) if conv else None
        self.noise = nn.NoiseInjection(cout)
        self.act = nn.LeakyReLU(0.2)
        self.adain = nn.AdaIN(cout, w_dim)

    def forward(self, x, w, noise=None):
        if self.conv is not None:
            x = self.conv(x)
        return self.adain(self.act(self.noise(x, noise)), w)


class StyleGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, 1, 28, 28) (no tanh: values near [-1, 1], clip to show).

    channels: feature maps at 7x7, 14x14, 28x28. Two style layers per resolution, so
    ``num_styles`` = 6 for 7 -> 28. See the module docstring.
    """

    def __init__(self, latent_dim=32, w_dim=32, channels=(64, 32, 16), mapping_layers=4,
                 mapping_lr_multiplier=0.01, start=7, final=28, mixing_prob=0.9,
                 w_avg_beta=0.995):
        super().__init__()
        self.resolutions = growth_resolutions(start, final)
        if len(channels) != len(self.resolutions):
            raise ValueError(f"give one channel count per resolution {self.resolutions}, "
                             f"got {list(channels)}")
        self.latent_dim, self.w_dim = int(latent_dim), int(w_dim)
        self.mixing_prob, self.w_avg_beta = float(mixing_prob), float(w_avg_beta)
        c = [int(ch) for ch in channels]
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_layers, mapping_lr_multiplier)
        self.constant = nn.Parameter(mg.ones(1, c[0], start, start).data)      # learned input
        layers = [_StyleLayer(c[0], c[0], w_dim, conv=False), _StyleLayer(c[0], c[0], w_dim)]
        for k in range(1, len(c)):
            layers += [_StyleLayer(c[k - 1], c[k], w_dim), _StyleLayer(c[k], c[k], w_dim)]
        self.layers = nn.ModuleList(layers)
        self.to_rgb = nn.EqualizedConv2d(c[-1], 1, 1, gain=1.0)
        self.register_buffer("w_avg", np.zeros(self.w_dim, dtype=np.float32))

    @property
    def num_styles(self):
        return len(self.layers)

    def _side_of(self, i):
        return self.resolutions[i // 2]

    def make_noise(self, n, device=None):
        """One fixed noise image per style layer, (n, 1, r, r): pass to synthesis to hold it still."""
        return [mg.randn(n, 1, self._side_of(i), self._side_of(i),
                         device=device or self.constant.device) for i in range(self.num_styles)]

    def synthesis(self, ws, noise=None):
        """Images from per-layer styles: `ws` one (N, w_dim) w for all layers, or a list of
        num_styles of them (style mixing). `noise`: a list from make_noise, or None (fresh)."""
        if not isinstance(ws, (list, tuple)):
            ws = [ws] * self.num_styles
        if len(ws) != self.num_styles:
            raise ValueError(f"synthesis needs {self.num_styles} styles, got {len(ws)}")
        n = ws[0].shape[0]
        x = self.constant * mg.ones(n, 1, 1, 1, dtype=self.constant.dtype,
                                    device=self.constant.device)   # the same start for all
        for i, (layer, w) in enumerate(zip(self.layers, ws)):
            if i and i % 2 == 0:
                x = F.interpolate(x, scale_factor=2)
            x = layer(x, w, None if noise is None else noise[i])
        return self.to_rgb(x)

    def truncate(self, w, psi):
        """w' = w_avg + psi (w - w_avg): psi = 1 leaves w, psi = 0 gives every sample w_avg."""
        psi = check_psi(psi)
        w_avg = mg.tensor(self.w_avg, device=w.device).astype(w.dtype)
        return w_avg + (w - w_avg) * psi

    def mixed_styles(self, w1, w2, crossover):
        """[w1] * crossover + [w2] * (num_styles - crossover): coarse styles from w1, fine from w2."""
        if not 0 <= int(crossover) <= self.num_styles:
            raise ValueError(f"crossover must be in [0, {self.num_styles}], got {crossover}")
        return [w1] * int(crossover) + [w2] * (self.num_styles - int(crossover))

    def mix(self, z1, z2, crossover, psi=1.0, noise=None):
        """Images whose layers < crossover take f(z1)'s style and the rest f(z2)'s."""
        w1, w2 = self.truncate(self.mapping(z1), psi), self.truncate(self.mapping(z2), psi)
        return self.synthesis(self.mixed_styles(w1, w2, crossover), noise)

    def forward(self, z, psi=1.0, noise=None):
        w = self.mapping(z)
        if self.training:
            self._track_w_avg(w)
            rng = backend.generator("cpu")          # a decision per batch, on the host
            if self.mixing_prob > 0 and rng.random() < self.mixing_prob:
                # mixing regularisation: a second latent takes over from a random layer on
                crossover = int(rng.integers(1, self.num_styles))
                w2 = self.mapping(mg.randn(*z.shape, dtype=z.dtype, device=z.device))
                return self.synthesis(self.mixed_styles(w, w2, crossover), noise)
        return self.synthesis(self.truncate(w, psi), noise)

    def _track_w_avg(self, w):
        xp = backend.get_array_module(w.data)
        mean = xp.asarray(w.data.mean(axis=0), dtype=self.w_avg.dtype)
        self.w_avg[...] = self.w_avg + (1.0 - self.w_avg_beta) * (mean - self.w_avg)
