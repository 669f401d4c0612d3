"""Diffusion and score-based models (lecture L6.3: "systematically add noise to data,
then learn to reverse the process").  One module per idea, in the order of the story:

=========================  ===============================================================
:mod:`.schedules`          β_t (linear, cosine), ᾱ_t, the closed-form q(x_t | x_0)
                           (``q_sample``) and the posterior q(x_{t-1} | x_t, x_0)
:mod:`.nets`               the sinusoidal time embedding and the toy ε-network
:mod:`.analytic`           the exact noised score / ε* of a Gaussian mixture (ground truth)
:mod:`.ddpm`               L_simple = ‖ε − ε_θ(x_t, t)‖² and ancestral sampling
:mod:`.ddim`               DDIM: S-step sampling with η, encoding x_0 -> x_T
:mod:`.score`              noise-conditional score networks, denoising score matching,
                           (annealed) Langevin dynamics
:mod:`.unet`               a small U-Net ε_θ for 28×28 images
:mod:`.inpainting`         RePaint with the resampling (jump) schedule
:mod:`.likelihood`         the variational bound L_vlb with the discretised decoder
=========================  ===============================================================

Time steps are array indices t = 0 … T − 1 (the paper's t = 1 … T); see :mod:`.schedules`.
"""
from .schedules import NoiseSchedule, SCHEDULES, cosine_betas, linear_betas, make_schedule
from .nets import ToyEpsNet, timestep_embedding
from .analytic import GaussianMixture
from .ddpm import VARIANCES, ddpm_loss, ddpm_sample, ddpm_step, p_mean_variance
from .ddim import SPACINGS, ddim_encode, ddim_sample, ddim_sigma, ddim_step, ddim_timesteps
from .score import (NoiseConditionalScoreNet, annealed_langevin, dsm_loss, geometric_sigmas,
                    langevin)
from .unet import UNet
from .inpainting import network_calls, repaint, repaint_schedule
from .likelihood import vlb_bits_per_dim, vlb_per_image, vlb_terms
