"""How good are the samples?  Numbers to put next to the pictures.

* ``frechet_distance`` / ``kid``: distance between real and generated feature sets
  (features from ``feature_classifier()``, a small Fashion-MNIST net trained with minigen);
* ``precision_recall``: quality and coverage with k-NN manifolds;
* ``mode_stats`` / ``histogram_stats``: modes of 2-D toys covered, high-quality
  fraction, reverse KL (VEEGAN/PacGAN); class coverage of images;
* ``bits_per_dim``, ``nll_report``, ``iwae_nll``, ``dequantized_nll``: likelihoods;
* ``auroc``, ``roc_curve``: anomaly scores.
"""
from .auroc import auroc, roc_curve
from .frechet import frechet_distance, frechet_distance_from_stats, gaussian_stats, kid
from .likelihood import bits_per_dim, dequantized_nll, iwae_nll, nats_per_image, nll_report
from .modes import histogram_stats, mode_stats, reverse_kl
from .precision_recall import knn_radii, precision_recall

# The classifier needs the engine (minigen.nn); import it only when first asked for,
# so that ``import minigen.metrics`` stays light and never imports the engine midway.
_CLASSIFIER_NAMES = ("features", "predict", "class_coverage", "evaluate_images", "load_classifier",
                     "build_classifier", "prepare_images", "WEIGHTS_PATH")


def __getattr__(name):
    if name in _CLASSIFIER_NAMES:
        from . import classifier
        return getattr(classifier, name)
    raise AttributeError(f"module 'minigen.metrics' has no attribute {name!r}")


__all__ = [*_CLASSIFIER_NAMES, 
    "frechet_distance", "frechet_distance_from_stats", "gaussian_stats", "kid",
    "precision_recall", "knn_radii",
    "mode_stats", "histogram_stats", "reverse_kl",
    "bits_per_dim", "nats_per_image", "dequantized_nll", "iwae_nll", "nll_report",
    "auroc", "roc_curve",
]
