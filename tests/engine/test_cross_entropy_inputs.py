"""cross_entropy: clear errors for empty batches and mis-shaped float targets; PyTorch's
probability targets (with class weights and label smoothing)."""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.function import ShapeError


def _scores(n=4, c=3, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal((n, c)).astype(np.float32),
                     requires_grad=True)


def test_empty_batch_mean_raises_clearly():
    empty = mg.tensor(np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match="batch is empty.*reduction='sum'"):
        F.cross_entropy(empty, np.zeros(0, np.int64))
    with pytest.raises(ValueError, match="batch is empty"):
        F.nll_loss(empty, np.zeros(0, np.int64))
    assert F.cross_entropy(empty, np.zeros(0, np.int64), reduction="sum").item() == 0.0
    assert F.cross_entropy(empty, np.zeros(0, np.int64), reduction="none").shape == (0,)


def test_all_ignored_targets_mean_raises_clearly():
    with pytest.raises(ValueError, match="every target is ignore_index"):
        F.cross_entropy(_scores(2), np.array([-100, -100]))


def test_float_target_of_wrong_shape_says_probabilities():
    with pytest.raises(ShapeError, match=r"class probabilities and must have the input's shape \(4, 3\), got \(4, 2\)"):
        F.cross_entropy(_scores(), np.full((4, 2), 0.5, np.float32))


def test_float_class_indices_say_cast_to_integers():
    with pytest.raises(TypeError, match=r"integer class indices, got dtype float32.*astype\('int64'\)"):
        F.cross_entropy(_scores(), np.array([0.0, 1.0, 2.0, 1.0], np.float32))


def test_probability_targets_equal_class_indices_on_one_hot():
    x = _scores()
    labels = np.array([0, 2, 1, 2])
    one_hot = np.eye(3, dtype=np.float32)[labels]
    np.testing.assert_allclose(F.cross_entropy(x, one_hot).item(), F.cross_entropy(x, labels).item(),
                               rtol=1e-6)


def test_probability_targets_with_weight_and_smoothing_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((5, 4, 2)).astype(np.float32)
    probs = rng.dirichlet(np.ones(4), size=(5, 2)).transpose(0, 2, 1).astype(np.float32)
    weight = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    for reduction in ("mean", "sum"):
        x = mg.tensor(scores, requires_grad=True)
        loss = F.cross_entropy(x, probs, weight=weight, label_smoothing=0.1, reduction=reduction)
        loss.backward()
        tx = torch.tensor(scores, requires_grad=True)
        tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(probs), weight=torch.tensor(weight),
                                                  label_smoothing=0.1, reduction=reduction)
        tloss.backward()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)
