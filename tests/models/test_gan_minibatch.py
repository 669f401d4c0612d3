"""The discriminator options against mode collapse: what each builds, and a seeded run."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
from minigen.models.gan.minibatch import MINIBATCH_OPTIONS, discriminator_options, toy_discriminator
from minigen.models.gan.toy_run import train_toy

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
    """Same seed, same networks and steps: the non-saturating GAN on the 8-Gaussian ring."""
    kwargs = dict(loss="nonsaturating", steps=600, batch_size=64, hidden=32, seed=0, n_samples=2500)
    plain = train_toy("8gaussians", minibatch="none", **kwargs).numbers
    run = train_toy("8gaussians", minibatch="disc", **kwargs)
    assert run.samples.shape == (2500, 2) and run.samples.dtype == np.float32
    with_disc = run.numbers
    assert with_disc["modes_covered"] > plain["modes_covered"], (
        f"minibatch discrimination covers {with_disc['modes_covered']} modes "
        f"({100 * with_disc['high_quality']:.1f} % high quality), the plain GAN "
        f"{plain['modes_covered']} ({100 * plain['high_quality']:.1f} %)")


def test_packing_after_shared_layers():
    """pack_after=k: the first k layers see each sample alone (the same weights for each),
    then the m descriptions are concatenated for the rest of D."""
    mg.manual_seed(0)
    D = toy_discriminator("pack2", pack_after=1, hidden=8, depth=2)
    assert len(list(D.per_sample.parameters())) == 2 and D.body[0].in_features == 16
    x = mg.randn(4, 2)
    assert D(x).shape == (2, 1)
    first = D.per_sample(x[:1]).data
    np.testing.assert_allclose(D.per_sample(x).data[:1], first, rtol=1e-6)
    with pytest.raises(ValueError, match="pack_after"):
        toy_discriminator("pack2", pack_after=3, hidden=8, depth=2)
    with pytest.raises(ValueError, match="cannot be packed"):
        D(mg.randn(3, 2))


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


def test_dcgan_discriminator_with_minibatch_stddev_sees_its_group():
    """The stddev feature map joins D's last convolution: changing one image of a group of
    4 changes the verdicts on the other three (without the layer it does not).  As in
    ProGAN the groups are strided: of 8 images, 0, 2, 4, 6 form one group."""
    from minigen.models.gan import dcgan_discriminator
    mg.manual_seed(0)
    x = mg.randn(8, 1, 28, 28)
    changed = mg.tensor(np.concatenate([x.data[:1] * 3, x.data[1:]]))
    for with_layer in (True, False):
        D = dcgan_discriminator(channels=4, minibatch_stddev=with_layer).eval()
        assert D(x).shape == (8, 1)
        same = np.allclose(D(changed).data[2::2], D(x).data[2::2], atol=1e-6)
        assert same != with_layer, with_layer
        np.testing.assert_allclose(D(changed).data[1::2], D(x).data[1::2], atol=1e-6)  # other group
