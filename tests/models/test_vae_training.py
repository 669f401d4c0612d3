"""Short training runs on fixed seeds, and the in-painting / probe helpers."""
import numpy as np
import pytest

import minigen as mg
from minigen.models.vae import VAE, Autoencoder, fit, load_fashion_mnist, load_model, prepare_test
from minigen.models.vae.inpainting import (MASKS, InpaintingNet, latent_optimisation, make_mask,
                                           mean_image_fill, metropolis_within_gibbs, missing_mse,
                                           pseudo_gibbs, train_inpainting_net)
from minigen.models.vae.representation import knn_accuracy, linear_probe_accuracy


@pytest.fixture(scope="module")
def data():
    return load_fashion_mnist(verbose=False)            # the embedded subset: offline


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """MLP VAE (784-200-10), 200 Adam steps of batch 128 on the embedded subset, seed 0."""
    mg.manual_seed(0)
    model = VAE.mlp(latent_dim=10, hidden=200)
    loop = fit(model, data.x_train, steps=200, out=str(tmp_path_factory.mktemp("vae")), progress=False)
    return model, loop


def test_short_run_reaches_stated_elbo(data, trained):
    """Stated number: test ELBO above -290 nats per image after 200 steps (measured -278.2;
    the untrained model is near -550)."""
    model, loop = trained
    assert loop.history[0]["elbo"] < -500
    elbo = model.evaluate_elbo(data.x_test_binary[:500])
    assert elbo["elbo"].mean() > -290
    assert 5 < elbo["kl"].mean() < 30                      # the latent is used, not collapsed
    # and the importance-sampled estimate sits above the ELBO
    mg.manual_seed(0)
    log_px = model.log_likelihood(data.x_test_binary[:100], k=50)
    assert log_px.mean() > elbo["elbo"][:100].mean() + 1


def test_training_is_reproducible(data, tmp_path):
    runs = []
    for i in range(2):
        mg.manual_seed(3)
        model = VAE.mlp(latent_dim=4, hidden=32)
        loop = fit(model, data.x_train, steps=5, out=str(tmp_path / str(i)), progress=False)
        runs.append([row["loss"] for row in loop.history])
    assert runs[0] == runs[1]


def test_checkpoint_round_trip(data, trained, tmp_path):
    model, loop = trained
    copy = VAE.mlp(latent_dim=10, hidden=200)
    load_model(copy, loop.out)
    x = data.x_test_binary[:4]
    np.testing.assert_array_equal(copy.reconstruct(x).numpy(), model.reconstruct(x).numpy())


@pytest.mark.parametrize("kind", ["iwae", "autoencoder", "gaussian"])
def test_other_objectives_train(data, tmp_path, kind):
    mg.manual_seed(0)
    if kind == "autoencoder":
        model, kwargs = Autoencoder.mlp(latent_dim=4, hidden=64), {}
    elif kind == "iwae":
        model, kwargs = VAE.mlp(latent_dim=4, hidden=64), {"objective": "iwae", "k": 5}
    else:
        model, kwargs = VAE.mlp(latent_dim=4, hidden=64, likelihood="gaussian"), {}
    loop = fit(model, data.x_train, steps=40, out=str(tmp_path), progress=False, **kwargs)
    losses = [row["loss"] for row in loop.history]
    assert np.isfinite(losses).all()
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 20


def test_masks():
    rng = np.random.default_rng(0)
    centre, left, random = (make_mask(k, 50, rng) for k in MASKS)
    assert centre.shape == (50, 784) and centre.dtype == bool
    assert (~centre).sum(1).tolist() == [196] * 50
    assert (~left).reshape(50, 28, 28)[:, :, :14].all() and left.reshape(50, 28, 28)[:, :, 14:].all()
    assert abs((~random).mean() - 0.5) < 0.02
    with pytest.raises(ValueError, match="rng"):
        make_mask("random", 2)
    with pytest.raises(ValueError, match="mask must be one of"):
        make_mask("top", 2)


def test_inpainting_methods_beat_the_mean_image(data, trained):
    model, _ = trained
    truth = data.x_test[:60]
    x = prepare_test(truth, "bernoulli")
    observed = make_mask("random", 60, np.random.default_rng(0))
    mean_image = data.x_train.mean(0)
    baseline = missing_mse(mean_image_fill(x, observed, mean_image), truth, observed)
    grads_before = [p.grad for p in model.parameters()]
    weights_before = [p.numpy().copy() for p in model.parameters()]
    mg.manual_seed(0)
    gibbs = pseudo_gibbs(model, x, observed, steps=20, burn_in=5, init=mean_image)
    mwg, rate = metropolis_within_gibbs(model, x, observed, steps=20, burn_in=5, init=mean_image)
    latent, objective = latent_optimisation(model, x, observed, steps=50, init=mean_image)
    for guess in (gibbs, mwg, latent):
        assert guess.shape == x.shape and 0 <= guess.min() and guess.max() <= 1
        assert missing_mse(guess, truth, observed) < 0.8 * baseline
    assert 0 < rate <= 1 and objective.shape == (60,)
    # the latent search differentiates with respect to z only: parameters and their
    # gradients are untouched
    assert all(p.grad is g for p, g in zip(model.parameters(), grads_before))
    assert all(np.array_equal(p.numpy(), w) for p, w in zip(model.parameters(), weights_before))


def test_direct_prediction_net_learns(data):
    mg.manual_seed(0)
    net = InpaintingNet(hidden=64)
    losses = train_inpainting_net(net, data.x_train, steps=40, batch_size=64)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    observed = make_mask("centre", 3)
    assert net.predict(data.x_test[:3], observed).shape == (3, 784)


def test_probes_on_separable_data():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 5)) * 10
    y = rng.integers(0, 3, 300)
    x = centres[y] + rng.standard_normal((300, 5))
    assert knn_accuracy(x[:200], y[:200], x[200:], y[200:], k=5) == 1.0
    assert linear_probe_accuracy(x[:200], y[:200], x[200:], y[200:], epochs=30) == 1.0
