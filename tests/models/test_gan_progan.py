"""Progressive growing: the fade-in blends exactly, the stages are checked, the demo runs."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.models.gan.progan import (GrowthSchedule, ProDiscriminator, ProGANTrainer,
                                       ProGenerator, growth_resolutions, real_at)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _players():
    mg.manual_seed(0)
    return ProGenerator(latent_dim=6, channels=(6, 4, 3)), ProDiscriminator(channels=(6, 4, 3))


def test_generator_fade_in_blends_the_upsampled_old_output_with_the_new_block():
    G, _ = _players()
    z = mg.randn(4, 6)
    for low, high in ((7, 14), (14, 28)):
        G.set_stage(low, 1.0)
        old = G(z)
        assert old.shape == (4, 1, low, low)
        G.set_stage(high, 0.0)
        assert np.allclose(G(z).data, F.interpolate(old, scale_factor=2).data, atol=1e-6)
        G.set_stage(high, 1.0)
        new = G(z)
        level = G.resolutions.index(high)
        h, _ = G.features(z, level)
        assert np.allclose(new.data, G.to_rgb[level](h).data, atol=1e-6)
        G.set_stage(high, 0.25)
        assert np.allclose(G(z).data, 0.75 * F.interpolate(old, scale_factor=2).data + 0.25 * new.data,
                           atol=1e-5)


def test_discriminator_fade_in_at_zero_is_the_smaller_critic_on_pooled_images():
    _, D = _players()
    x = mg.randn(4, 1, 28, 28)
    for low, high in ((7, 14), (14, 28)):
        x_high = real_at(x, high)
        D.set_stage(high, 0.0)
        faded = D(x_high)
        D.set_stage(low, 1.0)
        assert np.allclose(faded.data, D(F.avg_pool2d(x_high, 2)).data, atol=1e-5)
        D.set_stage(high, 1.0)
        assert not np.allclose(D(x_high).data, faded.data, atol=1e-4)
    # real images are blended like G's output: alpha = 0 is the upsampled half-resolution image
    assert np.allclose(real_at(x, 14, 0.0).data,
                       F.interpolate(real_at(x, 7), scale_factor=2).data, atol=1e-6)


def test_unreachable_resolution_and_bad_stages_are_clear_errors():
    assert growth_resolutions(7, 28) == [7, 14, 28]
    with pytest.raises(ValueError, match="resolution 30 is not reachable by doubling 7"):
        growth_resolutions(7, 30)
    with pytest.raises(ValueError, match="not reachable by doubling"):
        ProGenerator(final=32)
    G, D = _players()
    with pytest.raises(ValueError, match="resolution 21 is not one of"):
        G.set_stage(21)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        D.set_stage(14, 1.5)
    with pytest.raises(ValueError, match="nothing fades in at the first resolution"):
        G.set_stage(7, 0.5)
    D.set_stage(14)
    with pytest.raises(ValueError, match=r"expects \(N, 1, 14, 14\)"):
        D(mg.randn(4, 1, 28, 28))


def test_schedule_phases_and_alpha():
    s = GrowthSchedule([7, 14, 28], stable_steps=2, fade_steps=4)
    stages = [s.stage(t) for t in range(1, s.total_steps + 1)]
    assert s.total_steps == 2 + (4 + 2) + (4 + 2)
    assert [r for _, r, _ in stages] == [7] * 2 + [14] * 6 + [28] * 6
    assert [a for _, _, a in stages[2:6]] == [0.25, 0.5, 0.75, 1.0]
    assert stages[6][0] == "14x14" and stages[-1] == ("28x28", 28, 1.0)


def test_trainer_step_with_drift_penalty_moves_both_players():
    G, D = _players()
    adam = lambda m: mg.optim.Adam(m.parameters(), lr=1e-3, betas=(0.0, 0.99))
    trainer = ProGANTrainer(G, D, adam(G), adam(D))
    trainer.set_stage(14, 0.5)
    before = [p.data.copy() for p in D.from_rgb[1].parameters()] + [G.to_rgb[1].weight.data.copy()]
    stats = trainer.step(real_at(mg.randn(8, 1, 28, 28), 14, 0.5))
    after = [p.data for p in D.from_rgb[1].parameters()] + [G.to_rgb[1].weight.data]
    assert all(not np.allclose(a, b) for a, b in zip(before, after))
    assert stats["drift"] > 0 and stats["gp"] > 0
    assert np.isclose(stats["d_loss"], -stats["wasserstein"] + stats["gp"] + stats["drift"], rtol=1e-5)
    # the 28x28 block has not been used yet: it received no gradient
    assert G.blocks[1][1].weight.grad is None


@pytest.mark.slow
def test_progan_demo_runs_at_a_tiny_size(tmp_path):
    env = dict(os.environ, MINIGEN_TINY="1", MINIGEN_OFFLINE="1", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "demos", "progan.py"), "--out",
                             str(tmp_path), "--stable-steps", "1", "--fade-steps", "2",
                             "--n-samples", "8", "--snapshots", "2", "--batch-size", "8"],
                            capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.load(open(tmp_path / "results.json"))
    assert results["steps"] == 1 + 2 * (2 + 1)
    assert set(results["fd_per_phase"]) == {"7x7", "14x14", "28x28"}
    assert np.load(tmp_path / "samples.npy").shape == (16, 1, 28, 28)
    for name in ("phases.png", "samples.png", "curves.png"):
        assert os.path.getsize(tmp_path / name) > 1000
