"""Progressive growing of GANs (Karras et al. 2018): learn 7x7 images first, then add layers.

G and D start at the lowest resolution; each new resolution doubles the side (7 -> 14 ->
28 here) and is *faded in*: while alpha goes from 0 to 1,

    G(z) = (1 - alpha) * upsample(toRGB_old(h)) + alpha * toRGB_new(block(upsample(h)))
    D(x) = rest((1 - alpha) * fromRGB_old(avgpool(x)) + alpha * block(fromRGB_new(x)))

so at alpha = 0 the grown networks compute exactly what the smaller ones did (the real
images are blended the same way: ``real_at``), and at alpha = 1 the new block has taken
over. The paper's other ingredients, all used here:

* equalized learning rate: every layer an ``nn.EqualizedConv2d`` / ``nn.EqualizedLinear``
  (weights N(0, 1), He's constant applied at run time);
* pixel normalisation (``nn.PixelNorm``) after every convolution of G, and on z;
* a minibatch standard-deviation feature (``nn.MinibatchStdDev``) at D's last block;
* the WGAN-GP loss of part 1 (``losses.wgan_critic_loss`` + ``losses.gradient_penalty``)
  with the drift penalty  eps_drift * E[D(x)^2]  (eps_drift = 0.001) that keeps the
  critic's scores near zero; n_critic = 1, Adam(lr 1e-3, betas (0, 0.99)).

Images live in [-1, 1]; G has no tanh (as in the paper), its output is clipped for
pictures and metrics.

    G, D = ProGenerator(), ProDiscriminator()
    schedule = GrowthSchedule(G.resolutions, stable_steps=300, fade_steps=300)
    resolution, alpha = schedule.stage(step)
    G.set_stage(resolution, alpha); D.set_stage(resolution, alpha)
"""
from __future__ import annotations

import math

import minigen as mg
import minigen.functional as F
import minigen.nn as nn

from .losses import gradient_penalty, wgan_critic_loss
from .training import GANTrainer, frozen

__all__ = ["growth_resolutions", "ProGenerator", "ProDiscriminator", "GrowthSchedule",
           "ProGANTrainer", "real_at", "lerp"]


def growth_resolutions(start=7, final=28):
    """[start, 2 start, 4 start, ..., final]; final must be start times a power of two."""
    start, final = int(start), int(final)
    if start < 1 or final < start:
        raise ValueError(f"resolutions need 1 <= start <= final, got start {start}, final {final}")
    out = [start]
    while out[-1] < final:
        out.append(out[-1] * 2)
    if out[-1] != final:
        raise ValueError(f"resolution {final} is not reachable by doubling {start} "
                         f"(doubling gives {', '.join(map(str, out))}); use start * 2^k")
    return out


def lerp(a, b, alpha):
    """(1 - alpha) a + alpha b: the fade between the old path and the new block."""
    return a * (1.0 - alpha) + b * alpha


def _check_stage(resolutions, resolution, alpha, who):
    if resolution not in resolutions:
        raise ValueError(f"{who}: resolution {resolution} is not one of its resolutions "
                         f"{resolutions} (reachable by doubling {resolutions[0]})")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"{who}: the fade-in alpha must be in [0, 1], got {alpha}")
    if resolution == resolutions[0] and alpha != 1.0:
        raise ValueError(f"{who}: nothing fades in at the first resolution {resolution}; "
                         f"use alpha = 1")
    return resolutions.index(resolution), float(alpha)


def _conv3(cin, cout):
    return nn.EqualizedConv2d(cin, cout, 3, padding=1)


class _Grows(nn.Module):
    """What G and D share: their resolutions and the current stage (resolution, alpha)."""

    def __init__(self, channels, start, final):
        super().__init__()
        self.resolutions = growth_resolutions(start, final)
        if len(channels) != len(self.resolutions):
            raise ValueError(f"give one channel count per resolution {self.resolutions}, "
                             f"got {list(channels)}")
        self.channels = [int(c) for c in channels]
        self.level, self.alpha = len(self.resolutions) - 1, 1.0      # fully grown by default

    @property
    def resolution(self):
        return self.resolutions[self.level]

    def set_stage(self, resolution, alpha=1.0):
        """Train / sample at `resolution`, the newest block faded in by `alpha`."""
        self.level, self.alpha = _check_stage(self.resolutions, resolution, alpha,
                                              type(self).__name__)
        return self


class ProGenerator(_Grows):
    """z (N, latent_dim) -> images (N, 1, r, r) at the current stage's resolution r.

    start block: PixelNorm(z) -> EqualizedLinear -> (c0, 7, 7) -> LReLU -> PN -> conv3 -> LReLU -> PN
    each growth block: upsample x2 -> [conv3 -> LReLU -> PN] x 2;  toRGB: 1x1 conv, gain 1
    """

    def __init__(self, latent_dim=64, channels=(64, 32, 16), start=7, final=28):
        super().__init__(channels, start, final)
        self.latent_dim = int(latent_dim)
        c, s = self.channels, self.resolutions[0]
        act = lambda: nn.LeakyReLU(0.2)
        self.input_norm = nn.PixelNorm()
        # gain sqrt(2) / 4 for the first dense layer, as in the paper's code
        self.dense = nn.EqualizedLinear(self.latent_dim, c[0] * s * s, gain=math.sqrt(2) / 4)
        self.start = nn.Sequential(act(), nn.PixelNorm(), _conv3(c[0], c[0]), act(), nn.PixelNorm())
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Upsample(scale_factor=2), _conv3(c[k - 1], c[k]), act(), nn.PixelNorm(),
                          _conv3(c[k], c[k]), act(), nn.PixelNorm())
            for k in range(1, len(c))])
        self.to_rgb = nn.ModuleList([nn.EqualizedConv2d(ck, 1, 1, gain=1.0) for ck in c])

    def features(self, z, level):
        """The feature maps at resolution level `level` (and those one level below)."""
        s = self.resolutions[0]
        h = self.start(self.dense(self.input_norm(z)).reshape(len(z), self.channels[0], s, s))
        previous = None
        for k in range(level):
            previous, h = h, self.blocks[k](h)
        return h, previous

    def forward(self, z):
        h, previous = self.features(z, self.level)
        new = self.to_rgb[self.level](h)
        if self.level == 0 or self.alpha == 1.0:
            return new
        old = F.interpolate(self.to_rgb[self.level - 1](previous), scale_factor=2)
        return lerp(old, new, self.alpha)


class ProDiscriminator(_Grows):
    """images (N, 1, r, r) at the current resolution r -> critic scores (N, 1).

    fromRGB: 1x1 conv -> LReLU; each growth block: [conv3 -> LReLU] x 2 -> avgpool 2;
    last block (7x7): MinibatchStdDev(4) -> conv3 -> LReLU -> flatten -> dense -> LReLU -> dense(1).
    """

    def __init__(self, channels=(64, 32, 16), start=7, final=28, group_size=4):
        super().__init__(channels, start, final)
        c, s = self.channels, self.resolutions[0]
        act = lambda: nn.LeakyReLU(0.2)
        self.from_rgb = nn.ModuleList([nn.Sequential(nn.EqualizedConv2d(1, ck, 1), act())
                                       for ck in c])
        self.blocks = nn.ModuleList([
            nn.Sequential(_conv3(c[k], c[k]), act(), _conv3(c[k], c[k - 1]), act(), nn.AvgPool2d(2))
            for k in range(1, len(c))])
        self.head = nn.Sequential(
            nn.MinibatchStdDev(group_size), _conv3(c[0] + 1, c[0]), act(), nn.Flatten(),
            nn.EqualizedLinear(c[0] * s * s, c[0]), act(), nn.EqualizedLinear(c[0], 1, gain=1.0))

    def forward(self, x):
        r = self.resolution
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, r, r):
            raise ValueError(f"ProDiscriminator at resolution {r} expects (N, 1, {r}, {r}) images, "
                             f"got shape {tuple(x.shape)} (call set_stage, or real_at for real images)")
        h = self.from_rgb[self.level](x)
        if self.level > 0:
            h = self.blocks[self.level - 1](h)
            if self.alpha < 1.0:
                h = lerp(self.from_rgb[self.level - 1](F.avg_pool2d(x, 2)), h, self.alpha)
        for k in range(self.level - 1, 0, -1):
            h = self.blocks[k - 1](h)
        return self.head(h)


def real_at(x, resolution, alpha=1.0):
    """Real images (N, 1, R, R) shown at `resolution` r (average pooling by R / r); during a
    fade (alpha < 1) blended with their half-resolution version, as G's output is:
    (1 - alpha) upsample(avgpool(x_r, 2)) + alpha x_r."""
    side = x.shape[-1]
    if side % resolution:
        raise ValueError(f"real_at: images of side {side} cannot be pooled to {resolution}")
    x_r = F.avg_pool2d(x, side // resolution) if side != resolution else x
    if alpha < 1.0:
        x_r = lerp(F.interpolate(F.avg_pool2d(x_r, 2), scale_factor=2), x_r, alpha)
    return x_r


class GrowthSchedule:
    """Which (resolution, alpha) to train at, step by step (1-based steps):
    `stable_steps` at the first resolution, then per new resolution `fade_steps` with alpha
    rising linearly from 0 to 1 and `stable_steps` at alpha = 1."""

    def __init__(self, resolutions, stable_steps, fade_steps):
        if stable_steps < 1 or fade_steps < 1:
            raise ValueError(f"stable_steps and fade_steps must be >= 1, got {stable_steps}, "
                             f"{fade_steps}")
        self.resolutions = list(resolutions)
        self.stable_steps, self.fade_steps = int(stable_steps), int(fade_steps)
        self.phases = [(f"{self.resolutions[0]}x{self.resolutions[0]}", self.resolutions[0],
                        self.stable_steps, False)]
        for r in self.resolutions[1:]:
            self.phases.append((f"fade to {r}x{r}", r, self.fade_steps, True))
            self.phases.append((f"{r}x{r}", r, self.stable_steps, False))
        self.total_steps = sum(p[2] for p in self.phases)

    def stage(self, step):
        """(phase name, resolution, alpha) of a 1-based step."""
        t = int(step) - 1
        for name, r, length, fading in self.phases:
            if t < length:
                return name, r, ((t + 1) / length if fading else 1.0)
            t -= length
        name, r, _, _ = self.phases[-1]
        return name, r, 1.0


class ProGANTrainer(GANTrainer):
    """Part 1's GANTrainer with the WGAN-GP critic step plus ProGAN's drift penalty:

        L_D = E D(G(z)) - E D(x) + lambda E (||grad D(x^)|| - 1)^2 + eps_drift E D(x)^2
    """

    def __init__(self, G, D, opt_g, opt_d, *, gp_weight=10.0, drift_weight=1e-3, ema_decay=None):
        super().__init__(G, D, opt_g, opt_d, loss="wgan-gp", n_critic=1, gp_weight=gp_weight,
                         ema_decay=ema_decay)
        self.drift_weight = float(drift_weight)

    def set_stage(self, resolution, alpha):
        self.G.set_stage(resolution, alpha)
        self.D.set_stage(resolution, alpha)

    def d_step(self, real):
        with frozen(self.G), mg.no_grad():
            fake = self.G(self.sample_latent(len(real), real.device))
        real_out, fake_out = self.D(real), self.D(fake)
        critic = wgan_critic_loss(real_out, fake_out)
        gp = gradient_penalty(self.D, real, fake, weight=self.gp_weight)
        drift = self.drift_weight * (real_out * real_out).mean()
        loss = critic + gp + drift
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        return {"wasserstein": -critic.item(), "gp": gp.item(), "drift": drift.item(),
                "d_loss": loss.item()}
