"""Autoregressive models of binary images (lecture L6.3, tractable densities): the joint
as a product of conditionals, generated pixel by pixel, with an exact log-likelihood.

=====================  ==========================================================
:mod:`.base`           :class:`AutoregressiveModel`: log p(x) = sum_d log p(x_d | x_<d)
                       in nats, pixel-by-pixel sampling, exact completion given the
                       first pixels of the order (in-painting the bottom half)
:mod:`.fvsbn`          :class:`FVSBN`: one logistic regression per pixel
:mod:`.made`           :class:`MADE`: a masked MLP from random degrees; several masks,
                       order-agnostic training, the ensemble as a mixture (logsumexp)
:mod:`.pixelcnn`       :class:`PixelCNN`: masked convolutions (type A, then B) with
                       residual blocks; :class:`GatedPixelCNN`: vertical and horizontal
                       stacks, no blind spot; :func:`receptive_field` by the engine's gradients
=====================  ==========================================================

    from minigen.models.autoregressive import MADE
    model = MADE(784, hidden=(500,), num_masks=8, order="random")
    loss = model.loss(x_binary)            # mean NLL, nats per image
    loss.backward(); opt.step(); model.next_mask()
    model.log_prob_ensemble(x_test)        # log (1/K) sum_k p_k(x)
"""
from .base import AutoregressiveModel, bottom_half_missing, check_binary
from .fvsbn import FVSBN
from .made import MADE, made_degrees, made_masks
from .pixelcnn import GatedPixelCNN, PixelCNN, ResidualBlock, receptive_field

__all__ = ["AutoregressiveModel", "check_binary", "bottom_half_missing", "FVSBN", "MADE",
           "made_degrees", "made_masks", "PixelCNN", "GatedPixelCNN", "ResidualBlock", "receptive_field"]
