"""The image diffusion demos end to end at a tiny size (in-process, a few steps each)."""
import json
import os

import numpy as np
from demo_helpers import load_demo

def test_ddpm_demo_tiny(tmp_path, capsys):
    demo = load_demo("ddpm")
    demo.main(["--steps", "2", "--channels", "4", "--n-eval", "8", "--n-samples", "8", "--sample-steps", "2",
               "--vlb-n", "2", "--vlb-steps", "2", "--T", "20", "--batch-size", "4", "--attention",
               "--out", str(tmp_path)])
    out = capsys.readouterr().out
    x = np.load(tmp_path / "samples.npy")
    assert x.shape == (8, 1, 28, 28) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    results = json.load(open(tmp_path / "results.json"))
    assert results["steps"] == 2 and results["vlb_bits_per_dim"] > 0
    parts = results["vlb_prior"] + results["vlb_denoising"] + results["vlb_decoder"]
    assert abs(results["vlb_nats"] - parts) < 1e-6 * results["vlb_nats"]
    for name in ("trajectory.png", "trajectory.gif", "samples.png", "grid_epoch1.png"):
        assert os.path.getsize(tmp_path / name) > 500 and str(tmp_path / name) in out


def test_ddpm_demo_ddim_table_on_resume(tmp_path, capsys):
    """A finished run resumed with --ddim-table only evaluates: one row per (S, eta), FD/KID
    in each, the eta = 0 round trip in [0, 1] and exact-ish at S = T (the map is invertible)."""
    demo = load_demo("ddpm")
    common = ["--steps", "2", "--channels", "4", "--n-eval", "8", "--n-samples", "8", "--sample-steps", "2",
              "--vlb-n", "2", "--vlb-steps", "2", "--T", "10", "--batch-size", "4", "--out", str(tmp_path)]
    demo.main(common)
    results = demo.main(common + ["--resume", "--ddim-table", "--table-steps", "2", "10", "--table-etas", "0", "1",
                                  "--table-samples", "8", "--table-encode", "3"])
    assert results["steps"] == 2
    table = results["ddim_table"]
    assert [(r["S"], r["eta"]) for r in table] == [(2, 0.0), (2, 1.0), (10, 0.0), (10, 1.0)]
    assert all(np.isfinite(r["fd"]) and r["kid"] == r["kid"] for r in table)
    errors = {r["S"]: r["reconstruction_rmse"] for r in table if r["eta"] == 0}
    assert set(errors) == {2, 10} and all(0 <= e <= 1 for e in errors.values())
    assert "eta" not in [k for r in table if r["eta"] == 1 for k in r if k == "reconstruction_rmse"]
    assert "DDIM table" in capsys.readouterr().out


def test_diffusion_inpainting_demo_tiny(tmp_path, capsys):
    demo = load_demo("diffusion_inpainting")
    results = demo.main(["--steps", "2", "--channels", "4", "--batch-size", "4", "--n-test", "3",
                         "--sample-steps", "4", "--jump-length", "2", "--resample", "2",
                         "--out", str(tmp_path), "--vae-results", str(tmp_path / "none.json")])
    out = capsys.readouterr().out
    assert results["network_calls_per_image"] == 4 + 1 * 1 * 2
    assert results["replacement_network_calls_per_image"] == 4      # no jumps back: S calls
    for kind in ("centre", "left", "random"):
        row = results["mse_missing"][kind]
        assert row["known_pixels_exact"] and 0 <= row["RePaint"] <= 1 and 0 <= row["replacement"] <= 1
        assert os.path.getsize(tmp_path / f"repaint_{kind}.png") > 1000
    assert "network calls per image" in out


def test_diffusion_forward_demo(tmp_path, capsys):
    numbers = load_demo("diffusion_forward").main(["--out", str(tmp_path)])
    assert numbers["cosine"]["alpha_bar_T/2"] > numbers["linear"]["alpha_bar_T/2"]
    for name in ("schedules.png", "forward_toy.png", "forward_image.png"):
        assert os.path.getsize(tmp_path / name) > 1000
