"""The discriminator options against mode collapse: what each builds, and a seeded run."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
from minigen.models.gan.minibatch import (MINIBATCH_OPTIONS, discriminator_options,
                                          toy_discriminator, train_toy)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_each_option_builds_its_discriminator():
    mg.manual_seed(0)
    x = mg.randn(8, 2)
    layers = {"disc": nn.MinibatchDiscrimination, "stddev": nn.MinibatchStdDev}
    for option in MINIBATCH_OPTIONS:
        D = toy_discriminator(option, hidden=16, depth=2)
        pack = int(option[4:]) if option.startswith("pack") else 1
        assert D.pack == pack
        assert D(x).shape == (8 // pack, 1), option
        if option in layers:
            assert isinstance(D.minibatch, layers[option])
        else:
            assert D.minibatch is None
    with pytest.raises(ValueError, match="unknown minibatch option 'pack3'"):
        discriminator_options("pack3")


def test_minibatch_features_see_the_batch():
    """With a minibatch layer, D's verdict on a sample depends on the others in the batch."""
    mg.manual_seed(0)
    x = mg.randn(8, 2)
    for option in ("disc", "stddev"):
        D = toy_discriminator(option, hidden=16, depth=2)
        alone = D(x).data[:4]
        other = mg.tensor(np.concatenate([x.data[:4], x.data[:4]]))   # the rest replaced
        assert not np.allclose(D(other).data[:4], alone), option
    D = toy_discriminator("none", hidden=16, depth=2)
    assert np.allclose(D(mg.tensor(x.data[:4])).data, D(x).data[:4], atol=1e-6)


@pytest.mark.slow
def test_minibatch_discrimination_covers_more_modes_than_the_plain_gan():
    """Same seed, same networks and steps: the 8-Gaussian ring after 600 steps."""
    kwargs = dict(data="8gaussians", steps=600, batch_size=64, hidden=32, seed=0)
    plain, _ = train_toy("none", **kwargs)
    with_disc, samples = train_toy("disc", **kwargs)
    assert samples.shape == (2500, 2) and samples.dtype == np.float32
    assert with_disc["modes_covered"] > plain["modes_covered"], (
        f"minibatch discrimination covers {with_disc['modes_covered']} modes "
        f"({100 * with_disc['high_quality']:.1f} % high quality), the plain GAN "
        f"{plain['modes_covered']} ({100 * plain['high_quality']:.1f} %)")


@pytest.mark.slow
def test_modes_demo_runs_at_a_tiny_size(tmp_path):
    env = dict(os.environ, MINIGEN_TINY="1", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "demos", "gan_modes.py"), "--out",
                             str(tmp_path), "--steps", "2", "--data", "8gaussians"],
                            capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = open(tmp_path / "table.md").read()
    assert all(f"| 8gaussians | {o} |" in table for o in MINIBATCH_OPTIONS)
    assert os.path.getsize(tmp_path / "samples.png") > 1000
    assert np.load(tmp_path / "samples.npy").shape == (2500, 2)


def test_toy_demo_takes_the_minibatch_option(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    for option in ("pack4",):
        result = subprocess.run([sys.executable, os.path.join(ROOT, "demos", "gan_toy.py"), "--out",
                                 str(tmp_path / option), "--loss", "nonsaturating", "--minibatch",
                                 option, "--steps", "2", "--no-plots", "--hidden", "16"],
                                capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        settings = json.load(open(tmp_path / option / "results.json"))["settings"]
        assert settings["minibatch"] == option
