"""A small U-Net ε_θ(x_t, t) for 28×28 grey images (Ho et al. 2020, scaled down).

    28×28×C ──res──res──┐                                   ┌──res──res── 28×28×C ─ conv ─> ε
       │ down (stride-2 conv)                               │ up (nearest ×2 + conv)
    14×14×2C ─res──res──┐                           ┌──res──res── 14×14×2C
       │ down                                       │ up
     7×7×2C ──res──[attn]──res── (middle) ──────────┘
                                                    skips: concatenated on the way up

Residual block (the DDPM block, with emb(t) added in every one):

    h = Conv3×3(SiLU(GroupNorm(x)))
    h = h + Linear(SiLU(temb))[:, :, None, None]              (time, per channel)
    h = Conv3×3(SiLU(GroupNorm(h)))
    out = h + (x, or a 1×1 conv of x when the channel count changes)

Self-attention at 7×7 (optional): q, k, v = 1×1 convs of GroupNorm(h);
A = softmax(qᵀk / √C) over the 49 positions; out = h + Conv1×1(v Aᵀ).

Everything is built from engine modules and ops (Conv2d, GroupNorm, SiLU, Linear,
matmul, softmax, upsample, concatenate), so backward() gives every gradient.
"""
from __future__ import annotations

import math

import minigen as mg
import minigen.functional as F
import minigen.nn as nn

from .nets import timestep_embedding

__all__ = ["UNet", "ResBlock", "SelfAttention2d"]


def _groups(channels, wanted=8):
    """The largest divisor of ``channels`` not above ``wanted`` (GroupNorm needs one)."""
    return max(g for g in range(1, wanted + 1) if channels % g == 0)


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out, time_dim, groups=8):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(c_in, groups), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(time_dim, c_out)
        self.norm2 = nn.GroupNorm(_groups(c_out, groups), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        t = self.time(F.silu(temb))
        h = h + t.reshape(t.shape[0], t.shape[1], 1, 1)           # emb(t) added per channel
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class SelfAttention2d(nn.Module):
    def __init__(self, channels, groups=8):
        super().__init__()
        self.norm = nn.GroupNorm(_groups(channels, groups), channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        b, c, hgt, wid = x.shape
        q, k, v = mg.split(self.qkv(self.norm(x)).reshape(b, 3 * c, hgt * wid), c, dim=1)    # pieces of C
        scores = (q.transpose(0, 2, 1) @ k) * (1.0 / math.sqrt(c))    # (B, HW, HW): q_iᵀ k_j / √C
        attn = F.softmax(scores, dim=-1)
        out = (v @ attn.transpose(0, 2, 1)).reshape(b, c, hgt, wid)   # Σ_j A_ij v_j
        return x + self.proj(out)


class UNet(nn.Module):
    """ε_θ for (B, 1, 28, 28) images; ``channels`` C, widths (C, 2C, 2C) at 28, 14, 7."""

    def __init__(self, in_channels=1, channels=32, mults=(1, 2, 2), blocks=1, attention=True,
                 time_dim=None, groups=8):
        super().__init__()
        self.in_channels = in_channels
        widths = [channels * m for m in mults]
        self.time_dim = time_dim or 4 * channels
        self.sin_dim = channels
        self.time = nn.Sequential(nn.Linear(channels, self.time_dim), nn.SiLU(),
                                  nn.Linear(self.time_dim, self.time_dim))
        self.inp = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
        skips, c = [widths[0]], widths[0]
        for level, w in enumerate(widths):
            for _ in range(blocks):
                self.down.append(ResBlock(c, w, self.time_dim, groups))
                c = w
                skips.append(c)
            if level < len(widths) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))   # 28 -> 14 -> 7
                skips.append(c)
        self.mid1 = ResBlock(c, c, self.time_dim, groups)
        self.attn = SelfAttention2d(c, groups) if attention else nn.Identity()
        self.mid2 = ResBlock(c, c, self.time_dim, groups)
        self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
        for level, w in reversed(list(enumerate(widths))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(c + skips.pop(), w, self.time_dim, groups))
                c = w
            if level > 0:
                self.upsample.append(nn.Conv2d(c, c, 3, padding=1))
        self.out_norm = nn.GroupNorm(_groups(c, groups), c)
        self.out = nn.Conv2d(c, in_channels, 3, padding=1)
        self.blocks, self.levels = blocks, len(widths)

    def forward(self, x, t):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"UNet: expected images (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        k = 2 ** (self.levels - 1)
        if x.shape[2] % k or x.shape[3] % k:
            raise ValueError(f"UNet: height and width must be multiples of {k} ({self.levels - 1} halvings), "
                             f"got {tuple(x.shape[2:])}")
        temb = self.time(timestep_embedding(t, self.sin_dim, like=x))
        h = self.inp(x)
        hs = [h]
        blocks = iter(self.down)
        for level in range(self.levels):
            for _ in range(self.blocks):
                h = next(blocks)(h, temb)
                hs.append(h)
            if level < self.levels - 1:
                h = self.downsample[level](h)
                hs.append(h)
        h = self.mid2(self.attn(self.mid1(h, temb)), temb)
        blocks = iter(self.up)
        for i, level in enumerate(reversed(range(self.levels))):
            for _ in range(self.blocks + 1):
                h = next(blocks)(mg.concatenate([h, hs.pop()], axis=1), temb)   # skip connection
            if level > 0:
                h = self.upsample[i](F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.out(F.silu(self.out_norm(h)))
