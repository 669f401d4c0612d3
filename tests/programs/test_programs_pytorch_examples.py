"""PyTorch example programs, unchanged but for their import lines, run on minigen.

The four programs of this folder (the MNIST VAE, a small DCGAN, the MNIST CNN with
Adadelta + StepLR, micrograd's engine test) run here at a tiny size on the embedded
Fashion-MNIST images. When PyTorch is installed, the same source with its PyTorch import
lines runs too, from the same weights (copied from minigen's model) on the same batches
and the same noise (both programs' `torch.randn` / `randn_like` draw from one NumPy
stream), and the losses must agree step by step.
"""
import math

import numpy as np
import pytest

import minigen as mg
from minigen.data import EMBEDDED_PATH
import programs

IMPORT_PREFIXES = ("import torch_alias", "from torch_alias import")
NAMES = ["vae_mnist", "mnist_cnn", "dcgan", "micrograd_engine"]


def _images(n, offset=0):
    """n Fashion-MNIST images (N, 1, 28, 28) in [0, 1], and their labels (int64)."""
    data = np.load(EMBEDDED_PATH)
    x = data["train_images"][offset:offset + n].astype(np.float32)[:, None] / 255.0
    return x, data["train_labels"][offset:offset + n].astype(np.int64)


def _copy_weights(state, theirs, torch):
    """Load a minigen model's state dict into the torch model `theirs` (all keys)."""
    state = {k: torch.tensor(np.array(v)) for k, v in state.items()}
    result = theirs.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def _shared_noise(monkeypatch, program, library, seed=0):
    """Make the program's torch.randn / randn_like draw from a NumPy stream: the same
    numbers for both libraries (their own generators differ)."""
    rng = np.random.default_rng(seed)

    def draw(shape):
        return program.torch.tensor(rng.standard_normal(tuple(shape)).astype(np.float32))

    monkeypatch.setattr(program.torch, "randn_like", lambda t, **kw: draw(t.shape))
    monkeypatch.setattr(program.torch, "randn",
                        lambda *shape, **kw: draw(shape[0] if len(shape) == 1 and
                                                  isinstance(shape[0], (tuple, list)) else shape))


@pytest.mark.parametrize("name", NAMES)
def test_only_import_lines_differ_from_the_pytorch_program(name):
    changed = programs.changed_lines(name)
    assert changed, f"{name}.py marks no line with '# torch:'"
    for ours, theirs in changed:
        assert ours.startswith(IMPORT_PREFIXES), ours
        assert theirs.startswith(("import torch", "from torch")), theirs


# ------------------------------------------------------------------ micrograd
def test_micrograd_engine_test_passes_on_minigen():
    program = programs.load("micrograd_engine")
    y, x_grad = program.sanity_check()
    assert (y, x_grad) == (-20.0, 46.0)
    g, a_grad, b_grad = program.more_ops()
    assert g == pytest.approx(24.70408163265306) and a_grad == pytest.approx(138.83381924198252)
    assert b_grad == pytest.approx(645.5772594752186)


def test_micrograd_engine_test_passes_on_pytorch():
    pytest.importorskip("torch")
    program = programs.load("micrograd_engine", "torch")
    assert program.sanity_check() == (-20.0, 46.0)
    assert program.more_ops()[0] == pytest.approx(24.70408163265306)


# ------------------------------------------------------------------ VAE
def _vae_losses(library, monkeypatch, x, weights_from=None):
    program = programs.load("vae_mnist", library)
    _shared_noise(monkeypatch, program, library)
    torch = program.torch
    program.torch.manual_seed(0)
    model = program.VAE()
    if weights_from is not None:
        _copy_weights(weights_from, model, torch)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.zeros(len(x))), batch_size=32, shuffle=False)
    optimizer = program.optim.Adam(model.parameters(), lr=1e-3)
    losses = program.train(model, torch.device("cpu"), loader, optimizer, 1)
    test_loss = program.test(model, torch.device("cpu"), loader)
    return model, losses, test_loss


def test_vae_program_trains_on_minigen(monkeypatch):
    x, _ = _images(160)
    _, losses, test_loss = _vae_losses("minigen", monkeypatch, x)
    assert all(math.isfinite(v) for v in losses) and math.isfinite(test_loss)
    assert test_loss < 0.9 * losses[0]             # 5 Adam steps already cut the loss


def test_vae_program_main_runs_end_to_end():
    x, _ = _images(64)
    program = programs.load("vae_mnist")
    test_loss, sample = program.main(x, x[:32], ["--epochs", "1", "--batch-size", "32"])
    assert math.isfinite(test_loss) and sample.shape == (64, 784)
    assert 0.0 <= float(sample.min()) and float(sample.max()) <= 1.0


def test_vae_program_matches_pytorch(monkeypatch):
    pytest.importorskip("torch")
    x, _ = _images(160)
    ours, our_losses, our_test = _vae_losses("minigen", monkeypatch, x)
    start = programs.load("vae_mnist")
    start.torch.manual_seed(0)
    initial = start.VAE()                          # the same initial weights as `ours` had
    _, their_losses, their_test = _vae_losses("torch", monkeypatch, x, weights_from=initial.state_dict())
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5)
    assert our_test == pytest.approx(their_test, rel=1e-5)


# ------------------------------------------------------------------ MNIST CNN
TINY_CNN = dict(c1=4, c2=8, hidden=16)


def _cnn_run(library, x, y, weights_from=None, epochs=2):
    program = programs.load("mnist_cnn", library)
    torch = program.torch
    torch.manual_seed(0)
    model = program.Net(**TINY_CNN, p1=0.0, p2=0.0)       # no dropout: no random masks to match
    if weights_from is not None:
        _copy_weights(weights_from, model, torch)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=16, shuffle=False)
    args = program.parse(["--log-interval", "100"])
    optimizer = program.optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = program.StepLR(optimizer, step_size=1, gamma=args.gamma)
    losses = []
    for epoch in range(1, epochs + 1):
        losses += program.train(args, model, torch.device("cpu"), loader, optimizer, epoch)
        result = program.test(model, torch.device("cpu"), loader)
        scheduler.step()
    return model, losses, result, optimizer.param_groups[0]["lr"]


def test_mnist_cnn_program_main_runs_with_dropout_and_the_scheduler():
    x, y = _images(96)
    program = programs.load("mnist_cnn")
    (test_loss, correct), lr = program.main(
        x, y, x[:32], y[:32], ["--epochs", "2", "--batch-size", "32", "--widths", "4", "8", "16"])
    assert math.isfinite(test_loss) and 0 <= correct <= 32
    assert lr == pytest.approx(1.0 * 0.7 ** 2)


def test_mnist_cnn_program_matches_pytorch():
    pytest.importorskip("torch")
    x, y = _images(64)
    _, our_losses, (our_test, our_correct), our_lr = _cnn_run("minigen", x, y)
    # the minigen run started from its own seeded weights; start torch from the same ones
    mg.manual_seed(0)
    initial = programs.load("mnist_cnn").Net(**TINY_CNN, p1=0.0, p2=0.0)
    _, their_losses, (their_test, their_correct), their_lr = _cnn_run("torch", x, y,
                                                                      weights_from=initial.state_dict())
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5)
    assert our_test == pytest.approx(their_test, rel=1e-5) and our_correct == their_correct
    assert our_lr == pytest.approx(their_lr)


# ------------------------------------------------------------------ DCGAN
def _gan_images(n):
    x, _ = _images(n)
    small = x.reshape(n, 1, 14, 2, 14, 2).mean(axis=(3, 5))           # 14 x 14
    return (np.pad(small, ((0, 0), (0, 0), (1, 1), (1, 1))) * 2.0 - 1.0).astype(np.float32)


def _dcgan_run(library, monkeypatch, images, weights_from=None):
    program = programs.load("dcgan", library)
    _shared_noise(monkeypatch, program, library, seed=1)
    torch = program.torch
    if weights_from is None:
        torch.manual_seed(999)
        netG, netD = program.Generator(), program.Discriminator()
        netG.apply(program.weights_init)
        netD.apply(program.weights_init)
    else:
        netG, netD = program.Generator(), program.Discriminator()
        _copy_weights(weights_from[0], netG, torch)
        _copy_weights(weights_from[1], netD, torch)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(images)),
                                         batch_size=16, shuffle=False)
    history = program.train(netG, netD, loader, epochs=1)
    return (netG, netD), history


def test_dcgan_program_trains_on_minigen(monkeypatch):
    _, history = _dcgan_run("minigen", monkeypatch, _gan_images(48))
    assert len(history) == 3 and all(math.isfinite(v) for row in history for v in row)
    assert all(0.0 < row[2] < 1.0 for row in history)                     # D(x) is a probability


def test_dcgan_program_main_runs_with_weights_init():
    program = programs.load("dcgan")
    history = program.main(_gan_images(32), batch_size=16)
    assert len(history) == 2 and all(math.isfinite(v) for row in history for v in row)
    std = float(program.Generator().apply(program.weights_init).main[0].weight.data.std())
    assert 0.015 < std < 0.025                                             # N(0, 0.02)


def test_dcgan_program_matches_pytorch(monkeypatch):
    pytest.importorskip("torch")
    images = _gan_images(48)
    program = programs.load("dcgan")
    program.torch.manual_seed(999)
    netG, netD = program.Generator(), program.Discriminator()
    netG.apply(program.weights_init)
    netD.apply(program.weights_init)
    initial = (netG.state_dict(), netD.state_dict())      # what the minigen run starts from
    _, ours = _dcgan_run("minigen", monkeypatch, images)
    _, theirs = _dcgan_run("torch", monkeypatch, images, weights_from=initial)
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-5, atol=1e-6)
