"""Version counters: backward refuses to differentiate with values the forward did not see.

Each test here differentiated silently with the changed values before version counters
existed (the result was wrong, with no error).
"""
import os

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
from minigen.autograd import StaleTensorError

HERE = os.path.basename(__file__)


def _leaf(values, requires_grad=True):
    return mg.tensor(np.asarray(values, np.float32), requires_grad=requires_grad)


def test_step_between_forward_and_backward_raises():
    """The GAN bug: loss = model(x).sum(); opt.step(); loss.backward()."""
    model = nn.Linear(3, 2)
    opt = mg.optim.Adam(model.parameters(), lr=0.1)
    x = mg.tensor(np.ones((4, 3), np.float32))
    model(x).sum().backward()
    loss = model(x).sum()
    opt.step()
    with pytest.raises(StaleTensorError) as info:
        loss.backward()
    text = str(info.value)
    assert "Linear.backward" in text and "(2, 3)" in text and "Parameter" in text
    assert "Adam.step()" in text and HERE in text


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad"])
def test_each_optimizer_step_bumps_version_and_is_named(name):
    if not hasattr(mg.optim, name):
        pytest.skip(f"mg.optim.{name} not in this tree")
    w = nn.Parameter(np.ones(3, np.float32))
    opt = getattr(mg.optim, name)([w], lr=0.1)
    (w * w).sum().backward()
    before = w._version
    y = (w * 3.0).sum()
    opt.step()
    assert w._version == before + 1
    with pytest.raises(StaleTensorError, match=rf"{name}\.step\(\) at .*{HERE}"):
        y.backward()


def test_rebinding_data_raises():
    w = _leaf([1.0, 2.0])
    y = (w * w).sum()
    w.data = np.array([3.0, 4.0], np.float32)
    with pytest.raises(StaleTensorError, match=r"Mul\.backward.*shape \(2,\).*\.data = \.\.\. at .*" + HERE):
        y.backward()


def test_backward_before_change_is_fine_and_correct():
    w = _leaf([1.0, 2.0])
    y = (w * w).sum()
    y.backward()
    w.data = np.array([3.0, 4.0], np.float32)
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
    w.grad = None
    (w * w).sum().backward()          # a fresh forward sees the new values
    np.testing.assert_allclose(w.grad.numpy(), [6.0, 8.0])


@pytest.mark.parametrize("change", [
    lambda t: t.fill_(5.0), lambda t: t.zero_(), lambda t: t.add_(1.0), lambda t: t.mul_(2.0),
    lambda t: t.copy_(np.array([9.0, 9.0], np.float32)), lambda t: t.clamp_(max=1.5),
    lambda t: t.sub_(_leaf([1.0, 1.0], False), alpha=2), lambda t: t.div_(2.0)])
def test_in_place_helpers_under_no_grad_make_the_graph_stale(change):
    w = _leaf([1.0, 2.0])
    y = (w * w).sum()
    with mg.no_grad():
        assert change(w) is w
    assert w._version == 1
    with pytest.raises(StaleTensorError, match=HERE):
        y.backward()


def test_write_through_a_view_or_detach_is_seen():
    w = _leaf([1.0, 2.0, 3.0])
    y = (w * w).sum()
    w.detach()[1:].fill_(0.0)          # detach() and slicing share w's memory
    assert w.numpy().tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(StaleTensorError, match="fill_"):
        y.backward()


def test_changed_saved_output_raises():
    """exp's backward reads its output; changing that output is caught too."""
    x = _leaf([0.0, 1.0])
    y = mg.exp(x)
    with mg.no_grad():
        y.mul_(0.0)
    with pytest.raises(StaleTensorError, match=r"Exp\.backward.*output 0"):
        y.sum().backward()


def test_change_of_an_input_whose_value_backward_does_not_need_is_allowed():
    """add's gradient does not depend on its inputs' values (as in PyTorch)."""
    x, b = _leaf([1.0, 2.0]), _leaf([0.5, 0.5])
    y = (x + b).sum()
    with mg.no_grad():
        b.fill_(3.0)
    y.backward()
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_in_place_on_tensors_in_a_recorded_graph_raises_at_once():
    w = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        w.add_(1.0)
    y = w * 2.0
    with pytest.raises(RuntimeError, match="made by Mul"):
        y.zero_()
    assert w._version == 0 and w.numpy().tolist() == [1.0, 2.0]


def test_in_place_helpers_compute_like_pytorch():
    t = mg.tensor(np.array([1.0, -2.0, 3.0], np.float32))
    t.add_(mg.tensor(np.ones(3, np.float32)), alpha=2).mul_(0.5)
    assert t.numpy().tolist() == [1.5, 0.0, 2.5] and t.dtype == np.float32
    t.clamp_(0.5, 2.0)
    assert t.numpy().tolist() == [1.5, 0.5, 2.0]
    t.copy_(np.array([1.0, 2.0, 3.0]))          # float64 source: cast, dtype kept
    assert t.dtype == np.float32 and t.numpy().tolist() == [1.0, 2.0, 3.0]
    t.copy_(mg.tensor(7.0))                       # broadcasts
    assert t.numpy().tolist() == [7.0, 7.0, 7.0]
    with pytest.raises(ValueError, match="copy_: source of shape \\(2,\\)"):
        t.copy_(np.ones(2))
    t.zero_()
    assert t.numpy().tolist() == [0.0, 0.0, 0.0] and t._version == 6
    with pytest.raises(TypeError, match="complex"):
        t.fill_(1j)


def test_version_survives_rebinding_to_a_written_array():
    """`_version` only goes up, whatever array the tensor is rebound to."""
    a = mg.tensor(np.zeros(2, np.float32))
    b = mg.tensor(np.zeros(2, np.float32))
    for _ in range(3):
        b.add_(1.0)
    a.data = b.data                       # an array whose memory saw 3 writes
    assert a._version == 1
    b.add_(1.0)                           # same memory: a sees it
    assert a._version == 2


def test_grad_function_checks_too():
    x = _leaf([1.0, 2.0])
    y = (x ** 3.0).sum()
    x.data = x.data * 2
    with pytest.raises(StaleTensorError, match="PowScalar"):
        mg.grad(y, x)


@pytest.mark.parametrize("write", [
    lambda w: w.data.__setitem__(0, 10.0),                  # w.data[0] = 10
    lambda w: w.data.__iadd__(1.0),                         # w.data += 1
    lambda w: np.copyto(w.data, np.array([5.0, 6.0], np.float32)),
    lambda w: np.multiply(w.data, 3.0, out=w.data)])
def test_write_straight_into_a_parameter_array_raises(write):
    w = _leaf([1.0, 2.0])
    y = (w * w).sum()
    write(w)
    with pytest.raises(StaleTensorError, match=r"Mul\.backward.*straight into its array"):
        y.backward()


def test_write_into_the_numpy_array_a_parameter_was_made_from_raises():
    source = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    w = nn.Parameter(source)              # shares the array, like torch.from_numpy
    y = (mg.tensor(np.ones((1, 2), np.float32)) @ w).sum()
    source[1, 1] = -4.0
    with pytest.raises(StaleTensorError, match="MatMul"):
        y.backward()


def test_manual_sgd_through_data_after_backward_still_works():
    """p.data -= lr * p.grad.data after backward, then a new forward: no error."""
    w = _leaf([1.0, 2.0])
    for _ in range(3):
        w.grad = None
        (w * w).sum().backward()
        w.data -= 0.25 * w.grad.data
    np.testing.assert_allclose(w.numpy(), [0.125, 0.25])


def test_gan_generator_backward_after_discriminator_step_raises():
    """Step D, then backward G's loss through the D forward made before the step."""
    mg.manual_seed(0)
    G, D = nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    opt_D = mg.optim.Adam(D.parameters(), lr=1e-3)
    z = mg.tensor(np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32))
    real = mg.tensor(np.ones((8, 2), np.float32))
    fake = G(z)
    d_loss = D(fake.detach()).mean() - D(real).mean()
    g_loss = -D(fake).mean()
    d_loss.backward()
    opt_D.step()
    with pytest.raises(StaleTensorError, match="Adam.step()"):
        g_loss.backward()


def test_error_names_the_forward_line_when_origins_are_recorded():
    from minigen.inspection.origin import record
    w = _leaf([1.0, 2.0])
    with record():
        y = (w * w).sum()
    w.data = w.data + 1
    with pytest.raises(StaleTensorError, match=r"Mul\.backward \(the node made at .*" + HERE):
        y.backward()


def test_write_straight_into_a_data_batch_raises():
    """The batch x is a leaf without grad, but MatMul's weight gradient reads it."""
    w = nn.Parameter(np.ones((3, 2), np.float32))
    x = mg.tensor(np.ones((4, 3), np.float32))
    y = (x @ w).sum()
    x.data[0, 0] = 5.0
    with pytest.raises(StaleTensorError, match=r"MatMul\.backward.*input 0.*\(4, 3\).*straight into its array"):
        y.backward()


def test_augmented_assignment_under_no_grad_updates_the_parameter_in_place():
    """PyTorch's manual SGD: `with no_grad(): p -= lr * p.grad` changes p itself."""
    model = nn.Linear(2, 1)
    params = list(model.parameters())
    model(mg.tensor(np.ones((1, 2), np.float32))).sum().backward()
    before = [p.numpy().copy() for p in params]
    y = model(mg.tensor(np.ones((1, 2), np.float32))).sum()
    with mg.no_grad():
        for p in params:
            p -= 0.5 * p.grad
    for p, old in zip(params, before):
        np.testing.assert_allclose(p.numpy(), old - 0.5 * p.grad.numpy())
        assert p._version >= 1
    with pytest.raises(StaleTensorError, match="sub_"):
        y.backward()


def test_augmented_assignment_while_recording_is_a_new_node():
    a = _leaf([1.0, 2.0])
    c = a * 1.0
    alias = c
    c += c + 1.0                      # micrograd's test: c = c + (c + 1)
    c *= 2.0
    c.sum().backward()
    assert alias.numpy().tolist() == [1.0, 2.0]          # the old node is unchanged
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 4.0])


def test_augmented_assignment_on_plain_tensors_is_in_place():
    t = mg.tensor(np.zeros(3, np.float32))
    alias = t
    t += 1.0
    t *= mg.tensor(np.full(3, 3.0, np.float32))
    t /= 2.0
    t -= 0.5
    assert t is alias and t.numpy().tolist() == [1.0, 1.0, 1.0] and t.dtype == np.float32
