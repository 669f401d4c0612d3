"""detect_anomaly(): the first NaN/Inf in forward or backward names the op and the line."""
import sys

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
from minigen import autograd, function
from minigen.inspection import detect_anomaly, AnomalyError, record


def here(offset=0):
    """'<this test file>:<the caller's line + offset>'."""
    frame = sys._getframe(1)
    return f"{frame.f_code.co_filename}:{frame.f_lineno + offset}"


pytestmark = pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                                        "ignore:invalid value:RuntimeWarning")


def test_a_planted_log_of_zero_is_caught_in_forward_with_its_line():
    x = mg.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with pytest.raises(AnomalyError) as caught:
        with detect_anomaly():
            y = x * 2.0
            line = here(1)
            z = mg.log(y)
            z.sum().backward()
    message = str(caught.value)
    assert message.startswith("Log produced 1 inf")
    assert f"created at {line}" in message
    assert "z = mg.log(y)" in message                        # the source line, from the stack
    assert caught.value.phase == "forward" and caught.value.node.name == "Log"


def test_a_nan_made_in_backward_names_the_op_and_its_line():
    x = mg.tensor([1.0, 0.0, -2.0], requires_grad=True)
    with detect_anomaly():
        r = mg.sqrt(x * x); line = here()  # noqa: E702     sqrt(0) = 0 but its slope is inf
        loss = r.sum()
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    message = str(caught.value)
    assert message.startswith("Sqrt produced") and "in its backward" in message
    assert f"created at {line}" in message and "likely cause" in message
    assert caught.value.phase == "backward"


def test_check_forward_false_still_catches_the_backward():
    x = mg.tensor([1.0, 0.0], requires_grad=True)
    with detect_anomaly(check_forward=False):
        y = mg.log(x); line = here()  # noqa: E702
        with pytest.raises(AnomalyError, match="Log produced .* in its backward") as caught:
            (y * 0.0).sum().backward()       # d/dx log(x) = 1/x: inf at 0 (times 0 = nan)
    assert f"created at {line}" in str(caught.value)


def test_a_nan_from_outside_the_graph_is_caught_where_it_enters():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    data = mg.tensor([np.nan, 1.0])
    with pytest.raises(AnomalyError, match="already holds 1 nan"):
        with detect_anomaly():
            w * data


def test_a_nan_in_a_create_graph_backward_names_the_backward_it_came_from():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(AnomalyError) as caught:
        with detect_anomaly():
            y = mg.sqrt(x * x)
            mg.grad(y.sum(), x, create_graph=True)
    assert "by the backward of Sqrt" in str(caught.value)


def test_model_code_works_inside_anomaly_mode_and_modes_are_restored():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with detect_anomaly():
        with record():                                        # nesting is fine
            loss = model(mg.randn(5, 3)).sum()
        loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert function._anomaly_hook is None and autograd._backward_hook is None
    with pytest.raises(AnomalyError):
        with detect_anomaly():
            mg.log(mg.tensor([0.0], requires_grad=True))
    assert function._anomaly_hook is None and autograd._backward_hook is None


def test_outside_anomaly_mode_nothing_is_checked():
    x = mg.tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = mg.log(x)
        y.sum().backward()
    assert np.isinf(x.grad.data).all()
