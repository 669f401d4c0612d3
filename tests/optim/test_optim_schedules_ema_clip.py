"""Learning-rate schedules, clip_grad_norm_ / clip_grad_value_, and EMA."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
import minigen.optim as optim
from minigen.nn import Parameter
from minigen.optim import lr_scheduler


def _opt(lr=0.1, groups=1):
    if groups == 1:
        return optim.SGD([Parameter(mg.ones(2))], lr=lr)
    return optim.SGD([{"params": [Parameter(mg.ones(2))], "lr": lr * (i + 1)} for i in range(groups)],
                     lr=lr)


def _lrs(sched, steps):
    out = []
    for _ in range(steps):
        out.append(sched.optimizer.param_groups[0]["lr"])
        sched.optimizer.step()
        sched.step()
    return out


# ------------------------------------------------------------------ schedules
def test_step_lr_and_multistep_and_exponential():
    assert _lrs(lr_scheduler.StepLR(_opt(), step_size=2, gamma=0.5), 6) == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert _lrs(lr_scheduler.MultiStepLR(_opt(), milestones=[3, 1], gamma=0.1), 5) == pytest.approx(
        [0.1, 0.01, 0.01, 0.001, 0.001])
    assert _lrs(lr_scheduler.ExponentialLR(_opt(), gamma=0.9), 3) == pytest.approx([0.1, 0.09, 0.081])


def test_cosine_annealing_values():
    sched = lr_scheduler.CosineAnnealingLR(_opt(1.0), T_max=10, eta_min=0.1)
    lrs = _lrs(sched, 11)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    assert lrs == pytest.approx(expected)
    assert lrs[0] == 1.0 and lrs[5] == pytest.approx(0.55) and lrs[10] == pytest.approx(0.1)
    # like PyTorch, the cosine goes up again after T_max
    assert sched.get_last_lr() == [pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 11 / 10)) / 2)]


def test_linear_lr_warmup_lambda_and_multiple_groups():
    # PyTorch's LinearLR defaults: 1/3 -> 1 over 5 steps
    assert _lrs(lr_scheduler.LinearLR(_opt(0.3)), 7) == pytest.approx(
        [0.1, 0.14, 0.18, 0.22, 0.26, 0.3, 0.3])
    assert _lrs(optim.LinearWarmup(_opt(0.4), warmup_steps=4), 6) == pytest.approx(
        [0.1, 0.2, 0.3, 0.4, 0.4, 0.4])
    sched = optim.LambdaLR(_opt(1.0), optim.warmup_cosine(warmup_steps=2, total_steps=6))
    assert _lrs(sched, 8) == pytest.approx([0.5, 1.0, 1.0, 0.8535534, 0.5, 0.1464466, 0.0, 0.0])
    two = optim.StepLR(_opt(0.1, groups=2), step_size=1, gamma=0.5)
    assert [g["lr"] for g in two.optimizer.param_groups] == pytest.approx([0.1, 0.2])
    two.step()
    assert two.get_last_lr() == pytest.approx([0.05, 0.1])
    assert two.optimizer.param_groups[1]["initial_lr"] == pytest.approx(0.2)


def test_scheduler_state_dict_resumes_exactly():
    opt = _opt(1.0)
    sched = optim.CosineAnnealingLR(opt, T_max=20)
    _lrs(sched, 7)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    assert saved_sched["last_epoch"] == 7 and "optimizer" not in saved_sched
    rest = _lrs(sched, 5)

    opt2 = _opt(1.0)
    opt2.load_state_dict(saved_opt)
    sched2 = optim.CosineAnnealingLR(opt2, T_max=20, last_epoch=-1)
    sched2.load_state_dict(saved_sched)
    assert _lrs(sched2, 5) == rest

    lam = optim.LambdaLR(_opt(1.0), lambda t: 0.5 ** t)
    _lrs(lam, 3)
    assert "lr_lambdas" not in lam.state_dict() and lam.state_dict()["last_epoch"] == 3
    with pytest.raises(KeyError, match="initial_lr"):
        optim.StepLR(_opt(), 2, last_epoch=4)


# ------------------------------------------------------------------ clipping
def test_clip_grad_norm_scales_all_gradients_together():
    a, b = Parameter(mg.zeros(3)), Parameter(mg.zeros(2, 2))
    a.grad = mg.tensor([3.0, 0.0, 0.0])
    b.grad = mg.tensor([[0.0, 4.0], [0.0, 0.0]])
    c = Parameter(mg.zeros(1))                         # no grad: ignored
    total = nn.utils.clip_grad_norm_([a, b, c], max_norm=1.0)
    assert total.item() == pytest.approx(5.0) and total.dtype == np.float32
    assert np.allclose(a.grad.data, [0.6, 0, 0], atol=1e-6) and np.allclose(b.grad.data[0, 1], 0.8, atol=1e-6)
    assert a.grad.dtype == np.float32 and c.grad is None
    joint = math.sqrt(float((a.grad.data ** 2).sum() + (b.grad.data ** 2).sum()))
    assert joint == pytest.approx(1.0, abs=1e-5)

    a.grad = mg.tensor([0.3, 0.4, 0.0])                # below max_norm: unchanged
    total = optim.clip_grad_norm_(a, max_norm=1.0)
    assert total.item() == pytest.approx(0.5) and np.allclose(a.grad.data, [0.3, 0.4, 0.0])

    a.grad = mg.tensor([-3.0, 1.0, 2.0])
    total = nn.utils.clip_grad_norm_([a], max_norm=1.5, norm_type=math.inf)
    assert total.item() == 3.0 and np.allclose(a.grad.data, [-1.5, 0.5, 1.0], atol=1e-5)

    a.grad = mg.tensor([np.nan, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="nan"):
        nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vector_helpers():
    a = Parameter(mg.zeros(3))
    a.grad = mg.tensor([-3.0, 0.5, 2.0])
    nn.utils.clip_grad_value_([a], 1.0)
    assert np.array_equal(a.grad.data, np.array([-1.0, 0.5, 1.0], np.float32))
    model = nn.Linear(2, 3)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (9,)
    nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert np.all(model.weight.data == 1) and model.weight.dtype == np.float32


# ------------------------------------------------------------------ EMA
def test_ema_update_follows_the_formula():
    p = Parameter(mg.tensor([0.0, 10.0]))
    ema = optim.EMA([p], decay=0.9)
    expected = np.array([0.0, 10.0])
    for value in ([1.0, 1.0], [2.0, 0.0], [5.0, 5.0]):
        p.data = np.array(value, dtype=np.float32)
        ema.update()
        expected = 0.9 * expected + 0.1 * np.array(value)
        assert np.allclose(ema.shadow[0], expected, atol=1e-6)
    assert ema.shadow[0].dtype == np.float32 and ema.num_updates == 3

    warm = optim.EMA([p], decay=0.999, warmup=True)
    assert warm.current_decay() == pytest.approx(2 / 11)
    warm.update()
    assert warm.current_decay() == pytest.approx(3 / 12)


def test_ema_average_parameters_context_restores_training_weights():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    ema = optim.EMA(model, decay=0.5)
    start = model[0].weight.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (model(mg.randn(4, 2)) ** 2).sum().backward()
        opt.step()
        ema.update()
    trained = model[0].weight.data.copy()
    with ema.average_parameters():
        assert np.allclose(model[0].weight.data, ema.shadow[0])
        assert not np.allclose(model[0].weight.data, trained)
    assert np.array_equal(model[0].weight.data, trained)
    assert not np.allclose(ema.shadow[0], start)

    # state dict round trip into a fresh EMA
    other = optim.EMA(model, decay=0.1)
    other.load_state_dict(ema.state_dict())
    assert other.decay == 0.5 and other.num_updates == 3
    assert all(np.array_equal(s, t) for s, t in zip(other.shadow, ema.shadow))
    with pytest.raises(ValueError, match="averages"):
        optim.EMA([Parameter(mg.ones(1))]).load_state_dict(ema.state_dict())

    ema.copy_to()
    assert np.array_equal(model[0].weight.data, ema.shadow[0])
    with pytest.raises(RuntimeError, match="store"):
        ema.restore()
