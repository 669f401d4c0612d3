"""Missing-data imputation (in-painting) with a trained VAE: the three routes of L6.1.

An image x splits into observed pixels x_o (``observed`` is True) and missing ones x_m.
We want p(x_m | x_o) -- or at least a good guess of its mean.  The VAE's p(x) is
never written down, but it can be used three ways:

1. **Iterative sampling** -- start the missing pixels anywhere and refine them:
   * pseudo-Gibbs (Rezende et al. 2014): repeat  z ~ q(z | x),  x_m ~ p(x_m | z),
     keeping x_o fixed.  Simple, but q is only an approximation of p(z | x), so the
     chain does not target p(x_m | x_o) exactly.
   * Metropolis-within-Gibbs (Mattei & Frellsen 2018): propose z' ~ q(z | x) and
     accept it with probability

         min(1,  p(x | z') p(z') q(z | x)  /  p(x | z) p(z) q(z' | x) ),

     then draw x_m ~ p(x_m | z).  The accept step corrects q's error: the chain's
     stationary distribution is exactly p(z, x_m | x_o) of the model.
2. **Direct prediction** -- a network that sees (x with missing pixels zeroed, mask) and
   outputs the missing pixels, trained on randomly masked training images.  No VAE.
3. **Latent-space search** -- find the z that explains the observed pixels under the prior,

         z* = argmax_z  sum_{i observed} log p(x_i | z) + log p(z),

   by gradient ascent (``mg.grad`` gives d/dz through the decoder), then decode.

Images here are flat (N, 784) NumPy arrays; ``observed`` is a boolean array of the
same shape.  Every method returns its guess of E[x_m | x_o] (pixel probabilities for
a Bernoulli decoder) for the whole image; only the missing pixels are meant to be used.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.functional as F
import minigen.nn as nn

from .evaluation import evaluating
from .model import log_standard_normal

__all__ = ["MASKS", "make_mask", "missing_mse", "mean_image_fill", "pseudo_gibbs",
           "metropolis_within_gibbs", "latent_optimisation", "InpaintingNet",
           "train_inpainting_net"]

MASKS = ("centre", "left", "random")


def make_mask(kind, n, rng=None, side=28):
    """Boolean (n, side*side) array, True where the pixel is observed.

    'centre': the central 14x14 square is missing;  'left': the left half is missing;
    'random': every pixel is missing with probability 1/2, independently (needs ``rng``).
    """
    observed = np.ones((n, side, side), dtype=bool)
    half, quarter = side // 2, side // 4
    if kind == "centre":
        observed[:, quarter:quarter + half, quarter:quarter + half] = False
    elif kind == "left":
        observed[:, :, :half] = False
    elif kind == "random":
        if rng is None:
            raise ValueError("the 'random' mask needs rng (a numpy Generator)")
        observed = rng.random((n, side, side)) >= 0.5
    else:
        raise ValueError(f"mask must be one of {MASKS}, got {kind!r}")
    return observed.reshape(n, side * side)


def missing_mse(prediction, truth, observed):
    """Mean squared error over the missing pixels only (all images pooled)."""
    missing = ~observed
    return float(((prediction - truth) ** 2)[missing].mean())


def mean_image_fill(x, observed, mean_image):
    """The baseline: every missing pixel takes the training mean of that pixel."""
    return np.where(observed, x, mean_image[None, :]).astype(np.float32)


def _tensor(a, model):
    return mg.tensor(np.asarray(a, dtype=np.float32), dtype=model.dtype, device=model.device)


def _with_observed(x_obs, obs, values):
    """The observed pixels of x_obs where obs is 1, ``values`` elsewhere (Tensors)."""
    return x_obs * obs + values.reshape(x_obs.shape) * (1 - obs)


def _start(model, x, observed, init):
    """Where every method starts: (observed mask, x, x with its missing pixels set to
    ``init``), as Tensors on the model's device.  init: an image array (e.g. the training
    mean image) or a number; default 0.5."""
    fill = 0.5 if init is None else init
    obs = _tensor(observed.astype(np.float32), model)
    x_obs = _tensor(x, model)
    return obs, x_obs, _with_observed(x_obs, obs, _tensor(np.broadcast_to(fill, x.shape), model))


def pseudo_gibbs(model, x, observed, steps=50, burn_in=10, init=None):
    """Pseudo-Gibbs in-painting: alternate z ~ q(z | x) and x_m ~ p(x_m | z).

    init: the starting guess of the missing pixels (an image array, e.g. the mean image;
    default 0.5).  Returns the average of the decoder means E[x | z] over the steps after
    ``burn_in``: a Monte-Carlo estimate of E[x_m | x_o] under the chain.
    """
    obs, x_obs, current = _start(model, x, observed, init)
    total, kept = 0.0, 0
    with evaluating(model):
        for t in range(steps):
            z = model.latent(current, sample=True)                  # z ~ q(z | x)
            params = model.decode(z)
            current = _with_observed(x_obs, obs, model.likelihood.sample(params))  # re-impose x_o
            if t >= burn_in:
                total = total + model.likelihood.mean(params).numpy().reshape(x.shape)
                kept += 1
    return (total / max(kept, 1)).astype(np.float32)


def metropolis_within_gibbs(model, x, observed, steps=50, burn_in=10, init=None):
    """Metropolis-within-Gibbs in-painting (Mattei & Frellsen 2018).

    State: (z, x_m).  Each step proposes z' ~ q(z | x) from the encoder of the current
    completed image and accepts it with probability min(1, exp(a)),

        a = [log p(x | z') + log p(z') - log q(z' | x)] - [log p(x | z) + log p(z) - log q(z | x)]

    (the importance weights of the two latents), then draws x_m ~ p(x_m | z).
    Returns (estimate of E[x_m | x_o] as in :func:`pseudo_gibbs`, acceptance rate).
    """
    obs, x_obs, current = _start(model, x, observed, init)
    total, kept, accepted = 0.0, 0, []
    xp = mg.get_array_module(x_obs.data)

    with evaluating(model):
        z = None
        for t in range(steps):
            mu, logvar = model.encode(current)                 # the proposal q(. | x)
            proposal = model.sample_posterior(mu, logvar)
            log_w_new = model.log_importance_weight(current, proposal, mu, logvar)
            if z is None:                                      # first step: take it
                accept = xp.ones(len(x), dtype=bool)
            else:
                log_w_old = model.log_importance_weight(current, z, mu, logvar)
                log_u = xp.log(mg.rand(len(x), dtype=np.float64, device=model.device).data)
                accept = log_u < (log_w_new - log_w_old).data.astype(np.float64)
                accepted.append(float(accept.mean()))
            keep = mg.Tensor(accept[:, None])
            z = proposal if t == 0 else mg.where(keep, proposal, z)
            params = model.decode(z)
            current = _with_observed(x_obs, obs, model.likelihood.sample(params))
            if t >= burn_in:
                total = total + model.likelihood.mean(params).numpy().reshape(x.shape)
                kept += 1
    rate = float(np.mean(accepted)) if accepted else 1.0
    return (total / max(kept, 1)).astype(np.float32), rate


def latent_optimisation(model, x, observed, steps=200, lr=0.05, init=None):
    """In-painting by searching the latent space: maximise over z

        J(z) = sum_{i observed} log p(x_i | z) + log p(z)

    with Adam, starting from the encoder's mean of the image with the missing pixels
    set to ``init`` (default 0.5).  The gradient dJ/dz flows through the decoder by
    ``mg.grad`` (the model's own parameters are not touched).  Returns the decoder
    mean at the best z, and the final J per image.
    """
    obs, x_obs, start = _start(model, x, observed, init)
    was_training = model.training
    model.eval()                                # batch norm: running statistics
    try:
        with mg.no_grad():
            z0 = model.encode(start)[0].data
        z = mg.Tensor(z0.copy(), requires_grad=True)
        opt = mg.optim.Adam([z], lr=lr)
        for _ in range(steps):
            params = model.decode(z)
            per_pixel = model.likelihood.log_prob(x_obs, params, 0)   # log p(x_i | z), (N, 784)
            objective = (per_pixel * obs).sum(axis=-1) + log_standard_normal(z)
            (grad_z,) = mg.grad(-objective.sum(), [z])   # images are independent: sum is fine
            z.grad = grad_z
            opt.step()
        with mg.no_grad():
            params = model.decode(z)
            final = ((model.likelihood.log_prob(x_obs, params, 0) * obs).sum(axis=-1)
                     + log_standard_normal(z))
            mean = model.likelihood.mean(params).numpy().reshape(x.shape)
    finally:
        model.train(was_training)
    return mean.astype(np.float32), final.numpy()


# ----------------------------------------------------------------- direct prediction
class InpaintingNet(nn.Module):
    """Direct prediction: (x with missing pixels set to 0, mask) -> logits of every pixel.

        input  [x * m, m]  (N, 2 * 784)  -- the mask tells "missing" from "black"
        MLP    2*784 -> hidden -> hidden -> 784 (ReLU)
    """

    def __init__(self, x_dim=784, hidden=512):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2 * x_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, x_dim))

    @property
    def device(self):
        return next(iter(self.parameters())).device

    def forward(self, x, observed):
        """Logits (N, 784) from images x and the observed-pixel mask (1 = observed)."""
        return self.net(mg.cat([x * observed, observed], axis=-1))

    def predict(self, x, observed, batch_size=1000):
        """Pixel probabilities sigmoid(logits) for NumPy inputs, (N, 784)."""
        out = []
        with evaluating(self):
            for i in range(0, len(x), batch_size):
                xb = mg.tensor(np.asarray(x[i:i + batch_size], dtype=np.float32), device=self.device)
                ob = mg.tensor(observed[i:i + batch_size].astype(np.float32), device=self.device)
                out.append(mg.sigmoid(self(xb, ob)).numpy())
        return np.concatenate(out)


def train_inpainting_net(net, x_train, steps=1000, batch_size=128, lr=1e-3, seed=0,
                         masks=MASKS, log_every=0):
    """Train ``net`` on dynamically binarised training images under random masks.

    Each image of a batch gets a mask kind drawn uniformly from ``masks``; the loss is
    the binary cross-entropy of the *missing* pixels, summed over them, averaged over
    images (nats per image).  Returns the list of losses.
    """
    rng = np.random.default_rng(seed)
    opt = mg.optim.Adam(net.parameters(), lr=lr)
    losses = []
    net.train()
    for step in range(steps):
        idx = rng.integers(0, len(x_train), batch_size)
        xb = (rng.random((batch_size, x_train.shape[1])) < x_train[idx]).astype(np.float32)
        kinds = rng.integers(0, len(masks), batch_size)
        observed = np.empty(xb.shape, dtype=bool)
        for j, kind in enumerate(masks):
            rows = kinds == j
            observed[rows] = make_mask(kind, int(rows.sum()), rng)
        x_t = mg.tensor(xb, device=net.device)
        o_t = mg.tensor(observed.astype(np.float32), device=net.device)
        per_pixel = F.binary_cross_entropy_with_logits(net(x_t, o_t), x_t, reduction="none")
        loss = (per_pixel * (1 - o_t)).sum(axis=-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
        if log_every and (step + 1) % log_every == 0:
            print(f"  inpainting net step {step + 1}/{steps}: loss {np.mean(losses[-log_every:]):.2f}")
    return losses
