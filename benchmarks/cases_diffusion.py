"""Benchmark cases for minigen.models.diffusion: the U-Net against the same U-Net in PyTorch.

Used by benchmarks/run.py (``--only unet``).  The PyTorch twin below mirrors
minigen.models.diffusion.unet.UNet module for module, with the same parameter names,
and is loaded with minigen's weights; both get the same images, steps and noise.

    U-Net C=16 (16, 32, 32), 1 block/level, attention at 7x7, batch 64, 28x28:
      train step  = L_simple forward + backward + clip_grad_norm_(1) + Adam
      sample step = one DDPM ancestral step x_t -> x_{t-1} under no_grad
"""
import math

import numpy as np

CHANNELS, BATCH = 16, 64


def _torch_unet(torch, channels=CHANNELS, mults=(1, 2, 2), blocks=1, attention=True, groups=8):
    nn, F = torch.nn, torch.nn.functional

    def n_groups(c):
        return max(g for g in range(1, groups + 1) if c % g == 0)

    def embedding(t, dim):
        half = dim // 2
        omega = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
        angles = t.double()[:, None] * omega[None]
        return torch.stack([angles.sin(), angles.cos()], dim=2).reshape(len(t), dim).float()

    class ResBlock(nn.Module):
        def __init__(self, c_in, c_out, time_dim):
            super().__init__()
            self.norm1, self.conv1 = nn.GroupNorm(n_groups(c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
            self.time = nn.Linear(time_dim, c_out)
            self.norm2, self.conv2 = nn.GroupNorm(n_groups(c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
            self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

        def forward(self, x, temb):
            h = self.conv1(F.silu(self.norm1(x))) + self.time(F.silu(temb))[:, :, None, None]
            return self.conv2(F.silu(self.norm2(h))) + self.skip(x)

    class Attention(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.norm, self.qkv, self.proj = nn.GroupNorm(n_groups(c), c), nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1)

        def forward(self, x):
            b, c, h, w = x.shape
            q, k, v = self.qkv(self.norm(x)).reshape(b, 3 * c, h * w).split(c, dim=1)
            attn = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), dim=-1)
            return x + self.proj((v @ attn.transpose(1, 2)).reshape(b, c, h, w))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [channels * m for m in mults]
            self.time_dim, self.sin_dim = 4 * channels, channels
            self.time = nn.Sequential(nn.Linear(channels, self.time_dim), nn.SiLU(),
                                      nn.Linear(self.time_dim, self.time_dim))
            self.inp = nn.Conv2d(1, widths[0], 3, padding=1)
            self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
            skips, c = [widths[0]], widths[0]
            for level, w in enumerate(widths):
                for _ in range(blocks):
                    self.down.append(ResBlock(c, w, self.time_dim))
                    c = w
                    skips.append(c)
                if level < len(widths) - 1:
                    self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                    skips.append(c)
            self.mid1 = ResBlock(c, c, self.time_dim)
            self.attn = Attention(c) if attention else nn.Identity()
            self.mid2 = ResBlock(c, c, self.time_dim)
            self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
            for level, w in reversed(list(enumerate(widths))):
                for _ in range(blocks + 1):
                    self.up.append(ResBlock(c + skips.pop(), w, self.time_dim))
                    c = w
                if level > 0:
                    self.upsample.append(nn.Conv2d(c, c, 3, padding=1))
            self.out_norm, self.out = nn.GroupNorm(n_groups(c), c), nn.Conv2d(c, 1, 3, padding=1)
            self.levels = len(widths)

        def forward(self, x, t):
            temb = self.time(embedding(t, self.sin_dim))
            h = self.inp(x)
            hs, down = [h], iter(self.down)
            for level in range(self.levels):
                for _ in range(blocks):
                    h = next(down)(h, temb)
                    hs.append(h)
                if level < self.levels - 1:
                    h = self.downsample[level](h)
                    hs.append(h)
            h = self.mid2(self.attn(self.mid1(h, temb)), temb)
            up = iter(self.up)
            for i, level in enumerate(reversed(range(self.levels))):
                for _ in range(blocks + 1):
                    h = next(up)(torch.cat([h, hs.pop()], dim=1), temb)
                if level > 0:
                    h = self.upsample[i](F.interpolate(h, scale_factor=2, mode="nearest"))
            return self.out(F.silu(self.out_norm(h)))

    return UNet()


def _pair(L):
    from minigen.models.diffusion import make_schedule
    from minigen.models.diffusion.unet import UNet
    L.mg.manual_seed(0)
    ours = UNet(channels=CHANNELS, attention=True)
    theirs = _torch_unet(L.torch)
    theirs.load_state_dict({k: L.torch.tensor(np.array(v)) for k, v in ours.state_dict().items()})
    return ours, theirs, make_schedule("cosine", 1000)


def unet_train_case(L):
    """L_simple on fixed (x_0, t, ε): forward, backward, clip_grad_norm_(1), Adam step."""
    from minigen.models.diffusion import ddpm_loss
    ours, theirs, schedule = _pair(L)
    x0_m, x0_t = L.pair(np.tanh(L.randn(BATCH, 1, 28, 28)))
    eps_m, eps_t = L.pair(L.randn(BATCH, 1, 28, 28))
    t = L.rng.integers(0, schedule.T, BATCH)
    t_t = L.torch.tensor(t)
    a = L.torch.tensor(schedule.sqrt_alpha_bars[t], dtype=L.torch.float32)[:, None, None, None]
    s = L.torch.tensor(schedule.sqrt_one_minus_alpha_bars[t], dtype=L.torch.float32)[:, None, None, None]
    opt_m = L.moptim.Adam(ours.parameters(), lr=1e-3)
    opt_t = L.torch.optim.Adam(theirs.parameters(), lr=1e-3)

    def run_m():
        opt_m.zero_grad()
        ddpm_loss(ours, schedule, x0_m, t=t, eps=eps_m).backward()
        L.moptim.clip_grad_norm_(ours.parameters(), 1.0)
        opt_m.step()

    def run_t():
        opt_t.zero_grad()
        residual = eps_t - theirs(a * x0_t + s * eps_t, t_t)
        (residual * residual).mean().backward()
        L.torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        opt_t.step()
    return run_m, run_t, None


def unet_sample_case(L, step=500):
    """One ancestral step x_t -> x_{t-1} = μ_θ(x_t, t) + σ_t z under no_grad."""
    from minigen.models.diffusion import ddpm_step
    ours, theirs, schedule = _pair(L)
    x_m, x_t = L.pair(L.randn(BATCH, 1, 28, 28))
    z_m, z_t = L.pair(L.randn(BATCH, 1, 28, 28))
    steps = L.torch.full((BATCH,), step)
    beta, alpha = float(schedule.betas[step]), float(schedule.alphas[step])
    coef = beta / float(schedule.sqrt_one_minus_alpha_bars[step])

    def run_m():
        with L.mg.no_grad():
            ddpm_step(ours, schedule, x_m, step, noise=z_m)

    def run_t():
        with L.torch.no_grad():
            (x_t - coef * theirs(x_t, steps)) / math.sqrt(alpha) + math.sqrt(beta) * z_t
    return run_m, run_t, None


def diffusion_cases(L):
    """Rows for benchmarks/run.py's table (no goal: measured, reported in the README)."""
    return [
        ("U-Net C16 28x28 b64 train step", "unet", None, lambda: unet_train_case(L)),
        ("U-Net C16 28x28 b64 sampling step", "unet", None, lambda: unet_sample_case(L)),
    ]
