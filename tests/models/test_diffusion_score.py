"""Denoising score matching and (annealed) Langevin dynamics."""
import importlib.util
import json
import os

import numpy as np
import pytest

import minigen as mg
from minigen.models.diffusion import GaussianMixture
from minigen.models.diffusion.score import (NoiseConditionalScoreNet, annealed_langevin, dsm_loss,
                                            geometric_sigmas, langevin)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNEQUAL = GaussianMixture([[-0.7, -0.7], [0.7, 0.7]], std=0.1, weights=[0.8, 0.2])


def test_geometric_sigmas():
    s = geometric_sigmas(1.0, 0.01, 10)
    assert s[0] == pytest.approx(1.0) and s[-1] == pytest.approx(0.01) and len(s) == 10
    np.testing.assert_allclose(s[1:] / s[:-1], s[1] / s[0])
    with pytest.raises(ValueError):
        geometric_sigmas(0.01, 1.0)


def test_dsm_loss_gradcheck_and_level_errors():
    mg.manual_seed(0)
    sigmas = geometric_sigmas(1.0, 0.1, 3)
    net = NoiseConditionalScoreNet(sigmas, hidden=4, depth=1).double()
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    z = mg.tensor(rng.standard_normal((4, 2)))
    levels = np.array([0, 1, 2, 1])
    loss = lambda *_: dsm_loss(net, x, sigmas, levels=levels, z=z)
    assert mg.gradcheck(loss, list(net.parameters()) + [x]).ok
    with pytest.raises(ValueError, match=r"\[0, L\)"):
        dsm_loss(net, x, sigmas, levels=np.array([0, 1, 2, 3]), z=z)


def test_the_exact_score_minimises_denoising_score_matching():
    sigmas = geometric_sigmas(1.0, 0.01, 10)
    mg.manual_seed(0)
    x = mg.tensor(UNEQUAL.sample(20000, np.random.default_rng(0)).astype(np.float64))
    levels = mg.randint(0, 10, size=(20000,)).numpy()
    z = mg.randn(20000, 2, dtype=np.float64)
    exact = lambda y, i: UNEQUAL.score(y, sigmas[i])
    best = dsm_loss(exact, x, sigmas, levels, z).item()
    for wrong in (lambda y, i: 0.8 * exact(y, i), lambda y, i: 1.2 * exact(y, i),
                  lambda y, i: exact(y, i) + 0.3 / sigmas[i][:, None]):
        assert dsm_loss(wrong, x, sigmas, levels, z).item() > best


def test_plain_langevin_gets_the_weights_wrong_annealed_gets_them_right():
    sigmas = geometric_sigmas(1.0, 0.01, 10)
    mg.manual_seed(0)
    start = mg.rand(1500, 2, dtype=np.float64) * 4 - 2
    plain = langevin(lambda y: UNEQUAL.score(y, 0.0), start, 2e-3, 600).numpy()
    annealed = annealed_langevin(lambda y, i: UNEQUAL.score(y, sigmas[i]), start, sigmas,
                                 eps=2e-5, steps_per_level=60).numpy()
    share = lambda p: np.mean(p.sum(axis=1) < 0)                 # fraction in the 0.8 mode
    assert abs(share(plain) - 0.5) < 0.06                        # the basins' share, not 0.8
    assert abs(share(annealed) - 0.8) < 0.05
    assert np.abs(annealed).max() < 2                            # and the points sit on the modes


def test_score_langevin_demo_end_to_end(tmp_path):
    os.environ.setdefault("MPLBACKEND", "Agg")
    spec = importlib.util.spec_from_file_location("score_langevin", os.path.join(ROOT, "demos", "score_langevin.py"))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.main(["--steps", "5", "--n-samples", "200", "--steps-per-level", "5", "--hidden", "16",
               "--out", str(tmp_path)])
    results = json.load(open(tmp_path / "results.json"))
    assert results["true_weights"] == [0.8, 0.2]
    for key in ("plain_exact", "annealed_exact", "annealed_learned"):
        assert sum(results[key]["fractions"]) == pytest.approx(1.0)
    assert np.load(tmp_path / "samples.npy").shape == (200, 2)
    for name in ("samplers.png", "score_field.png", "annealing.png"):
        assert os.path.getsize(tmp_path / name) > 1000
