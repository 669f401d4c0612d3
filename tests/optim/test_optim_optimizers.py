"""Each optimizer follows PyTorch's update formulas (a NumPy re-implementation below,
written from PyTorch's documented pseudo-code), keeps float32, and saves/loads its state."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
import minigen.optim as optim
from minigen.nn import Parameter

# ------------------------------------------------------------------ the problem
# f(x, W) = 1/2 sum(a (x - c)^2) + 1/2 sum(b (W - d)^2), an ill-conditioned quadratic.
A = np.array([1.0, 10.0, 0.3])
C = np.array([1.0, -2.0, 0.5])
B = np.array([[2.0, 0.5, 1.0], [4.0, 0.1, 3.0]])
D = np.array([[0.3, 0.2, -0.1], [1.0, -1.0, 0.0]])
X0 = np.array([0.5, 0.5, -1.0])
W0 = np.array([[0.0, 1.0, 2.0], [-1.0, 0.5, 0.2]])


def _loss(x, w):
    return 0.5 * (A * (x - C) ** 2).sum() + 0.5 * (B * (w - D) ** 2).sum()


def _grads(x, w):
    return [A * (x - C), B * (w - D)]


# ------------------------------------------------------------------ NumPy references
def ref_sgd(p, g, s, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        s["b"] = g if "b" not in s else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def ref_adam(p, g, s, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    s["t"] = t = s.get("t", 0) + 1
    g = -g if maximize else g
    if weight_decay and decoupled:
        p = p * (1 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * p
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    v = s["v"]
    if amsgrad:
        s["vmax"] = v = np.maximum(s.get("vmax", 0.0), v)
    m_hat, v_hat = s["m"] / (1 - b1 ** t), v / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamw(p, g, s, weight_decay=1e-2, **kw):
    return ref_adam(p, g, s, weight_decay=weight_decay, decoupled=True, **kw)


def ref_rmsprop(p, g, s, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    s["sq"] = alpha * s.get("sq", 0.0) + (1 - alpha) * g * g
    if centered:
        s["ga"] = alpha * s.get("ga", 0.0) + (1 - alpha) * g
        avg = np.sqrt(s["sq"] - s["ga"] ** 2) + eps
    else:
        avg = np.sqrt(s["sq"]) + eps
    if momentum:
        s["buf"] = momentum * s.get("buf", 0.0) + g / avg
        return p - lr * s["buf"]
    return p - lr * g / avg


CASES = [
    (optim.SGD, ref_sgd, dict(lr=0.05)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.01)),
    (optim.SGD, ref_sgd, dict(lr=0.01, maximize=True)),
    (optim.Adam, ref_adam, dict(lr=0.1)),
    (optim.Adam, ref_adam, dict(lr=0.05, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.1)),
    (optim.Adam, ref_adam, dict(lr=0.05, amsgrad=True)),
    (optim.AdamW, ref_adamw, dict(lr=0.05)),
    (optim.AdamW, ref_adamw, dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, centered=True, momentum=0.9)),
]
IDS = [f"{cls.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for cls, _, kw in CASES]


def _minigen_trajectory(cls, kw, steps, dtype=np.float64):
    x = Parameter(mg.tensor(X0, dtype=dtype))
    w = Parameter(mg.tensor(W0, dtype=dtype))
    opt = cls([x, w], **kw)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * (mg.tensor(A, dtype=dtype) * (x - C.astype(dtype)) ** 2).sum() \
            + 0.5 * (mg.tensor(B, dtype=dtype) * (w - D.astype(dtype)) ** 2).sum()
        loss.backward()
        opt.step()
        path.append((x.data.copy(), w.data.copy()))
    return path, opt, (x, w)


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_trajectory_matches_the_numpy_reference(cls, ref, kw):
    steps = 30
    path, _, _ = _minigen_trajectory(cls, kw, steps)
    params, states = [X0.copy(), W0.copy()], [{}, {}]
    for k in range(steps):
        grads = _grads(*params)
        params = [ref(p, g, s, **kw) for p, g, s in zip(params, grads, states)]
        for ours, theirs in zip(path[k], params):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    if not kw.get("maximize"):
        assert _loss(*params) < _loss(X0, W0)


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_trajectory_matches_torch_when_installed(cls, ref, kw):
    torch = pytest.importorskip("torch")
    path, _, _ = _minigen_trajectory(cls, kw, 10)
    x = torch.tensor(X0, requires_grad=True)
    w = torch.tensor(W0, requires_grad=True)
    opt = getattr(torch.optim, cls.__name__)([x, w], **kw)
    for k in range(10):
        opt.zero_grad()
        loss = 0.5 * (torch.tensor(A) * (x - torch.tensor(C)) ** 2).sum() \
            + 0.5 * (torch.tensor(B) * (w - torch.tensor(D)) ** 2).sum()
        loss.backward()
        opt.step()
        np.testing.assert_allclose(path[k][0], x.detach().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(path[k][1], w.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_float32_stays_float32(cls, ref, kw):
    _, opt, params = _minigen_trajectory(cls, kw, 3, dtype=np.float32)
    for p in params:
        assert p.dtype == np.float32
        for value in opt.state[p].values():
            if hasattr(value, "dtype"):
                assert value.dtype == np.float32


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_state_dict_resume_is_exact(cls, ref, kw):
    full, _, _ = _minigen_trajectory(cls, kw, 12, dtype=np.float32)
    part, opt, (x, w) = _minigen_trajectory(cls, kw, 5, dtype=np.float32)
    saved_opt, saved_params = opt.state_dict(), (x.data.copy(), w.data.copy())
    x.data += 100.0                                   # the saved state is a copy
    x2, w2 = Parameter(mg.tensor(saved_params[0])), Parameter(mg.tensor(saved_params[1]))
    opt2 = cls([x2, w2], lr=123.0)                     # hyperparameters come from the state dict
    opt2.load_state_dict(saved_opt)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    for k in range(5, 12):
        opt2.zero_grad()
        loss = 0.5 * (mg.tensor(A, dtype=np.float32) * (x2 - C.astype(np.float32)) ** 2).sum() \
            + 0.5 * (mg.tensor(B, dtype=np.float32) * (w2 - D.astype(np.float32)) ** 2).sum()
        loss.backward()
        opt2.step()
        assert np.array_equal(x2.data, full[k][0]) and np.array_equal(w2.data, full[k][1])


def test_state_dict_layout_is_pytorch_like():
    _, opt, _ = _minigen_trajectory(optim.Adam, dict(lr=0.1, amsgrad=True), 2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert sd["state"][0]["step"] == 2 and sd["state"][1]["exp_avg"].shape == (2, 3)
    group = sd["param_groups"][0]
    assert group["params"] == [0, 1] and group["lr"] == 0.1 and group["betas"] == (0.9, 0.999)


def test_load_state_dict_errors():
    _, opt, _ = _minigen_trajectory(optim.SGD, dict(lr=0.1, momentum=0.9), 2)
    sd = opt.state_dict()
    one = optim.SGD([Parameter(mg.zeros(3))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="group 0: loaded state dict has 2 parameters"):
        one.load_state_dict(sd)
    two_groups = optim.SGD([{"params": [Parameter(mg.zeros(3))]},
                            {"params": [Parameter(mg.zeros(2, 3))]}], lr=0.1)
    with pytest.raises(ValueError, match="2 parameter groups"):
        optim.SGD([Parameter(mg.zeros(3)), Parameter(mg.zeros(2, 3))]).load_state_dict(
            two_groups.state_dict())
    wrong = optim.SGD([Parameter(mg.zeros(3)), Parameter(mg.zeros(3, 2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"momentum_buffer.*shape \(2, 3\)"):
        wrong.load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        wrong.load_state_dict({"state": {}})


def test_param_groups_have_their_own_hyperparameters():
    a, b = Parameter(mg.ones(2)), Parameter(mg.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.0}], lr=0.5, momentum=0.9)
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.0
    (a.sum() + b.sum()).backward()
    opt.step()
    assert np.allclose(a.data, 0.5) and np.allclose(b.data, 1.0)
    opt.param_groups[0]["lr"] = 0.1                   # what schedulers do
    c = Parameter(mg.ones(1))
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert opt.param_groups[2]["momentum"] == 0.9


def test_zero_grad_step_skips_params_without_grad_and_closure():
    a, b = Parameter(mg.ones(2)), Parameter(mg.ones(2))
    opt = optim.Adam([a, b], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 2.0
    assert b.grad is None and np.array_equal(b.data, [1, 1]) and b not in opt.state
    assert np.allclose(a.data, 0.9)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not a.grad.data.any() and b.grad is None   # as PyTorch
    opt.zero_grad()
    assert a.grad is None


def test_constructor_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    p = Parameter(mg.ones(2))
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="beta2"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD([{"params": {p}}], lr=0.1)


def test_model_moved_after_the_optimizer_was_made_keeps_training():
    """Module.to keeps Parameter identity, so the optimizer still updates the model."""
    mg.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = mg.randn(8, 3)
    model(x).sum().backward()
    opt.step()
    model.to(np.float64)
    before = model.weight.data.copy()
    opt.zero_grad()
    model(x.double()).sum().backward()
    opt.step()
    assert model.weight.dtype == np.float64 and not np.array_equal(model.weight.data, before)
    assert opt.state[model.weight]["exp_avg"].dtype == np.float64


def test_optimizer_does_not_write_into_old_arrays():
    """Updates assign new arrays, so a graph built before the step keeps its values."""
    p = Parameter(mg.ones(3))
    old = p.data
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert np.array_equal(old, np.ones(3)) and np.allclose(p.data, 0.8)


def test_repr():
    text = repr(optim.SGD([Parameter(mg.ones(1))], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in text
    assert math.isclose(optim.AdamW([Parameter(mg.ones(1))]).param_groups[0]["weight_decay"], 0.01)
