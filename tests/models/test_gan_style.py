"""StyleGAN ideas: style mixing, truncation, the mapping's w average, and the demo end to end."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minigen as mg
from minigen.models.gan.style import MappingNetwork, StyleGenerator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _generator(**kwargs):
    mg.manual_seed(0)
    G = StyleGenerator(latent_dim=6, w_dim=5, channels=(6, 4, 3), mapping_layers=2, **kwargs)
    for p in G.parameters():            # noise scales and style maps start trivial: wake them
        p.data = p.data + 0.3 * mg.randn(*p.shape).data
    return G.eval()


def test_style_mixing_with_the_same_latent_twice_is_no_mixing():
    G = _generator()
    z, other = mg.randn(3, 6), mg.randn(3, 6)
    noise = G.make_noise(3)
    plain = G.synthesis(G.mapping(z), noise)
    assert plain.shape == (3, 1, 28, 28) and G.num_styles == 6
    for crossover in (0, 2, 5, 6):
        assert np.allclose(G.mix(z, z, crossover, noise=noise).data, plain.data, atol=1e-6)
    # with two latents the result changes, and crossover = num_styles is the first alone
    assert not np.allclose(G.mix(z, other, 2, noise=noise).data, plain.data, atol=1e-4)
    assert np.allclose(G.mix(z, other, 6, noise=noise).data, plain.data, atol=1e-6)
    # coarse layers only: a mix at 2 differs less from z's image than the full swap does
    full = G.mix(other, other, 6, noise=noise).data
    mixed = G.mix(other, z, 2, noise=noise).data
    assert np.abs(mixed - plain.data).mean() < np.abs(full - plain.data).mean()
    with pytest.raises(ValueError, match=r"crossover must be in \[0, 6\]"):
        G.mix(z, other, 7)


def test_truncation_psi_range_and_limits():
    G = _generator()
    G.w_avg[...] = np.linspace(-1, 1, 5)
    z = mg.randn(4, 6)
    w = G.mapping(z)
    assert np.allclose(G.truncate(w, 1.0).data, w.data)
    assert np.allclose(G.truncate(w, 0.0).data, np.broadcast_to(G.w_avg, (4, 5)))
    assert np.allclose(G.truncate(w, 0.5).data, 0.5 * (w.data + G.w_avg))
    still = [n * 0.0 for n in G.make_noise(4)]             # no noise: only w matters
    at_zero = G(z, psi=0.0, noise=still).data
    assert np.allclose(at_zero, at_zero[:1], atol=1e-6)    # every z gives the average image
    for psi in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"truncation psi must be in \[0, 1\]"):
            G(z, psi=psi)


def test_training_mode_tracks_w_avg_and_mixes():
    G = _generator(mixing_prob=1.0).train()
    before = G.w_avg.copy()
    z = mg.randn(8, 6)
    G(z)
    mean_w = G.mapping(z).data.mean(axis=0)
    assert np.allclose(G.w_avg, before + 0.005 * (mean_w - before), atol=1e-6)
    # mixing regularisation draws a second latent: the same z gives another image
    noise = G.make_noise(8)
    mg.manual_seed(3)
    mixed = G(z, noise=noise).data
    assert not np.allclose(mixed, G.eval()(z, noise=noise).data, atol=1e-4)


def test_mapping_network_learns_slowly_and_generator_gradients_flow():
    mg.manual_seed(0)
    f = MappingNetwork(4, 4, layers=2, lr_multiplier=0.01)
    assert f.net[1].scale == pytest.approx(0.01 * np.sqrt(2) / 2)
    assert abs(f.net[1].weight.data.std() - 100) < 40      # stored N(0, 1 / 0.01^2)
    G = _generator()
    G(mg.randn(2, 6)).mean().backward()
    for name in ("constant", "mapping.net.1.weight", "layers.0.noise.weight",
                 "layers.3.adain.affine.weight", "to_rgb.weight"):
        assert dict(G.named_parameters())[name].grad is not None, name


@pytest.mark.slow
def test_stylegan_demo_runs_at_a_tiny_size(tmp_path):
    env = dict(os.environ, MINIGEN_TINY="1", MINIGEN_OFFLINE="1", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "demos", "stylegan.py"), "--out",
                             str(tmp_path), "--steps", "2", "--batch-size", "8", "--n-samples",
                             "12", "--n-probe", "40"],
                            capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.load(open(tmp_path / "results.json"))
    assert results["steps"] == 2
    assert sorted(float(k) for k in results["truncation"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert {"accuracy_z", "accuracy_w", "majority_baseline"} <= set(results["linear_probe"])
    assert np.load(tmp_path / "samples.npy").shape == (12, 1, 28, 28)
    for name in ("samples.png", "mixing.png", "truncation.png", "curves.png"):
        assert os.path.getsize(tmp_path / name) > 1000
