"""demos/autoregressive.py end to end at a tiny size (a subprocess, as a user runs it), and
a seeded short MADE run that reaches a stated test NLL and reproduces it exactly."""
import json
import os
import sys

import demo_helpers
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "demos"))


def run_demo(out, *flags):
    return demo_helpers.run_demo("autoregressive.py", out, *flags)


def printed_paths(stdout):
    return [line.split()[-1] for line in stdout.splitlines()
            if line.strip().endswith((".png", ".gif", ".npy", ".json"))]


def test_pixelcnn_demo_end_to_end(tmp_path):
    out = run_demo(tmp_path, "--model", "pixelcnn", "--steps", "2", "--channels", "8", "--blocks", "1",
                   "--n-samples", "2", "--n-inpaint", "2", "--completions", "1", "--eval-n", "20")
    paths = printed_paths(out)
    names = {os.path.basename(p) for p in paths}
    assert {"samples.png", "sampling.gif", "inpainting_bottom.png", "receptive_field.png",
            "samples.npy", "results.json"} <= names
    for p in paths:
        assert os.path.getsize(p) > 100, p
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (2, 1, 28, 28) and samples.dtype == np.float32
    assert set(np.unique(samples)) <= {0.0, 1.0}
    results = json.load(open(tmp_path / "results.json"))
    assert results["steps"] == 2 and results["test_images"] == 20
    assert results["sampling_seconds_per_image"] > 0
    mse = results["inpainting_mse_bottom"]
    assert set(mse) == {"autoregressive", "autoregressive, one binary draw", "mean image"}


@pytest.mark.slow
@pytest.mark.parametrize("flags", [["--model", "fvsbn", "--vae-baseline", "1"],
                                   ["--model", "pixelcnn", "--gated", "--channels", "4", "--blocks", "1"],
                                   ["--model", "made", "--num-masks", "2", "--order", "random",
                                    "--hidden", "16"]])
def test_fvsbn_and_made_ensemble_demo(tmp_path, flags):
    out = run_demo(tmp_path, *flags, "--steps", "2", "--n-samples", "2", "--n-inpaint", "2",
                   "--eval-n", "10")
    results = json.load(open(tmp_path / "results.json"))
    if "--num-masks" in flags:
        assert "ensemble of 2" in out and "in-painting skipped" in out
        assert len(results["test_nll_per_mask"]) == 2
        # a mixture is never worse than its worst member (and here better than the mean)
        assert results["test_nll_ensemble"] <= max(results["test_nll_per_mask"]) + 1e-9
    else:
        assert results["inpainting_images"] == 2
    if "--vae-baseline" in flags:
        assert {"VAE pseudo-Gibbs", "VAE Metropolis-Gibbs", "VAE latent search"} <= \
            set(results["inpainting_mse_bottom"])


@pytest.mark.slow
def test_seeded_short_made_run_reaches_its_nll_and_reproduces(tmp_path):
    import autoregressive as demo
    argv = ["--model", "made", "--steps", "150", "--n-samples", "2", "--n-inpaint", "4",
            "--completions", "1"]
    first = demo.main(argv + ["--out", str(tmp_path / "a")])
    # 150 Adam steps of MADE 784-500-784 on the embedded subset: 315.3 nats here
    # (p = 1/2 for every pixel: 784 ln 2 = 543.4; the VAE's IS-NLL after 30 epochs: 249.4)
    assert first["test_nll"] < 325
    second = demo.main(argv + ["--out", str(tmp_path / "b")])
    assert second["test_nll"] == first["test_nll"]
    assert second["inpainting_mse_bottom"] == first["inpainting_mse_bottom"]
    np.testing.assert_array_equal(np.load(tmp_path / "a" / "samples.npy"),
                                  np.load(tmp_path / "b" / "samples.npy"))
