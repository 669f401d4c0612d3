"""GANTrainer: the alternating step, frozen players, clipping, EMA, exact resume, errors."""
import numpy as np
import pytest

import minigen as mg
from minigen.data import DataLoader, toy_2d
from minigen.models.gan import (GANTrainer, ToyDiscriminator, ToyGenerator, checked_resume,
                                dcgan_discriminator, dcgan_generator)
from minigen.train import Loop


def make_trainer(loss="wgan-gp", n_critic=2, hidden=16, ema_decay=0.9, seed=0, **kw):
    mg.manual_seed(seed)
    G, D = ToyGenerator(hidden=hidden, depth=2), ToyDiscriminator(hidden=hidden, depth=2)
    opt_g = mg.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_d = mg.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
    return GANTrainer(G, D, opt_g, opt_d, loss=loss, n_critic=n_critic, ema_decay=ema_decay, **kw)


def toy_loader(trainer, batch_size=8):
    x = toy_2d("8gaussians").sample(256, seed=0)
    return DataLoader(x, trainer.loader_batch_size(batch_size), seed=0, drop_last=True)


def run(out, steps, resume=False, **kw):
    trainer = make_trainer(**kw)
    loop = Loop(toy_loader(trainer), steps=steps, out=str(out), resume=resume, progress=False,
                checkpoint_every=0, state=trainer.state())
    for real in checked_resume(loop):
        loop.log(**trainer.step(real))
    return trainer, loop


def params(module):
    return [p.data.copy() for p in module.parameters()]


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path, loss):
    whole, _ = run(tmp_path / "whole", 6, loss=loss)
    run(tmp_path / "split", 3, loss=loss)
    resumed, loop = run(tmp_path / "split", 6, resume=True, loss=loss)
    for a, b in zip(params(whole.G) + params(whole.D) + whole.ema.shadow,
                    params(resumed.G) + params(resumed.D) + resumed.ema.shadow):
        np.testing.assert_array_equal(a, b)
    assert [r["step"] for r in loop.history] == list(range(1, 7))
    z = mg.randn(5, 2)
    np.testing.assert_array_equal(whole.G(z).numpy(), resumed.G(z).numpy())


def test_a_step_updates_both_players_and_the_frozen_one_gets_no_gradient():
    trainer = make_trainer(loss="nonsaturating", n_critic=3)
    g0, d0 = params(trainer.G), params(trainer.D)
    real = mg.tensor(toy_2d("8gaussians").sample(24, seed=1))
    stats = trainer.step(real)
    assert set(stats) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.any(a != b) for a, b in zip(g0, params(trainer.G)))
    assert all(np.any(a != b) for a, b in zip(d0, params(trainer.D)))
    # G's turn leaves D's gradients (those of D's own last turn) untouched, and D's
    # turn writes none into G: each is frozen (requires_grad False) while the other plays
    fresh = make_trainer(loss="nonsaturating", n_critic=1)
    fresh.d_step(real[:8])
    assert all(p.grad is None for p in fresh.G.parameters())
    d_grads = [p.grad.numpy().copy() for p in fresh.D.parameters()]
    fresh.g_step(8)
    for g, p in zip(d_grads, fresh.D.parameters()):
        np.testing.assert_array_equal(g, p.grad.numpy())
    assert all(p.requires_grad for m in (fresh.D, fresh.G) for p in m.parameters())


def test_wgan_clips_the_critic_and_gp_logs_the_penalty():
    trainer = make_trainer(loss="wgan", n_critic=1, ema_decay=None)
    assert trainer.clip == 0.01
    trainer.step(mg.tensor(toy_2d("8gaussians").sample(8, seed=1)))
    assert max(np.abs(p.data).max() for p in trainer.D.parameters()) <= 0.01
    gp = make_trainer(loss="wgan-gp", n_critic=1)
    stats = gp.step(mg.tensor(toy_2d("8gaussians").sample(8, seed=1)))
    assert stats["gp"] > 0 and "wasserstein" in stats


def test_n_critic_must_be_at_least_one():
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="n_critic"):
            make_trainer(n_critic=bad)


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown GAN loss 'hinge'.*wgan-gp"):
        make_trainer(loss="hinge")


def test_mismatched_image_sizes_are_a_clear_error():
    mg.manual_seed(0)
    G, D = dcgan_generator(latent_dim=4, channels=2), dcgan_discriminator(channels=2)
    trainer = GANTrainer(G, D, mg.optim.Adam(G.parameters()), mg.optim.Adam(D.parameters()))
    with pytest.raises(ValueError, match=r"\(1, 28, 28\).*\(1, 32, 32\)"):
        trainer.step(mg.randn(4, 1, 32, 32))


def test_a_checkpoint_of_another_architecture_is_a_clear_error(tmp_path):
    run(tmp_path, 2, hidden=16)
    with pytest.raises(ValueError, match="(?s)another architecture.*wrong shape"):
        run(tmp_path, 4, resume=True, hidden=32)
