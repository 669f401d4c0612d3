"""The classic generative and latent-variable models of lectures L6.1 and L6.2.

Explicit probability models, before deep ones -- each in its own module:

=====================================  ==========================================================
:mod:`.joint_table`                    the full joint table over a tiny binary image
                                       (:class:`BinaryJointTable`) and why it does not scale
:mod:`.generative_classifiers`         :class:`BernoulliNB`, :class:`GaussianNB`,
                                       :class:`GaussianDiscriminantAnalysis` (LDA / QDA):
                                       Bayes' rule, class-conditional sampling, missing features
:mod:`.logistic_regression`            :class:`LogisticRegression`, the discriminative rival,
                                       trained with the minigen engine
:mod:`.pca`                            :class:`PCA` by SVD, with the probabilistic-PCA likelihood
:mod:`.factor_analysis`                :class:`FactorAnalysis` by EM
:mod:`.latent_dirichlet`               :class:`LatentDirichletAllocation` (topics) by variational EM,
                                       the synthetic "bars" corpus
:mod:`.matrix_factorization`           :class:`SVDImputer` and :class:`LatentFactorModel` (engine)
                                       for ratings with missing entries
=====================================  ==========================================================

All follow scikit-learn's conventions: ``fit`` returns ``self``, learned attributes end in
``_``, ``score(X)`` is the average log-likelihood per sample, and methods used before ``fit``
raise :class:`NotFittedError`.
"""

from ._base import NotFittedError
from .factor_analysis import FactorAnalysis, align_loadings
from .generative_classifiers import BernoulliNB, GaussianDiscriminantAnalysis, GaussianNB
from .joint_table import BinaryJointTable, n_parameters
from .latent_dirichlet import (LatentDirichletAllocation, bars_topics, make_bars_corpus,
                               match_topics, split_documents, unigram_perplexity)
from .logistic_regression import LogisticRegression
from .matrix_factorization import LatentFactorModel, SVDImputer, make_low_rank_ratings
from .pca import PCA

__all__ = [
    "NotFittedError",
    "BinaryJointTable", "n_parameters",
    "BernoulliNB", "GaussianNB", "GaussianDiscriminantAnalysis", "LogisticRegression",
    "PCA", "FactorAnalysis", "align_loadings",
    "LatentDirichletAllocation", "make_bars_corpus", "bars_topics", "split_documents",
    "unigram_perplexity", "match_topics",
    "SVDImputer", "LatentFactorModel", "make_low_rank_ratings",
]
