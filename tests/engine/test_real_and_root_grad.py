"""Complex values are refused (never silently made real); the gradient given to
backward/grad must match its output's dtype, device and shape."""
import numpy as np
import pytest

import minigen as mg


# ------------------------------------------------------------------ complex values
@pytest.mark.parametrize("make", [
    lambda: mg.tensor([1.0, 2.0]) * 1j,
    lambda: 1j * mg.tensor([1.0, 2.0]),
    lambda: mg.tensor([1.0, 2.0]) + np.array([1j, 2.0]),
    lambda: np.array([1j, 1.0]) * mg.tensor([1.0, 2.0]),
    lambda: mg.tensor(np.array([1.0 + 2.0j])),
    lambda: mg.Tensor(np.ones(2, np.complex64)),
    lambda: mg.tensor([1.0, 2.0]).astype(np.complex64)])
def test_complex_values_raise_instead_of_losing_the_imaginary_part(make):
    with pytest.raises(TypeError, match="real numbers.*complex"):
        make()


def test_complex_data_assignment_raises():
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="complex"):
        x.data = np.array([1j, 2j])
    assert x.numpy().tolist() == [1.0, 2.0]


def test_error_names_the_op():
    with pytest.raises(TypeError, match=r"^Mul: .*\(1j\)"):
        mg.tensor([1.0, 2.0]) * 1j


# ------------------------------------------------------------- the root gradient
def test_float64_grad_for_float32_output_raises_and_leaves_grad_untouched():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    y = x * 2.0
    with pytest.raises(TypeError, match="`grad` argument is float64.*float32"):
        y.backward(mg.tensor(np.ones(3, np.float64)))
    with pytest.raises(TypeError, match="`grad` argument is float64"):
        y.backward(np.ones(3, np.float64))
    assert x.grad is None
    y.backward(mg.tensor(np.ones(3, np.float32)))
    assert x.grad.dtype == np.float32


def test_grad_function_names_grad_outputs():
    x = mg.tensor(np.ones(2, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="`grad_outputs` argument is float64"):
        mg.grad(x * 3.0, x, grad_outputs=mg.tensor(np.ones(2)))


def test_python_numbers_and_lists_take_the_output_dtype():
    x = mg.tensor(np.ones(2, np.float32), requires_grad=True)
    (x * 3.0).backward([1.0, 2.0])
    assert x.grad.dtype == np.float32 and x.grad.numpy().tolist() == [3.0, 6.0]


def test_grad_of_wrong_shape_names_the_argument():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(ValueError, match=r"`grad` argument has shape \(2,\).*\(3,\)"):
        (x * 2.0).backward(mg.tensor(np.ones(2, np.float32)))
