"""The bench of every family (demos/compare.py, minigen.compare): it runs end to end at a
tiny size, every row is present, and every built row goes through the same measuring code."""
import os

import numpy as np
import pytest
from demo_helpers import load_demo

from minigen import compare


def _demo():
    return load_demo("compare", "demo_compare")


def test_conditional_gaussian_fill_is_the_gaussian_conditional_mean():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    cov, mean = a @ a.T + np.eye(4), rng.standard_normal(4)
    x = rng.standard_normal((2, 4))
    observed = np.array([[True, False, True, False], [False, True, True, True]])
    filled = compare.conditional_gaussian_fill(x, observed, mean, cov)
    # row 0 by the block formula written out: x_m = mu_m + C_mo C_oo^-1 (x_o - mu_o)
    o, m = [0, 2], [1, 3]
    expected = mean[m] + cov[np.ix_(m, o)] @ np.linalg.inv(cov[np.ix_(o, o)]) @ (x[0, o] - mean[o])
    np.testing.assert_allclose(filled[0, m], expected, rtol=1e-5)
    np.testing.assert_array_equal(filled[:, :][observed], x[observed].astype(np.float32))


def test_a_missing_family_is_marked_not_built_in_every_column():
    row = compare.not_built("X", "x", "implicit", "absent")
    assert row["status"] == compare.NOT_BUILT
    assert all(row[k] == compare.NOT_BUILT for k in compare.COLUMNS)


def test_bench_holds_out_the_anomaly_class():
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 784)).astype(np.float32), np.arange(50) % 10
    bench = compare.make_bench(x, y, x, y, anomaly_class=3, n_inpaint=4)
    assert 3 not in set(bench.y_train) and 3 not in set(bench.y_test)
    assert len(bench.x_anomaly) == 5 and set(bench.masks) == {"centre", "left", "random"}
    with pytest.raises(ValueError, match="anomaly_class"):
        compare.make_bench(x, y, x, y, anomaly_class=11)


@pytest.mark.slow
def test_every_family_end_to_end_through_one_measuring_call(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGEN_TINY", "1")
    demo = _demo()
    calls = {"measure_row": [], "sample_quality": 0}
    measure, quality = compare.measure_row, compare.sample_quality

    def counted_measure(candidate, bench):
        calls["measure_row"].append(candidate.name)
        return measure(candidate, bench)

    def counted_quality(samples, bench):
        calls["sample_quality"] += 1
        return quality(samples, bench)
    monkeypatch.setattr(compare, "measure_row", counted_measure)
    monkeypatch.setattr(compare, "sample_quality", counted_quality)
    rows = demo.main(["--out", str(tmp_path), "--n-train", "200", "--n-test", "120",
                      "--n-samples", "20", "--n-inpaint", "4", "--steps", "2"])
    names = [r["model"] for r in rows]
    assert names == [b[0] for b in demo.BUILDERS] + [e[0] for e in demo.NOT_ON_BENCH]
    built = [r for r in rows if r["status"] == "built"]
    # one call path: every built row came from measure_row, which measured its samples once
    assert calls["measure_row"] == [r["model"] for r in built]
    assert calls["sample_quality"] == len(built) == len(demo.BUILDERS)
    for r in built:
        assert np.isfinite(r["fd"]) and 0 <= r["precision"] <= 1 and r["parameters"] > 0
        assert r["anomaly_auroc"] == compare.NONE or 0 <= r["anomaly_auroc"] <= 1
    for r in rows[len(built):]:
        assert r["status"] == compare.NOT_BUILT and r["fd"] == compare.NOT_BUILT
    gan = next(r for r in rows if r["family"] == "gan")
    assert gan["likelihood"] == compare.NONE                     # no likelihood for a GAN
    assert os.path.exists(tmp_path / "results.json") and os.path.exists(tmp_path / "compare.png")
    assert "| DCGAN |" in (tmp_path / "table.md").read_text()


def test_from_dir_measures_saved_samples_and_marks_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGEN_TINY", "1")
    demo = _demo()
    saved = tmp_path / "runs" / "dcgan"
    saved.mkdir(parents=True)
    np.save(saved / "samples.npy", np.random.default_rng(0).random((30, 1, 28, 28)).astype(np.float32))
    (saved / "results.json").write_text('{"parameters": 123, "train_seconds": 4.5}')
    rows = demo.main(["--out", str(tmp_path / "out"), "--from", str(tmp_path / "runs"),
                      "--n-test", "120", "--n-samples", "20"])
    by_name = {r["model"]: r for r in rows}
    assert by_name["DCGAN"]["status"] == "built" and by_name["DCGAN"]["parameters"] == 123
    assert np.isfinite(by_name["DCGAN"]["fd"])
    assert all(r["status"] == compare.NOT_BUILT for n, r in by_name.items() if n != "DCGAN")


def test_latent_search_finds_the_z_behind_the_observed_pixels():
    """A linear 'generator' G(z) = A z with more observed pixels than latent dimensions: the
    search recovers z* from the seen pixels, so the unseen ones come out right too."""
    import minigen as mg
    rng = np.random.default_rng(0)
    A = mg.tensor(rng.standard_normal((6, 30)).astype(np.float32))
    z_true = rng.standard_normal((3, 6)).astype(np.float32)
    x = z_true @ A.numpy()
    observed = rng.random((3, 30)) < 0.6
    generate = lambda z: z @ A
    before = compare.latent_search_inpaint(generate, 6, x, observed, steps=0)
    after = compare.latent_search_inpaint(generate, 6, x, observed, steps=400, lr=0.05, prior_weight=0.0)
    missing = ~observed
    assert np.mean((after[missing] - x[missing]) ** 2) < 1e-3 * np.mean((before[missing] - x[missing]) ** 2)
    np.testing.assert_allclose(after, x, atol=0.02)


def test_patch_tables_are_a_normalised_image_model_with_exact_block_conditionals():
    """2x2 blocks of 4x4 images: every one of the 2^16 images gets a probability and they
    sum to 1; in-painting a block is that block's exact conditional mean; samples are binary."""
    rng = np.random.default_rng(0)
    x = (rng.random((40, 16)) < 0.4).astype(np.float32)
    model = compare.PatchTables(side=4, block=2, alpha=0.5).fit(x)
    everything = ((np.arange(2 ** 16)[:, None] >> np.arange(16)) & 1).astype(np.float32)
    assert np.exp(model.log_prob(everything)).sum() == pytest.approx(1.0, abs=1e-9)
    assert model.parameters == 4 * (2 ** 4 - 1)
    samples = model.sample(5, np.random.default_rng(1))
    assert samples.shape == (5, 16) and set(np.unique(samples)) <= {0.0, 1.0}
    # observe all of image 0 but pixel 0 (block 0's top-left): its fill is p(x_0 = 1 | rest of block 0)
    observed = np.ones((1, 16), dtype=bool)
    observed[0, 0] = False
    fill = model.inpaint_mean(x[:1], observed)[0, 0]
    one, zero = x[:1].copy(), x[:1].copy()
    one[0, 0], zero[0, 0] = 1, 0
    p1, p0 = np.exp(model.log_prob(one)), np.exp(model.log_prob(zero))
    assert fill == pytest.approx(float((p1 / (p1 + p0))[0]), rel=1e-5)
    with pytest.raises(ValueError, match="multiple of the block"):
        compare.PatchTables(side=5, block=2)


def test_ddpm_row_reports_its_bound_in_bits_per_dim_of_the_8bit_images():
    """nll_space "discrete": the per-image nats are turned into bits/dim as they are."""
    rng = np.random.default_rng(0)
    x, y = (rng.integers(0, 256, (40, 784)) / 255).astype(np.float32), np.arange(40) % 10
    bench = compare.make_bench(x, y, x, y, n_samples=4, n_inpaint=2)
    seen = []
    c = compare.Candidate("d", "diffusion", "explicit approximate", 1, 0.0,
                          sample=lambda n: rng.random((n, 784)),
                          nll=lambda imgs: seen.append(imgs) or np.full(len(imgs), 784 * np.log(2) * 3.0),
                          nll_kind="bound", nll_space="discrete")
    row = compare._likelihood(c, bench)
    assert row["likelihood"] == pytest.approx(3.0) and "8-bit" in row["likelihood_unit"]
    np.testing.assert_array_equal(seen[0] * 255, np.round(seen[0] * 255))    # on the 8-bit grid
    c.nll_space = "nats?"
    with pytest.raises(ValueError, match="nll_space"):
        compare._likelihood(c, bench)


def test_only_measures_the_named_models(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGEN_TINY", "1")
    demo = _demo()
    rows = demo.main(["--out", str(tmp_path), "--n-train", "200", "--n-test", "120", "--n-samples", "20",
                      "--n-inpaint", "4", "--steps", "2", "--only", "patches", "pca"])
    measured = [r["model"] for r in rows if r["status"] == "built"]
    assert measured == ["joint 4x4-patch table", "PCA (PPCA, 32)"]
    assert all(r["fd"] == "not measured" for r in rows if r["status"] != "built")
    with pytest.raises(SystemExit, match="unknown"):
        demo.main(["--out", str(tmp_path), "--only", "pixelrnn"])
