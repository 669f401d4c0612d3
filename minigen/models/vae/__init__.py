"""Autoencoders and the VAE family (lectures L6.1-L6.3): generation, in-painting,
anomaly detection and representation learning on Fashion-MNIST.

=========================  ===============================================================
:mod:`.model`              in the lecture's order: the prior, the encoder's Gaussian,
                           :func:`reparameterize` (z = mu + exp(logvar / 2) eps as ops),
                           the decoder, :class:`VAE` (ELBO with analytic KL, beta, IWAE
                           bound), and the :class:`Autoencoder` it is compared with
:mod:`.evaluation`         many images, NumPy out: per-image ELBO terms and the
                           importance-sampled log p(x) (K up to 5,000 in chunks)
:mod:`.likelihoods`        the decoder's distribution: Bernoulli (logits) or Gaussian
:mod:`.nets`               MLP (784-400-latent) and DCGAN-style conv encoders/decoders
:mod:`.linear_gaussian`    :class:`LinearGaussianVAE`: a VAE with log p(x) in closed form,
                           to check the estimators against the truth
:mod:`.inpainting`         masks; pseudo-Gibbs and Metropolis-within-Gibbs sampling,
                           a direct prediction network, latent-space optimisation
:mod:`.representation`     linear-probe and k-NN accuracy of features
:mod:`.training`           Fashion-MNIST loading (binarised / dequantised) and :func:`fit`
=========================  ===============================================================

Units: every log-likelihood, ELBO term and NLL is in **nats per image** (summed over the
784 pixels and over the latent dimensions, averaged over images).

    import minigen as mg
    from minigen.models.vae import VAE, load_fashion_mnist, fit
    data = load_fashion_mnist()
    model = VAE.mlp(latent_dim=20)
    fit(model, data.x_train, epochs=10)
    print(model.log_likelihood(data.x_test_binary, k=1000).mean())
"""
from .likelihoods import BernoulliLikelihood, GaussianLikelihood, make_likelihood
from .linear_gaussian import LinearGaussianVAE
from .evaluation import evaluating
from .model import ELBO, VAE, Autoencoder, log_normal, log_standard_normal, reparameterize
from .nets import conv_decoder, conv_encoder, mlp_decoder, mlp_encoder
from .training import (FashionData, dequantize, fit, load_fashion_mnist, load_model, make_loader,
                       sample_metrics,
                       prepare_test)

__all__ = [
    "VAE", "Autoencoder", "ELBO", "reparameterize", "log_normal", "log_standard_normal",
    "evaluating", "BernoulliLikelihood", "GaussianLikelihood", "make_likelihood",
    "LinearGaussianVAE", "mlp_encoder", "mlp_decoder", "conv_encoder", "conv_decoder",
    "FashionData", "load_fashion_mnist", "dequantize", "prepare_test", "make_loader", "fit",
    "load_model", "sample_metrics",
]
