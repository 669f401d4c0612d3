"""Same architecture, same weights: minigen and PyTorch agree (skipped without torch).

Checks that state-dict names match PyTorch's (so students can read either), that a
PyTorch state dict loads into the minigen model, and that outputs, gradients and
BatchNorm's running statistics agree, in training and in eval mode.
"""
import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def _pair(factory):
    """The same network built by both libraries: factory(namespace) -> Module."""
    return factory(nn), factory(tnn)


def _cnn(lib):
    return lib.Sequential(
        lib.Conv2d(2, 4, 3, stride=2, padding=1), lib.BatchNorm2d(4), lib.LeakyReLU(0.2),
        lib.ConvTranspose2d(4, 3, 4, stride=2, padding=1), lib.GroupNorm(1, 3), lib.SiLU(),
        lib.InstanceNorm2d(3, affine=True), lib.Flatten(), lib.Linear(3 * 6 * 6, 5),
        lib.LayerNorm(5), lib.GELU(), lib.Unflatten(1, (5, 1)), lib.Flatten(), lib.Softplus(),
        lib.Dropout(0.0))


def _mlp(lib):
    return lib.Sequential(lib.Linear(3, 8), lib.BatchNorm1d(8, momentum=None), lib.ELU(),
                          lib.Linear(8, 4), lib.Tanh(), lib.Linear(4, 2), lib.LogSoftmax(dim=1))


@pytest.mark.parametrize("factory, shape", [(_cnn, (4, 2, 6, 6)), (_mlp, (6, 3))],
                         ids=["cnn", "mlp"])
def test_state_dict_names_outputs_grads_and_running_stats_agree(factory, shape):
    mg.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = _pair(factory)
    theirs = theirs.double()
    ours.to(np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})

    rng = np.random.default_rng(0)
    for step in range(3):                      # training mode: batch statistics, running updates
        x = rng.standard_normal(shape)
        xo, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-7, atol=1e-9)
        weights = rng.standard_normal(yo.shape)
        (yo * mg.tensor(weights)).sum().backward()
        (yt * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-6, atol=1e-9)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-6, atol=1e-9,
                                       err_msg=name)
        ours.zero_grad()
        theirs.zero_grad()
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-7, atol=1e-9,
                                   err_msg=name)

    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(mg.tensor(x)).data, expected, rtol=1e-7, atol=1e-9)


def test_embedding_and_upsample_agree():
    weight = np.random.default_rng(1).standard_normal((6, 3))
    ours = nn.Embedding(6, 3, padding_idx=2)
    theirs = tnn.Embedding(6, 3, padding_idx=2).double()
    ours.to(np.float64).load_state_dict({"weight": weight})
    theirs.load_state_dict({"weight": torch.tensor(weight)})
    idx = np.array([[1, 2, 5], [2, 2, 0]])
    out_o, out_t = ours(idx), theirs(torch.tensor(idx))
    np.testing.assert_array_equal(out_o.data, out_t.detach().numpy())
    out_o.sum().backward()
    out_t.sum().backward()
    np.testing.assert_array_equal(ours.weight.grad.data, theirs.weight.grad.numpy())

    x = np.random.default_rng(2).standard_normal((1, 2, 3, 4))
    for kw in (dict(scale_factor=2), dict(size=(5, 7), mode="bilinear", align_corners=False),
               dict(size=(5, 7), mode="bilinear", align_corners=True)):
        np.testing.assert_allclose(nn.Upsample(**kw)(mg.tensor(x)).data,
                                   tnn.Upsample(**kw)(torch.tensor(x)).numpy(), rtol=1e-7, atol=1e-12)
