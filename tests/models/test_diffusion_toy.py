"""demos/diffusion_toy.py end to end: mode coverage of a short seeded run, bit-for-bit
reproducibility of samples.npy, and an interrupted run resumed from its checkpoint."""
import json
import os

import numpy as np
import pytest
from demo_helpers import load_demo

@pytest.fixture(scope="module")
def demo():
    os.environ.setdefault("MPLBACKEND", "Agg")
    return load_demo("diffusion_toy")


TINY = ["--steps", "6", "--n-samples", "300", "--hidden", "16", "--depth", "1", "--train-size", "2000",
        "--batch-size", "64", "--sampler", "ddim", "--sample-steps", "5", "--eta", "0.5", "--table-samples", "300"]


def test_end_to_end_and_fixed_seed_gives_identical_samples(demo, tmp_path, capsys):
    a = demo.main(TINY + ["--out", str(tmp_path / "a"), "--ddim-table", "--data", "25gaussians", "--T", "100"])
    demo.main(TINY + ["--out", str(tmp_path / "b"), "--data", "25gaussians", "--T", "100"])
    out = capsys.readouterr().out
    for name in ("samples.png", "trajectory.png", "trajectory.gif", "eps_field.png", "loss.png"):
        assert os.path.getsize(tmp_path / "a" / name) > 1000, name
        assert str(tmp_path / "a" / name) in out
    x = np.load(tmp_path / "a" / "samples.npy")
    assert x.shape == (300, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, np.load(tmp_path / "b" / "samples.npy"))
    results = json.load(open(tmp_path / "a" / "results.json"))
    assert results["num_modes"] == 25 and 0 <= results["high_quality"] <= 1
    table = results["ddim_table"]
    assert {(r["S"], r["eta"]) for r in table} == {(S, eta) for S in (10, 20, 50, 100)
                                                   for eta in (0.0, 0.5, 1.0)} | {(100, "ddpm")}
    assert all("reconstruction_rmse" in r for r in table if r["eta"] == 0.0)
    assert a["steps"] == 6


def test_resume_equals_an_uninterrupted_run(demo, tmp_path, monkeypatch):
    args = TINY + ["--checkpoint-every", "3", "--data", "moons"]
    demo.main(args + ["--out", str(tmp_path / "straight")])

    class Crash(demo.Loop):                     # dies after step 4: only step 3's checkpoint exists
        def _after_step(self, bar):
            super()._after_step(bar)
            if self.step == 4:
                raise RuntimeError("simulated crash")
    monkeypatch.setattr(demo, "Loop", Crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        demo.main(args + ["--out", str(tmp_path / "resumed")])
    monkeypatch.setattr(demo, "Loop", Crash.__mro__[1])
    demo.main(args + ["--out", str(tmp_path / "resumed"), "--resume"])
    np.testing.assert_array_equal(np.load(tmp_path / "straight" / "samples.npy"),
                                  np.load(tmp_path / "resumed" / "samples.npy"))
    assert open(tmp_path / "straight" / "log.csv").read() == open(tmp_path / "resumed" / "log.csv").read()


def test_short_seeded_run_covers_all_eight_ring_modes(demo, tmp_path):
    results = demo.main(["--steps", "400", "--n-samples", "1000", "--hidden", "64", "--depth", "2",
                         "--train-size", "20000", "--batch-size", "256", "--sampler", "ddim",
                         "--sample-steps", "20", "--lr", "5e-3", "--out", str(tmp_path)])
    assert results["modes_covered"] == 8
    x = np.load(tmp_path / "samples.npy")                       # and no mode is starved
    modes = demo.toy_2d("8gaussians").modes
    nearest = np.linalg.norm(x[:, None] - modes[None], axis=2).argmin(axis=1)
    assert np.bincount(nearest, minlength=8).min() > 0.06 * len(x)
