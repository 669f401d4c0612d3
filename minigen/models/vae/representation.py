"""How useful is a representation?  Two standard probes of features f(x):

* **linear probe**: multinomial logistic regression on the (standardised) features,
  trained on the training set, accuracy on the test set.  It asks whether the classes
  are *linearly* separable in the representation.
* **k-NN**: label a test point by the majority class of its k nearest training points
  (Euclidean distance).  It asks whether *neighbours* share a class.

The demo compares the VAE's latent means mu(x) with PCA of the same dimension and with
the raw 784 pixels.  Fitting is plain NumPy plus :class:`minigen.models.classic.LogisticRegression`
(trained with the minigen engine).
"""
from __future__ import annotations

import numpy as np

__all__ = ["knn_accuracy", "linear_probe_accuracy", "standardise"]


def standardise(train, test):
    """Scale every feature to zero mean and unit variance with the *training* statistics."""
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-6
    return (train - mean) / std, (test - mean) / std


def knn_accuracy(train, train_labels, test, test_labels, k=5, batch_size=500):
    """Accuracy of the k-nearest-neighbour vote (ties go to the smaller class index).

    Squared distances come from |a - b|^2 = |a|^2 - 2 a.b + |b|^2, one block of test
    points at a time, so 10,000 x 60,000 distances never sit in memory at once.
    """
    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    train_sq = (train ** 2).sum(axis=1)
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    correct = 0
    for start in range(0, len(test), batch_size):
        block = test[start:start + batch_size]
        d2 = (block ** 2).sum(axis=1)[:, None] - 2 * block @ train.T + train_sq[None, :]
        nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
        votes = np.zeros((len(block), n_classes), dtype=np.int64)
        np.add.at(votes, (np.arange(len(block))[:, None], train_labels[nearest]), 1)
        correct += int((votes.argmax(axis=1) == test_labels[start:start + batch_size]).sum())
    return correct / len(test)


def linear_probe_accuracy(train, train_labels, test, test_labels, epochs=20, lr=0.01,
                          weight_decay=1e-4, seed=0):
    """Test accuracy of softmax regression trained on standardised training features."""
    from minigen.models.classic import LogisticRegression
    train_s, test_s = standardise(np.asarray(train, dtype=np.float64),
                                  np.asarray(test, dtype=np.float64))
    probe = LogisticRegression(lr=lr, n_epochs=epochs, batch_size=128, weight_decay=weight_decay,
                               random_state=seed)
    probe.fit(train_s.astype(np.float32), train_labels)
    return float(probe.accuracy(test_s.astype(np.float32), test_labels))
