"""The VAE and the importance-weighted bound, in the order of the lecture, then the
deterministic autoencoder it is compared with.

Variational autoencoder (Kingma & Welling 2014)
    1. prior            p(z)     = N(0, I)
    2. encoder          q(z | x) = N(mu(x), diag exp(logvar(x)))
    3. reparameterisation   z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I): z is an op
                        of mu and logvar, so backward reaches the encoder
    4. decoder          p(x | z) = Bernoulli(sigmoid(dec(z)))  or  N(dec(z), sigma^2)
    5. ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))  <=  log p(x)
               = -(reconstruction + KL)
       reconstruction = -log p(x | z) with ONE sample z (step 3)
       KL             = sum_j 0.5 (exp(logvar_j) + mu_j^2 - 1 - logvar_j)   (analytic)
       Both are in nats per image (sums over pixels / latent dims, means over the batch).
       The beta-VAE loss is reconstruction + beta * KL (beta = 1: the ELBO itself).
    6. Importance weighting (Burda, Grosse & Salakhutdinov 2016)
       log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x),   z_k ~ q(z | x),  k = 1..K
       L_K(x)  = log (1/K) sum_k w_k = logsumexp_k(log w_k) - log K
       L_1 = ELBO (with a sampled KL), L_K grows with K and tends to log p(x).
       As a training objective (IWAE) it is differentiated like any other graph; as an
       evaluation (K = 1000 or 5000, :mod:`.evaluation`) it is the standard estimate of
       log p(x).

Deterministic autoencoder (L6.2: "data -> encoder -> latent space")
    z = enc(x),   x_hat = dec(z),   loss = -log p(x | z)   (nats per image)
    Nothing shapes where the codes go, so a random z ~ N(0, I) usually decodes to
    garbage: good for inference, bad for generation.

Every loss is built from engine ops and differentiated by ``backward()``; no gradient
below is written by hand.  Measuring a trained model on many images (NumPy out, no
graph) is in :mod:`.evaluation`.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import numpy as np

import minigen as mg
import minigen.functional as F
import minigen.nn as nn

from . import evaluation
from .evaluation import evaluating
from .likelihoods import make_likelihood
from .nets import conv_decoder, conv_encoder, mlp_decoder, mlp_encoder

__all__ = ["log_standard_normal", "log_normal", "reparameterize", "ELBO", "VAE", "Autoencoder",
           "evaluating"]

LOG_2PI = math.log(2 * math.pi)


# ------------------------------------------------------------------ 1. the prior p(z)
def log_standard_normal(z):
    """log N(z; 0, I) summed over the last axis:  sum_j -0.5 (z_j^2 + log 2 pi)."""
    return (-0.5 * (z * z + LOG_2PI)).sum(axis=-1)


# --------------------------------------------------------------- 2. the encoder q(z | x)
def log_normal(z, mu, logvar):
    """log N(z; mu, diag exp(logvar)), summed over the last axis:

        sum_j  -0.5 ((z_j - mu_j)^2 / exp(logvar_j) + logvar_j + log 2 pi)
    """
    diff = z - mu
    return (-0.5 * (diff * diff * mg.exp(-logvar) + logvar + LOG_2PI)).sum(axis=-1)


# ------------------------------------------------------------- 3. the reparameterisation
def reparameterize(mu, logvar, eps):
    """z = mu + sigma * eps with sigma = exp(logvar / 2)  -- NOT exp(logvar).

    logvar is log sigma^2, so the standard deviation is exp(logvar / 2). (DeZero's VAE
    writes exp(logvar): its "sigma" is then the variance.)  z is built from ops, so

        dz/dmu = 1,   dz/dlogvar = eps * sigma / 2

    come out of backward; eps carries no gradient.  ``eps`` may have extra leading
    axes (K, N, d) -- mu and logvar (N, d) broadcast: K samples per image.
    """
    sigma = mg.exp(0.5 * logvar)
    return mu + sigma * eps


# ------------------------------------------- 4. the decoder p(x | z), and the shared base
class _LatentVariableModel(nn.Module, abc.ABC):
    """What the VAE and the autoencoder share: an encoder, a decoder, a likelihood, and
    images of shape ``x_shape`` ((784,) for MLPs, (1, 28, 28) for conv nets).

    A subclass says what "the latent code of x" is (:meth:`latent`); reconstructions and
    the codes of many images (:meth:`reconstruct`, :meth:`latent_means`) follow from it.
    """

    def __init__(self, encoder, decoder, latent_dim, x_shape, likelihood, sigma=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = make_likelihood(likelihood, x_shape, sigma)
        self.latent_dim = int(latent_dim)
        self.x_shape = tuple(int(s) for s in x_shape)

    @property
    def event_ndim(self):
        return len(self.x_shape)

    @property
    def device(self):
        return next(iter(self.parameters())).device

    @property
    def dtype(self):
        return next(iter(self.parameters())).dtype

    def prepare(self, x):
        """Images as a Tensor of shape (N, *x_shape) on the model's device.

        Accepts NumPy arrays or Tensors of shape (N, 784), (N, 28, 28), (N, 1, 28, 28)...
        as long as each image has the right number of values.
        """
        if not isinstance(x, mg.Tensor):                  # NumPy / CuPy array or list
            x = mg.tensor(x, dtype=self.dtype, device=self.device)
        size = int(np.prod(self.x_shape))
        if x.ndim < 1 or x.numel() != len(x) * size:
            raise ValueError(f"{type(self).__name__}: expected images of {size} values each "
                             f"(shape (N, *{self.x_shape})), got a tensor of shape {x.shape}")
        if x.shape[1:] != self.x_shape:
            x = x.reshape((len(x),) + self.x_shape)
        return x

    def noise(self, *shape):
        """Standard normal noise of the model's dtype and device (seeded by mg.manual_seed):
        draws from the prior N(0, I), and the eps of the reparameterisation."""
        return mg.randn(*shape, dtype=self.dtype, device=self.device)

    @abc.abstractmethod
    def latent(self, x, sample=False):
        """The latent code of images x, shape (N, latent_dim) (a draw when ``sample``)."""

    def decode(self, z):
        """Parameters of p(x | z) (logits or means) of shape (..., *x_shape) for z (..., d).

        Extra leading axes (K samples of N images: (K, N, d)) are folded into the batch
        for the network and unfolded again.
        """
        if z.shape[-1] != self.latent_dim:
            raise ValueError(f"decode: z must end in the latent size {self.latent_dim}, "
                             f"got shape {z.shape}")
        lead = z.shape[:-1]
        out = self.decoder(z.reshape(-1, self.latent_dim))
        return out.reshape(lead + self.x_shape)

    def log_px_given_z(self, x, params):
        """log p(x | z) per image (nats), from the decoder's output for z."""
        return self.likelihood.log_prob(x, params, self.event_ndim)

    def generate(self, n, mean=True):
        """Decode n draws from the prior N(0, I): the pixel means (or a sample of p(x|z))."""
        with evaluating(self):
            params = self.decode(self.noise(n, self.latent_dim))
            return self.likelihood.mean(params) if mean else self.likelihood.sample(params)

    def reconstruct(self, x, sample_z=False):
        """Pixel means of p(x | z) at the latent code of x (a sampled one with
        ``sample_z``), shape (N, *x_shape); eval mode, no graph."""
        with evaluating(self):
            return self.likelihood.mean(self.decode(self.latent(x, sample=sample_z)))

    def latent_means(self, x, batch_size=1000):
        """The latent codes of many images as a NumPy array (N, latent_dim): the
        representation (the VAE's mu(x), the autoencoder's enc(x))."""
        with evaluating(self):
            return np.concatenate([self.latent(x[i:i + batch_size]).numpy()
                                   for i in range(0, len(x), batch_size)])


# ------------------------------- 5. the ELBO's terms, and the VAE (its methods follow 2-6)
@dataclass
class ELBO:
    """The terms of one ELBO evaluation, each a Tensor (part of the graph).

    reconstruction  (N,)  -log p(x | z), z ~ q(z | x) one sample   [nats per image]
    kl              (N,)  KL(q(z | x) || p(z)), analytic            [nats per image]
    loss            ()    mean over the batch of reconstruction + beta * kl: the
                          number to call backward() on
    """

    reconstruction: mg.Tensor
    kl: mg.Tensor
    loss: mg.Tensor
    beta: float = 1.0

    @property
    def elbo(self):
        """(N,) the bound itself, -(reconstruction + kl), whatever beta was used."""
        return -(self.reconstruction + self.kl)

    def summary(self) -> dict:
        """Batch means as floats: loss, elbo, reconstruction, kl (nats per image)."""
        rec = float(self.reconstruction.data.mean())
        kl = float(self.kl.data.mean())
        return {"loss": float(self.loss.item()), "elbo": -(rec + kl), "reconstruction": rec, "kl": kl}


class VAE(_LatentVariableModel):
    """Variational autoencoder with a Gaussian encoder and a Bernoulli or Gaussian decoder.

    The encoder outputs 2 * latent_dim numbers per image: mu, then logvar.  ``beta``
    weights the KL in ``loss`` / ``elbo(...).loss`` (beta-VAE; 1 is the plain ELBO).
    The methods follow the lecture: (1) the prior is ``noise`` / ``generate``, (2)
    :meth:`encode`, (3) :meth:`sample_posterior`, (4) :meth:`decode`, (5) :meth:`elbo`,
    (6) :meth:`log_importance_weight`, :meth:`iwae_bound`.

        model = VAE.mlp(latent_dim=20)              # 784-400-20, Bernoulli decoder
        terms = model.elbo(x)                       # x: binary images (N, 784)
        terms.loss.backward()                       # reconstruction + beta * KL
        model.log_likelihood(x_test, k=1000)        # importance-sampled log p(x), NumPy
    """

    def __init__(self, encoder, decoder, latent_dim, x_shape=(784,), likelihood="bernoulli",
                 beta=1.0, sigma=None):
        super().__init__(encoder, decoder, latent_dim, x_shape, likelihood, sigma)
        self.beta = float(beta)

    @classmethod
    def mlp(cls, latent_dim=20, hidden=400, x_dim=784, likelihood="bernoulli", beta=1.0,
            sigma=None, depth=1):
        """784-400-latent encoder and latent-400-784 decoder (ReLU)."""
        return cls(mlp_encoder(x_dim, hidden, 2 * latent_dim, depth=depth),
                   mlp_decoder(latent_dim, hidden, x_dim, depth=depth),
                   latent_dim, (x_dim,), likelihood, beta, sigma)

    @classmethod
    def conv(cls, latent_dim=20, channels=32, likelihood="bernoulli", beta=1.0, sigma=None,
             batch_norm=True):
        """DCGAN-style conv encoder/decoder on (N, 1, 28, 28) images."""
        return cls(conv_encoder(2 * latent_dim, channels, batch_norm=batch_norm),
                   conv_decoder(latent_dim, channels, batch_norm=batch_norm),
                   latent_dim, (1, 28, 28), likelihood, beta, sigma)

    # -- 2. q(z | x) ------------------------------------------------------------------------
    def encode(self, x):
        """(mu, logvar) of q(z | x), each (N, latent_dim)."""
        h = self.encoder(self.prepare(x))
        d = self.latent_dim
        return h[:, :d], h[:, d:]

    # -- 3. z ~ q(z | x) ----------------------------------------------------------------------
    def sample_posterior(self, mu, logvar, k=None):
        """z ~ q(z | x) by the reparameterisation with fresh noise: (N, d), or (k, N, d)
        for k samples per image."""
        shape = mu.shape if k is None else (k,) + mu.shape
        return reparameterize(mu, logvar, self.noise(*shape))

    def latent(self, x, sample=False):
        """mu(x), or a draw z ~ q(z | x) when ``sample``; (N, latent_dim)."""
        mu, logvar = self.encode(x)
        return self.sample_posterior(mu, logvar) if sample else mu

    # -- 5. the ELBO -------------------------------------------------------------------------
    def elbo(self, x, beta=None, eps=None):
        """One-sample ELBO with the analytic KL, as an :class:`ELBO` of Tensors.

        eps: the standard normal noise (N, latent_dim); drawn when None (pass it to
        hold the noise fixed, e.g. for a gradient check).
        """
        beta = self.beta if beta is None else float(beta)
        x = self.prepare(x)
        mu, logvar = self.encode(x)
        if eps is None:
            eps = self.noise(*mu.shape)
        z = reparameterize(mu, logvar, eps)
        reconstruction = -self.log_px_given_z(x, self.decode(z))
        kl = F.kl_normal(mu, logvar, reduction="none").sum(axis=-1)
        loss = (reconstruction + beta * kl).mean()
        return ELBO(reconstruction, kl, loss, beta)

    # -- 6. importance weights and the IWAE bound ----------------------------------------------
    def log_importance_weight(self, x, z, mu, logvar):
        """log w = log p(x | z) + log p(z) - log q(z | x) of latents z, per image.

        z is (N, d) or (K, N, d) (K per image; x (N, ...) broadcasts), mu and logvar
        (N, d) those of q(z | x).  Returns (N,) or (K, N), a graph.
        """
        log_px_z = self.log_px_given_z(x, self.decode(z))
        return log_px_z + log_standard_normal(z) - log_normal(z, mu, logvar)

    def log_weights(self, x, k, eps=None):
        """(K, N) log importance weights of K samples z_k ~ q(z | x) per image (a graph)."""
        x = self.prepare(x)
        mu, logvar = self.encode(x)
        if eps is None:
            eps = self.noise(k, *mu.shape)
        elif eps.shape != (k,) + mu.shape:
            raise ValueError(f"eps must have shape {(k,) + mu.shape}, got {eps.shape}")
        return self.log_importance_weight(x, reparameterize(mu, logvar, eps), mu, logvar)

    def iwae_bound(self, x, k, eps=None):
        """(N,) the importance-weighted bound L_K = logsumexp_k(log w_k) - log K (a graph)."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        return mg.logsumexp(self.log_weights(x, k, eps), axis=0) - math.log(k)

    # -- training ---------------------------------------------------------------------------
    def loss(self, x, objective="elbo", k=1, beta=None):
        """(scalar loss to minimise, dict of floats to log).

        objective 'elbo': reconstruction + beta * KL (analytic KL), logs elbo/rec/kl;
        objective 'iwae': -L_k, logs iwae (the bound's batch mean).
        """
        if objective == "elbo":
            terms = self.elbo(x, beta=beta)
            return terms.loss, terms.summary()
        if objective == "iwae":
            bound = self.iwae_bound(x, k)
            loss = -bound.mean()
            return loss, {"loss": float(loss.item()), f"iwae{k}": -float(loss.item())}
        raise ValueError(f"objective must be 'elbo' or 'iwae', got {objective!r}")

    # -- measuring many images (NumPy out, no graph, eval mode): see .evaluation -------------
    def evaluate_elbo(self, x, batch_size=500, samples=1) -> dict:
        """Per-image 'reconstruction', 'kl', 'elbo' as NumPy arrays (N,), in nats:
        :func:`minigen.models.vae.evaluation.evaluate_elbo`."""
        return evaluation.evaluate_elbo(self, x, batch_size=batch_size, samples=samples)

    def log_likelihood(self, x, k=1000, batch_size=100, chunk_rows=2000):
        """Importance-sampled log p(x) per image, NumPy (N,), in nats:
        :func:`minigen.models.vae.evaluation.log_likelihood`."""
        return evaluation.log_likelihood(self, x, k=k, batch_size=batch_size,
                                         chunk_rows=chunk_rows)


# ------------------------------------------------------------------ the autoencoder
class Autoencoder(_LatentVariableModel):
    """The deterministic autoencoder: z = enc(x), loss = -log p(x | dec(z)) per image.

    With the Bernoulli likelihood that loss is binary cross-entropy summed over pixels;
    with a fixed-sigma Gaussian it is the squared error (scaled).  No prior, no KL: the
    codes go wherever reconstruction likes them.
    """

    @classmethod
    def mlp(cls, latent_dim=20, hidden=400, x_dim=784, likelihood="bernoulli", sigma=None, depth=1):
        return cls(mlp_encoder(x_dim, hidden, latent_dim, depth=depth),
                   mlp_decoder(latent_dim, hidden, x_dim, depth=depth),
                   latent_dim, (x_dim,), likelihood, sigma)

    @classmethod
    def conv(cls, latent_dim=20, channels=32, likelihood="bernoulli", sigma=None, batch_norm=True):
        return cls(conv_encoder(latent_dim, channels, batch_norm=batch_norm),
                   conv_decoder(latent_dim, channels, batch_norm=batch_norm),
                   latent_dim, (1, 28, 28), likelihood, sigma)

    def encode(self, x):
        """The code z = enc(x), shape (N, latent_dim)."""
        return self.encoder(self.prepare(x))

    def latent(self, x, sample=False):
        """The code enc(x); an autoencoder has no q(z | x) to sample from."""
        if sample:
            raise ValueError("an Autoencoder's code is deterministic: there is no q(z | x) "
                             "to sample (sample_z / sample needs a VAE)")
        return self.encode(x)

    def reconstruction_loss(self, x):
        """-log p(x | dec(enc(x))) per image, shape (N,), in nats."""
        x = self.prepare(x)
        return -self.log_px_given_z(x, self.decode(self.encoder(x)))

    def loss(self, x, **unused):
        """(scalar loss to minimise, dict of floats to log)."""
        rec = self.reconstruction_loss(x)
        loss = rec.mean()
        return loss, {"loss": float(loss.item()), "reconstruction": float(loss.item())}
