"""Bad input gets an error that names the op, the shapes / dtypes / devices, and the user's line."""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import backend
from minigen.tensor import Tensor

THIS_FILE = __file__


def f32(*shape):
    return mg.randn(*shape)


def test_broadcast_mismatch_names_op_shapes_and_line():
    with pytest.raises(mg.ShapeError) as info:
        f32(3, 4) + f32(5)
    message = str(info.value)
    assert "Add" in message and "(3, 4)" in message and "(5,)" in message
    assert THIS_FILE in message


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(mg.ShapeError, match=r"matmul: inner dimensions differ: \(3, 4\) @ \(5, 2\)"):
        f32(3, 4) @ f32(5, 2)


def test_linear_mismatch():
    with pytest.raises(mg.ShapeError, match=r"linear: input of shape \(2, 3\) does not fit weight of shape \(4, 5\)"):
        F.linear(f32(2, 3), f32(4, 5))


def test_conv_channel_mismatch_names_shapes():
    with pytest.raises(mg.ShapeError, match=r"conv2d: input of shape \(1, 3, 8, 8\) has 3 channels but weight"):
        F.conv2d(f32(1, 3, 8, 8), f32(4, 2, 3, 3))


def test_conv_kernel_larger_than_input():
    with pytest.raises(mg.ShapeError, match="smaller than the kernel"):
        F.conv2d(f32(1, 1, 2, 2), f32(1, 1, 3, 3))


def test_conv_needs_4d_input():
    with pytest.raises(mg.ShapeError, match=r"conv2d: input must be 4-D"):
        F.conv2d(f32(3, 8, 8), f32(4, 3, 3, 3))


def test_reshape_error():
    with pytest.raises(mg.ShapeError, match=r"cannot reshape a tensor of shape \(2, 3\)"):
        f32(2, 3).reshape(4, 2)


def test_mixed_float_dtypes_are_an_error_not_an_upcast():
    a = mg.tensor(np.ones(3, dtype=np.float32))
    b = mg.tensor(np.ones(3, dtype=np.float64))
    with pytest.raises(mg.DTypeError, match="float32.*float64"):
        a * b


def test_integer_tensor_meeting_float_is_cast_to_the_float_dtype():
    a = mg.tensor(np.ones(3, dtype=np.float32))
    assert (a * mg.tensor(np.arange(3))).dtype == np.float32


def test_integer_targets_where_floats_are_needed():
    logits = f32(4, 1)
    with pytest.raises(TypeError, match="target must be float"):
        F.binary_cross_entropy_with_logits(logits, np.array([[0], [1], [1], [0]]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(f32(4, 3), np.array([0.0, 1.0, 2.0, 1.0]).reshape(4))


def test_cross_entropy_target_out_of_range():
    with pytest.raises(IndexError, match=r"target values must lie in \[0, 3\)"):
        F.cross_entropy(f32(2, 3), np.array([0, 3]))


def test_loss_shape_mismatch():
    with pytest.raises(mg.ShapeError, match=r"mse_loss: input of shape \(4, 1\) and target of shape \(4,\)"):
        F.mse_loss(f32(4, 1), mg.zeros(4))


def test_requires_grad_on_integers():
    with pytest.raises(TypeError, match="only float tensors"):
        mg.tensor([1, 2, 3], requires_grad=True)


def test_in_place_assignment_explains_itself():
    x = f32(3)
    with pytest.raises(TypeError, match="not modified in place"):
        x[0] = 1.0


def test_moving_to_cuda_without_a_gpu_is_a_clear_error():
    if backend.cupy_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(RuntimeError, match="cannot move data to 'cuda'"):
        f32(2).to("cuda")


def test_unknown_device():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        f32(2).to("tpu")


def test_mixing_devices_names_both():
    class FakeCudaArray(np.ndarray):   # a numpy array that claims to be a cupy one
        pass
    FakeCudaArray.__module__ = "cupy.fake"
    fake = Tensor(np.ones(3).view(FakeCudaArray))
    with pytest.raises(mg.DeviceError, match=r"input 0 on cpu, input 1 on cuda"):
        mg.tensor(np.ones(3)) + fake


def test_index_error_names_shape():
    with pytest.raises(IndexError, match=r"tensor shape \(3,\)"):
        f32(3)[5]


def test_softmax_axis_out_of_range():
    with pytest.raises(mg.ShapeError, match="axis 2 is out of range"):
        mg.softmax(f32(2, 3), axis=2)


class _Domain(mg.Function):
    """An op whose forward refuses a value (not a shape problem)."""

    def forward(self, x):
        if (x < 0).any():
            raise ValueError("needs non-negative values")
        return x

    def backward(self, gy):
        return gy


def test_a_domain_error_of_a_forward_is_not_reported_as_a_shape_error():
    with pytest.raises(ValueError, match="needs non-negative values") as info:
        _Domain()(mg.tensor([-1.0, 2.0]))
    assert not isinstance(info.value, mg.ShapeError)
    notes = " ".join(getattr(info.value, "__notes__", []))
    if hasattr(info.value, "add_note"):            # Python >= 3.11: the op and the line as a note
        assert "_Domain.forward" in notes and THIS_FILE in notes


def test_a_shape_error_of_numpy_inside_a_forward_is_a_shape_error():
    class Stack(mg.Function):
        def forward(self, a, b):
            return np.stack([a, b])

        def backward(self, gy):
            return gy[0], gy[1]

    with pytest.raises(mg.ShapeError, match=r"Stack: .*input shapes \(2,\), \(3,\).*" + THIS_FILE):
        Stack()(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0, 3.0]))


def test_save_for_backward_keeps_values_until_backward_then_frees_them():
    class Scale(mg.Function):
        def forward(self, x):
            factor = np.full_like(x, 3.0)
            self.save_for_backward(factor)
            return x * factor

        def backward(self, gy):
            factor, = self.saved
            return gy * mg.tensor(factor)

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = Scale()(x)
    node = y.creator
    assert len(node.saved) == 1 and node.saved[0].shape == (2,)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])
    assert node.saved == () and node.inputs is None


def test_batch_norm_saves_its_statistics_for_backward_then_frees_them():
    x = mg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    y = F.batch_norm(x, None, None, training=True)
    node = y.creator
    mean, invstd = node.saved
    np.testing.assert_allclose(mean, x.data.mean(axis=0))
    np.testing.assert_allclose(invstd, 1.0 / np.sqrt(x.data.var(axis=0) + 1e-5))
    assert not hasattr(node, "mean") and not hasattr(node, "invstd")
    (y * y).sum().backward()
    assert node.saved == () and node.inputs is None


def test_an_op_written_the_old_way_keeps_working_and_its_arrays_are_freed():
    class Mask(mg.Function):                 # stores an array as an attribute, no save_for_backward
        def forward(self, x):
            self.mask = x > 0
            return x * self.mask

        def backward(self, gy):
            return gy * mg.tensor(self.mask.astype(gy.dtype))

    x = mg.tensor([-1.0, 2.0], requires_grad=True)
    y = Mask()(x)
    node = y.creator
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 1.0])
    assert not hasattr(node, "mask")
