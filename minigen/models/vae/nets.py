"""Encoder and decoder networks: plain minigen modules, nothing VAE-specific inside.

    MLP  (Kingma & Welling's 784-400-latent shape)
        encoder  x (N, 784) -> Linear 784-400 -> ReLU -> Linear 400-out
        decoder  z (N, d)   -> Linear d-400   -> ReLU -> Linear 400-784

    conv (DCGAN-style: strided convolutions instead of pooling, batch norm,
          LeakyReLU in the encoder, ReLU in the decoder)
        encoder  (N,1,28,28) -conv 4x4/2-> (N,c,14,14) -conv 4x4/2-> (N,2c,7,7) -> Linear -> out
        decoder  z -> Linear -> (N,2c,7,7) -convT 4x4/2-> (N,c,14,14) -convT 4x4/2-> (N,1,28,28)

A VAE encoder has ``out = 2 * latent_dim`` outputs (mean and log-variance side by side);
an autoencoder's has ``out = latent_dim``.  The decoder's outputs are the *parameters*
of p(x | z) (logits or means), never squashed here: the likelihood decides.
"""
from __future__ import annotations

import minigen.nn as nn

__all__ = ["mlp_encoder", "mlp_decoder", "conv_encoder", "conv_decoder"]


def mlp_encoder(in_dim=784, hidden=400, out_dim=40, activation=nn.ReLU, depth=1):
    """x (N, in_dim) -> (N, out_dim) through ``depth`` hidden layers of ``hidden`` units."""
    layers, width = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), activation()]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def mlp_decoder(latent_dim=20, hidden=400, out_dim=784, activation=nn.ReLU, depth=1):
    """z (N, latent_dim) -> (N, out_dim) parameters of p(x | z)."""
    return mlp_encoder(latent_dim, hidden, out_dim, activation, depth)


def conv_encoder(out_dim=40, channels=32, in_channels=1, batch_norm=True):
    """(N, 1, 28, 28) -> (N, out_dim): two stride-2 convolutions halve 28 -> 14 -> 7."""
    c = channels
    return nn.Sequential(
        nn.Conv2d(in_channels, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(c, 2 * c, 4, stride=2, padding=1),
        nn.BatchNorm2d(2 * c) if batch_norm else nn.Identity(), nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(2 * c * 7 * 7, out_dim),
    )


def conv_decoder(latent_dim=20, channels=32, out_channels=1, batch_norm=True):
    """(N, latent_dim) -> (N, 1, 28, 28): a linear layer to 7x7 maps, two stride-2
    transposed convolutions double 7 -> 14 -> 28 (the encoder run backwards)."""
    c = channels
    return nn.Sequential(
        nn.Linear(latent_dim, 2 * c * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (2 * c, 7, 7)),
        nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1),
        nn.BatchNorm2d(c) if batch_norm else nn.Identity(), nn.ReLU(),
        nn.ConvTranspose2d(c, out_channels, 4, stride=2, padding=1),
    )
