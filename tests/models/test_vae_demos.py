"""Every VAE demo runs end to end at a tiny setting (a subprocess, like a user would).

The README's main demo (demos/vae.py) is in the default suite; the others start their
own Python, import everything and train several small models, so they are marked slow
(each well under two minutes).
"""
import json
import os

import pytest
from demo_helpers import run_demo


def pngs_exist(stdout):
    paths = [line.split()[-1] for line in stdout.splitlines() if line.strip().endswith(".png")]
    assert paths, stdout
    for path in paths:
        assert os.path.getsize(path) > 1000, path
    return paths


def test_vae_demo(tmp_path):
    out = run_demo("vae.py", tmp_path, "--steps", "3", "--eval-k", "3", "--eval-n", "20",
                   "--n-samples", "50", "--trace")
    assert "ELBO" in out and "log p(x)" in out
    assert len(pngs_exist(out)) >= 5
    assert "Exp" in out and "encoder.0.weight" in out       # the traced reparameterisation
    results = json.load(open(tmp_path / "results.json"))
    assert results["steps"] == 3 and results["is_k"] == 3
    assert results["test_elbo"] == pytest.approx(-(results["test_reconstruction"] + results["test_kl"]))


@pytest.mark.slow
def test_vae_demo_options(tmp_path):
    """conv architecture, Gaussian decoder, IWAE objective and beta together."""
    out = run_demo("vae.py", tmp_path, "--steps", "2", "--arch", "conv", "--likelihood", "gaussian",
                   "--objective", "iwae", "--k", "2", "--beta", "2", "--latent-dim", "4",
                   "--eval-k", "2", "--eval-n", "10", "--n-samples", "20", "--batch-size", "16")
    assert "bits/dim" in out
    pngs_exist(out)


@pytest.mark.slow
def test_latent2d_demo(tmp_path):
    out = run_demo("vae_latent2d.py", tmp_path, "--steps", "3", "--grid", "3", "--n-samples", "50")
    assert "off-manifold" in out
    assert len(pngs_exist(out)) == 6


@pytest.mark.slow
def test_inpainting_demo(tmp_path):
    out = run_demo("vae_inpainting.py", tmp_path, "--steps", "3", "--net-steps", "3", "--n-test", "6",
                   "--gibbs-steps", "3", "--latent-steps", "2")
    assert "latent search" in out and "Metropolis" in out
    assert len(pngs_exist(out)) == 3
    table = json.load(open(tmp_path / "results.json"))["mse_missing"]
    assert set(table) == {"centre", "left", "random"}


@pytest.mark.slow
def test_anomaly_demo(tmp_path):
    out = run_demo("vae_anomaly.py", tmp_path, "--steps", "2", "--classes", "0", "--eval-k", "2")
    assert "AUROC" in out
    pngs_exist(out)
    results = json.load(open(tmp_path / "results.json"))
    assert 0 <= results["auroc"]["0"]["auroc_is_nll"] <= 1


@pytest.mark.slow
def test_representation_demo(tmp_path):
    out = run_demo("vae_representation.py", tmp_path, "--steps", "2", "--probe-epochs", "1")
    assert "linear probe" in out and "raw pixels" in out
    pngs_exist(out)
