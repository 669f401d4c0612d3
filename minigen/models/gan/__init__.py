"""Generative adversarial networks (lecture L6.4), one module per idea, in lecture order.

=========================  ===============================================================
:mod:`.losses`             the discriminator's loss; the generator's minimax and
                           non-saturating losses; WGAN critic/generator losses; the WGAN-GP
                           gradient penalty and R1 (double backward)
:mod:`.training`           :class:`GANTrainer`: alternating D/G updates with n_critic,
                           frozen players, weight clipping, EMA of G; on ``minigen.train.Loop``
:mod:`.toy`                MLP generator and discriminator for the 2-D toys (with hooks for
                           packing and minibatch layers)
:mod:`.dirac`              the Dirac-GAN: why simultaneous gradient play circles
:mod:`.dcgan`              DCGAN networks for 28x28 images (the lecture's five rules)
=========================  ===============================================================

    import minigen as mg
    from minigen.models.gan import GANTrainer, ToyGenerator, ToyDiscriminator
    G, D = ToyGenerator(), ToyDiscriminator()
    trainer = GANTrainer(G, D, mg.optim.Adam(G.parameters(), 1e-4, betas=(0.5, 0.9)),
                         mg.optim.Adam(D.parameters(), 1e-4, betas=(0.5, 0.9)),
                         loss="wgan-gp", n_critic=5)
    stats = trainer.step(real_batch)      # 5 critic updates on 5 slices, 1 generator update
"""
from .dcgan import NORMS, dcgan_discriminator, dcgan_generator, dcgan_init_
from .losses import (G_LOSSES, d_loss, g_loss_minimax, g_loss_nonsaturating, gradient_penalty,
                     input_gradient, r1_penalty, wgan_critic_loss, wgan_g_loss)
from .toy import ToyDiscriminator, ToyGenerator
from .training import LOSSES, GANTrainer, checked_resume, clip_weights_, frozen, loss_settings, make_optimizer

__all__ = [
    "d_loss", "g_loss_minimax", "g_loss_nonsaturating", "wgan_critic_loss", "wgan_g_loss",
    "gradient_penalty", "r1_penalty", "input_gradient", "G_LOSSES",
    "GANTrainer", "LOSSES", "frozen", "checked_resume", "clip_weights_", "loss_settings", "make_optimizer",
    "ToyGenerator", "ToyDiscriminator",
    "dcgan_generator", "dcgan_discriminator", "dcgan_init_", "NORMS",
]
