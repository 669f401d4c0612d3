"""The alternating training step of a GAN, shared by every GAN demo.

One *step* of :class:`GANTrainer` is one generator update preceded by ``n_critic``
discriminator updates, each on its own real mini-batch (WGAN's schedule; n_critic = 1
is the plain alternation of Goodfellow et al.):

    repeat n_critic times:                       # D's turn, G frozen
        x ~ data,  z ~ N(0, I)
        L_D = d_loss(D(x), D(G(z)))  (+ gradient penalty / R1)
        opt_D.zero_grad(); L_D.backward(); opt_D.step()     (+ weight clipping for WGAN)
    z ~ N(0, I)                                  # G's turn, D frozen
    L_G = g_loss(D(G(z)))
    opt_G.zero_grad(); L_G.backward(); opt_G.step()         (+ EMA of G's weights)

"Frozen" is ``requires_grad_(False)`` on the other player's parameters: backward then
stops at its activations and never writes gradients into weights that do not move.
The loader gives ``n_critic * batch_size`` real rows per step (one ``Loop`` step = one
G update), so checkpoints, ``--resume`` and the CSV log of ``minigen.train.Loop`` work
unchanged::

    trainer = GANTrainer(G, D, opt_g, opt_d, loss="wgan-gp", n_critic=5)
    loader = DataLoader(x, trainer.loader_batch_size(64), seed=0, drop_last=True)
    loop = Loop(loader, args, state=trainer.state())
    for real in checked_resume(loop):
        loop.log(**trainer.step(real))
"""
from __future__ import annotations

import contextlib

import minigen as mg
from minigen.nn.module import StateDictError
from minigen.optim import EMA

from .losses import (G_LOSSES, d_loss, gradient_penalty, r1_penalty, wgan_critic_loss)

__all__ = ["GANTrainer", "LOSSES", "frozen", "checked_resume", "clip_weights_", "loss_settings", "make_optimizer"]

#: the objectives a trainer knows (see losses.py for the formulas)
LOSSES = tuple(G_LOSSES)


@contextlib.contextmanager
def frozen(module):
    """Inside the block the module's parameters do not require grad (then they do again)."""
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)


def clip_weights_(module, c):
    """WGAN's crude Lipschitz constraint: every weight of the critic clipped to [-c, c]."""
    with mg.no_grad():
        for p in module.parameters():
            xp = mg.get_array_module(p.data)
            p.data = xp.clip(p.data, -c, c)


class GANTrainer:
    """Two players, two optimisers, one objective: :meth:`step` plays one round.

    loss: ``minimax`` | ``nonsaturating`` | ``wgan`` | ``wgan-gp``.
    n_critic: discriminator updates per generator update (>= 1).
    gp_weight: lambda of the WGAN-GP penalty (used with ``wgan-gp``).
    r1_weight: gamma of the R1 penalty on real data (0: off; any loss).
    clip: weight-clipping bound c of WGAN (default 0.01 with ``wgan``, else off).
    ema_decay: keep an exponential moving average of G's weights (``trainer.ema``).
    G must have a ``latent_dim`` attribute (the size of z).
    """

    def __init__(self, G, D, opt_g, opt_d, *, loss="nonsaturating", n_critic=1, gp_weight=10.0,
                 r1_weight=0.0, clip=None, ema_decay=None):
        if loss not in LOSSES:
            raise ValueError(f"unknown GAN loss {loss!r}; choose from {', '.join(LOSSES)}")
        if int(n_critic) != n_critic or n_critic < 1:
            raise ValueError(f"n_critic must be an integer >= 1 (discriminator updates per "
                             f"generator update), got {n_critic}")
        if not hasattr(G, "latent_dim"):
            raise TypeError("GANTrainer: the generator needs a latent_dim attribute (size of z)")
        if clip is None and loss == "wgan":
            clip = 0.01
        if clip is not None and clip <= 0:
            raise ValueError(f"clip must be > 0, got {clip}")
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        self.loss, self.n_critic = loss, int(n_critic)
        self.gp_weight, self.r1_weight, self.clip = float(gp_weight), float(r1_weight), clip
        self.ema = EMA(G, decay=ema_decay) if ema_decay else None

    # -- helpers -----------------------------------------------------------------------
    def loader_batch_size(self, batch_size):
        """Real rows the loader must give per step: one mini-batch per discriminator update."""
        return self.n_critic * int(batch_size)

    def state(self):
        """What a checkpoint holds: both players, both optimisers (and G's EMA)."""
        state = {"G": self.G, "D": self.D, "opt_g": self.opt_g, "opt_d": self.opt_d}
        if self.ema is not None:
            state["ema"] = self.ema
        return state

    def sample_latent(self, n, device=None):
        """z ~ N(0, I), (n, latent_dim), from minigen's seeded RNG."""
        return mg.randn(n, self.G.latent_dim, device=device or self._device())

    def _device(self):
        return next(iter(self.G.parameters())).device

    @contextlib.contextmanager
    def averaged(self):
        """Inside the block G holds its EMA weights (if any) and is in eval mode."""
        was_training = self.G.training
        ctx = self.ema.average_parameters() if self.ema is not None else contextlib.nullcontext()
        with ctx:
            self.G.eval()
            try:
                yield self.G
            finally:
                self.G.train(was_training)

    def generate(self, n, batch=1000, seed=None):
        """n samples of the (EMA) generator as a NumPy array, in chunks, without a graph.

        With ``seed`` the z come from their own NumPy generator and minigen's RNG is left
        alone: evaluating during training then does not change the training run."""
        import numpy as np
        rng = None if seed is None else np.random.default_rng(seed)
        chunks = []
        with mg.no_grad(), self.averaged():
            for i in range(0, n, batch):
                m = min(batch, n - i)
                z = self.sample_latent(m) if rng is None else mg.tensor(
                    rng.standard_normal((m, self.G.latent_dim)).astype(np.float32),
                    device=self._device())
                chunks.append(self.G(z).numpy())
        return np.concatenate(chunks)

    # -- the two turns -------------------------------------------------------------------
    def d_step(self, real):
        """One discriminator update on a real mini-batch; returns the numbers to log."""
        with frozen(self.G), mg.no_grad():
            fake = self.G(self.sample_latent(len(real), real.device))
        if tuple(fake.shape[1:]) != tuple(real.shape[1:]):
            raise ValueError(f"the generator makes samples of shape {tuple(fake.shape[1:])} but "
                             f"the data has shape {tuple(real.shape[1:])}: sizes must match")
        real_out, fake_out = self.D(real), self.D(fake)
        stats = {}
        if self.loss in ("minimax", "nonsaturating"):
            loss = d_loss(real_out, fake_out)
            stats["d_real"] = mg.sigmoid(real_out).mean().item()     # D(x), ideally -> 1/2
            stats["d_fake"] = mg.sigmoid(fake_out).mean().item()     # D(G(z))
        else:
            loss = wgan_critic_loss(real_out, fake_out)
            stats["wasserstein"] = -loss.item()                     # E f(x) - E f(G(z))
        stats["d_loss"] = loss.item()
        if self.loss == "wgan-gp":
            gp = gradient_penalty(self.D, real, fake, weight=self.gp_weight)
            stats["gp"] = gp.item()
            loss = loss + gp
        if self.r1_weight:
            r1 = r1_penalty(self.D, real, weight=self.r1_weight)
            stats["r1"] = r1.item()
            loss = loss + r1
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        if self.clip is not None:
            clip_weights_(self.D, self.clip)
        return stats

    def g_step(self, n, device=None):
        """One generator update on n fresh z; returns the numbers to log."""
        with frozen(self.D):
            fake_out = self.D(self.G(self.sample_latent(n, device)))
            loss = G_LOSSES[self.loss](fake_out)
            self.opt_g.zero_grad()
            loss.backward()
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update()
        return {"g_loss": loss.item()}

    def step(self, real):
        """n_critic discriminator updates (the real batch split in n_critic equal parts),
        then one generator update.  Returns the logged numbers (D's averaged over its turns)."""
        if len(real) % self.n_critic:
            raise ValueError(f"a step needs n_critic = {self.n_critic} equal real batches; got "
                             f"{len(real)} rows (use loader_batch_size())")
        b = len(real) // self.n_critic
        d_stats = [self.d_step(real[i * b:(i + 1) * b]) for i in range(self.n_critic)]
        stats = {k: sum(s[k] for s in d_stats) / len(d_stats) for k in d_stats[0]}
        stats.update(self.g_step(b, real.device))
        return stats


def checked_resume(loop):
    """Iterate over ``loop``; a checkpoint written for other networks (``--resume`` after
    changing the architecture) becomes an error that says so."""
    try:
        yield from loop
    except StateDictError as err:
        raise ValueError(f"{loop.checkpoint_path} was written for networks of another "
                         f"architecture (or size) than these; start afresh in another --out, "
                         f"or use the same settings as that run:\n{err}") from None


def loss_settings(defaults: dict, args, keys=("lr", "betas", "n_critic", "gp_weight", "clip")) -> dict:
    """A loss's default settings, overridden by the command-line values that were given.

    ``defaults`` is the demo's table for ``args.loss`` (optimizer, lr, betas, n_critic, ...);
    an option left at ``None`` keeps the default. ``betas`` becomes a tuple.
    """
    settings = dict(defaults)
    for key in keys:
        value = getattr(args, key)
        if value is not None:
            settings[key] = tuple(value) if key == "betas" else value
    return settings


def make_optimizer(params, settings: dict):
    """Adam (lr, betas) or RMSprop (lr, WGAN's weight-clipping recipe), as ``settings`` names."""
    if settings["optimizer"] == "adam":
        return mg.optim.Adam(params, lr=settings["lr"], betas=settings["betas"])
    return mg.optim.RMSprop(params, lr=settings["lr"])
