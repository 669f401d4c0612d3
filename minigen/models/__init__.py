"""Models of the lectures, one subpackage or module per family.

``minigen.models.classic`` holds the pre-deep-learning generative and latent models
of lectures L6.1 and L6.2 (joint table, generative classifiers, PCA, Factor Analysis,
Latent Dirichlet Allocation, matrix factorisation).
"""
