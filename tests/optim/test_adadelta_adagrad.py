"""Adadelta and Adagrad follow PyTorch's update rule: a hand-worked first step, a NumPy
re-implementation over several steps, PyTorch itself (to 1e-6 over 5 steps) when torch is
installed, float32 kept, and an exact resume from state_dict."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.optim as optim
from minigen.nn import Parameter

A = np.array([1.0, 10.0, 0.3])
C = np.array([1.0, -2.0, 0.5])
X0 = np.array([0.5, 0.5, -1.0])


def _loss(x):
    """f(x) = 1/2 sum(a (x - c)^2): gradient a (x - c), the same in every library."""
    return 0.5 * (A * (x - C) ** 2).sum()


def ref_adadelta(p, g, s, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * p
    s["sq"] = rho * s.get("sq", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("u", 0.0) + eps) / np.sqrt(s["sq"] + eps) * g
    s["u"] = rho * s.get("u", 0.0) + (1 - rho) * delta * delta
    return p - lr * delta


def ref_adagrad(p, g, s, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False):
    s["t"] = t = s.get("t", 0) + 1
    g = -g if maximize else g
    g = g + weight_decay * p
    s["S"] = s.get("S", initial_accumulator_value) + g * g
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["S"]) + eps)


CASES = [
    (optim.Adadelta, ref_adadelta, dict()),
    (optim.Adadelta, ref_adadelta, dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    (optim.Adadelta, ref_adadelta, dict(lr=0.3, maximize=True)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.2, lr_decay=0.05, weight_decay=0.1,
                                      initial_accumulator_value=0.5, eps=1e-6)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, maximize=True)),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _, _) in enumerate(CASES)]


def _trajectory(cls, kw, steps, dtype=np.float64):
    x = Parameter(mg.tensor(X0.astype(dtype)))
    opt = cls([x], **kw)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (mg.tensor(A.astype(dtype)) * (x - C.astype(dtype)) ** 2).sum()).backward()
        opt.step()
        path.append(x.data.copy())
    return path, opt, x


def test_adadelta_first_step_by_hand():
    """Step 1 from zero state: s = 0.1 g^2, dx = sqrt(eps) / sqrt(0.1 g^2 + eps) g."""
    g = A * (X0 - C)
    expected = X0 - np.sqrt(1e-6) / np.sqrt(0.1 * g * g + 1e-6) * g
    (first, *_), _, _ = _trajectory(optim.Adadelta, {}, 1)
    np.testing.assert_allclose(first, expected, rtol=1e-12)


def test_adagrad_first_step_by_hand():
    """Step 1: S = g^2, so every coordinate moves by lr * sign(g) (up to eps)."""
    g = A * (X0 - C)
    (first, *_), _, _ = _trajectory(optim.Adagrad, dict(lr=0.1), 1)
    np.testing.assert_allclose(first, X0 - 0.1 * np.sign(g), rtol=1e-9)


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_trajectory_matches_the_numpy_reference(cls, ref, kw):
    path, _, _ = _trajectory(cls, kw, 8)
    p, s = X0.copy(), {}
    for step in path:
        p = ref(p, A * (p - C), s, **kw)
        np.testing.assert_allclose(step, p, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_trajectory_matches_torch_when_installed(cls, ref, kw):
    torch = pytest.importorskip("torch")
    path, _, _ = _trajectory(cls, kw, 5)
    x = torch.tensor(X0, requires_grad=True)
    opt = getattr(torch.optim, cls.__name__)([x], **kw)
    for step in path:
        opt.zero_grad()
        (0.5 * (torch.tensor(A) * (x - torch.tensor(C)) ** 2)).sum().backward()
        opt.step()
        np.testing.assert_allclose(step, x.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_float32_stays_float32_and_the_loss_falls(cls, ref, kw):
    if kw.get("maximize"):
        pytest.skip("maximize climbs the loss")
    path, opt, x = _trajectory(cls, kw, 20, dtype=np.float32)
    assert x.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[x].values() if hasattr(v, "dtype"))
    assert _loss(path[-1].astype(np.float64)) < _loss(X0)


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_state_dict_resume_is_exact(cls, ref, kw):
    full, _, _ = _trajectory(cls, kw, 10, dtype=np.float32)
    _, opt, x = _trajectory(cls, kw, 4, dtype=np.float32)
    saved = opt.state_dict()
    assert set(saved["state"][0]) == ({"step", "square_avg", "acc_delta"} if cls is optim.Adadelta
                                      else {"step", "sum"})
    x2 = Parameter(mg.tensor(x.data.copy()))
    opt2 = cls([x2], lr=123.0)                # hyperparameters come back from the state dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kw.get("lr", cls([x2]).defaults["lr"])
    for k in range(4, 10):
        opt2.zero_grad()
        (0.5 * (mg.tensor(A, dtype=np.float32) * (x2 - C.astype(np.float32)) ** 2).sum()).backward()
        opt2.step()
        assert np.array_equal(x2.data, full[k])


def test_state_dict_survives_save_and_load(tmp_path):
    _, opt, x = _trajectory(optim.Adagrad, dict(lr=0.1), 3, dtype=np.float32)
    mg.save(opt.state_dict(), tmp_path / "opt.npz")
    opt2 = optim.Adagrad([Parameter(mg.tensor(x.data.copy()))])
    opt2.load_state_dict(mg.load(tmp_path / "opt.npz"))
    restored = next(iter(opt2.state.values()))
    assert restored["step"] == 3 and np.array_equal(restored["sum"], opt.state[x]["sum"])


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.Adadelta(p, rho=1.5), "rho"),
    (lambda p: optim.Adadelta(p, lr=-1.0), "learning rate"),
    (lambda p: optim.Adadelta(p, eps=-1e-6), "eps"),
    (lambda p: optim.Adagrad(p, lr_decay=-0.1), "lr_decay"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda p: optim.Adagrad(p, weight_decay=-1.0), "weight_decay"),
])
def test_bad_hyperparameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make([Parameter(mg.zeros(2))])


def test_defaults_are_pytorchs():
    p = [Parameter(mg.zeros(2))]
    assert optim.Adadelta(p).defaults == dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)
    assert optim.Adagrad(p).defaults == dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                                             initial_accumulator_value=0.0, eps=1e-10, maximize=False)
    assert math.isclose(optim.Adagrad(p).param_groups[0]["lr"], 0.01)
