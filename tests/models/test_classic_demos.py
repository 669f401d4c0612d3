"""The classic demos run end to end at a small size, write their PNGs and show their effect."""
import os

import pytest
from demo_helpers import load_demo as load


def check_pngs(paths):
    assert paths and all(p.endswith(".png") and os.path.getsize(p) > 1000 for p in paths)


@pytest.mark.slow
def test_joint_table_demo(tmp_path):
    paths = load("classic_joint_table").main(["--out", str(tmp_path), "--n-images", "300",
                                             "--n-patches", "20000", "--max-patches", "20000"])
    check_pngs(paths)
    assert len(paths) == 4


def test_factor_analysis_demo(tmp_path):
    result = load("classic_factor_analysis").main(["--out", str(tmp_path), "--n", "3000"])
    check_pngs(result["paths"])
    assert result["W_error"] < 0.1


@pytest.mark.slow
def test_pca_demo(tmp_path):
    result = load("classic_pca").main(["--out", str(tmp_path), "--n-train", "300", "--n-test", "100",
                                      "--k-samples", "10"])
    check_pngs(result["paths"])
    assert 5 <= result["best_k"] <= 100        # few images: the held-out likelihood peaks early


@pytest.mark.slow
def test_latent_dirichlet_demo(tmp_path):
    result = load("classic_latent_dirichlet").main(["--out", str(tmp_path), "--n-docs", "300", "--n-init", "2"])
    check_pngs(result["paths"])
    assert result["completion_perplexity"] < result["unigram_perplexity"]


@pytest.mark.slow
def test_classifiers_demo(tmp_path):
    result = load("classic_classifiers").main(["--out", str(tmp_path), "--n-train", "2000", "--n-test", "300",
                                              "--n-masked", "60", "--epochs", "3"])
    check_pngs(result["paths"])
    curves = result["missing"]
    # at 90% missing pixels the marginalising LDA beats the imputing logistic regression
    i = 4
    assert curves["LDA (shared cov.)"][i] > curves["logistic regression"][i] + 0.2


@pytest.mark.slow
def test_matrix_factorization_demo(tmp_path):
    result = load("classic_matrix_factorization").main(["--out", str(tmp_path), "--epochs", "8",
                                                       "--ranks", "2,5"])
    check_pngs(result["paths"])
    rmse = result["rmse"]
    assert rmse["latent factors, Adam"] < 1.2 * rmse["noise level (best possible)"]
    assert rmse["SVD, iterated x30"] < rmse["SVD, mean-imputed"]
