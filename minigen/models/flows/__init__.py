"""Normalizing flows (lecture L6.3, tractable densities): a Gaussian pushed through
invertible maps, log p(x) = log N(f(x); 0, I) + log |det J_f(x)| exactly.

=====================  ==========================================================
:mod:`.base`           :class:`Flow` (forward -> (z, log|det J|), inverse) and
                       :class:`NormalizingFlow` (log_prob, sample, trajectories)
:mod:`.coupling`       :class:`AffineCoupling` with alternating / checkerboard /
                       channel masks, scale through tanh or a soft clamp
:mod:`.actnorm`        :class:`ActNorm` with data-dependent initialisation (Glow)
:mod:`.invconv`        :class:`InvConv1x1`, LU-parameterised (Glow); singular -> error
:mod:`.layers`         :class:`Squeeze`, :class:`LogitTransform` (its Jacobian counted)
:mod:`.realnvp`        :func:`realnvp_2d` for the toys, :func:`realnvp_image` for images
=====================  ==========================================================

    from minigen.models.flows import realnvp_2d
    flow = realnvp_2d(num_couplings=8)
    loss = flow.loss(x)                 # mean NLL, nats per point
    z, log_det = flow(x); x_back = flow.inverse(z); samples = flow.sample(1000)
"""
from .actnorm import ActNorm
from .base import Flow, NormalizingFlow, log_standard_normal, per_example_sum
from .coupling import (AffineCoupling, alternating_mask, channel_mask, checkerboard_mask,
                       conv_net, mlp_net)
from .invconv import InvConv1x1, SingularWeightError
from .layers import LogitTransform, Squeeze
from .realnvp import realnvp_2d, realnvp_image

__all__ = ["Flow", "NormalizingFlow", "log_standard_normal", "per_example_sum", "AffineCoupling",
           "alternating_mask", "checkerboard_mask", "channel_mask", "mlp_net", "conv_net",
           "ActNorm", "InvConv1x1", "SingularWeightError", "LogitTransform", "Squeeze",
           "realnvp_2d", "realnvp_image"]
