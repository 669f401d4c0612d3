"""What a Function accepts as inputs, and how a failing forward is reported.

The policy in one place, so that `Function.__call__` stays a few lines:

  * Python numbers and raw arrays are constants: they take the float dtype of the
    tensor they meet (`x * 2.0` stays float32);
  * inputs on different devices are a DeviceError;
  * two different float dtypes are a DTypeError (never a silent upcast); integer or
    boolean tensors meeting a float tensor are cast to its dtype;
  * a forward that fails because shapes do not fit raises ShapeError naming the op,
    the input shapes and the user's line; any other error of a forward (a domain
    error, a bad setting) keeps its own type and gets the op and the line as a note.
"""
import re

from minigen import backend
from minigen.errors import DeviceError, DTypeError, ShapeError, user_line
from minigen.tensor import Tensor

# What NumPy / CuPy say when shapes do not fit ("operands could not be broadcast
# together with shapes ...", "shapes (3,4) and (5,) not aligned", "cannot reshape
# array of size 6 into shape (4,)", "mismatch in its core dimension 0", ...).
_SHAPE_WORDS = re.compile(r"shape|broadcast|dimension|aligned|axis|axes|size", re.IGNORECASE)


def as_tensors(function, inputs):
    """The inputs of `function` as Tensors of one device and one float dtype."""
    first = None
    for x in inputs:
        if not isinstance(x, Tensor):                # a constant: wrap it
            return _with_constants(function, inputs)
        if first is None:
            first = x._data
        elif type(x._data) is not type(first) or x._data.dtype != first.dtype:
            return reconcile(function, list(inputs))
    if first is None:
        raise TypeError(f"{function.name}: needs at least one Tensor input")
    return inputs


def _with_constants(function, inputs):
    """Wrap scalars and arrays as constant Tensors, then apply the dtype/device rules."""
    reference = None
    for x in inputs:
        if isinstance(x, Tensor):
            reference = x
            break
    if reference is None:
        raise TypeError(f"{function.name}: needs at least one Tensor input")
    tensors = [x if isinstance(x, Tensor) else Tensor(constant_like(function, x, reference))
               for x in inputs]
    first = tensors[0]._data
    for t in tensors[1:]:
        if type(t._data) is not type(first) or t._data.dtype != first.dtype:
            return reconcile(function, tensors)
    return tensors


def constant_like(function, value, reference):
    """A Python number or raw array meeting a tensor becomes a constant that takes the
    tensor's float dtype (x * 2.0 and x + np.ones(3) stay float32 for float32 x)."""
    like = reference._data
    if type(value) in _NUMBERS and like.dtype.kind == "f":      # the common case: x * 2.0
        return backend.get_array_module(like).asarray(value, dtype=like.dtype)
    array = backend.as_array(value, like=like)
    if array.dtype.kind == "c":
        from minigen.tensor import _COMPLEX_MESSAGE
        raise TypeError(f"{function.name}: " + _COMPLEX_MESSAGE.format(
            what=f"a complex operand ({value!r})" if not hasattr(value, "shape")
            else f"a complex {array.dtype} array operand"))
    if like.dtype.kind == "f" and (array.dtype.kind == "f" or isinstance(value, (int, float))):
        array = array.astype(like.dtype, copy=False)
    return array


_NUMBERS = (float, int)


def reconcile(function, tensors):
    """Inputs of different devices or dtypes: an error, or a cast where it is safe."""
    devices = [t.device for t in tensors]
    if len(set(devices)) > 1:
        detail = ", ".join(f"input {i} on {d}" for i, d in enumerate(devices))
        raise DeviceError(
            f"{function.name}: inputs live on different devices ({detail}) at {user_line()}. "
            "Move them with .to(device) first.")
    float_dtypes = {t.dtype for t in tensors if t.dtype.kind == "f"}
    if len(float_dtypes) > 1:
        detail = ", ".join(f"input {i} is {t.dtype}" for i, t in enumerate(tensors))
        raise DTypeError(
            f"{function.name}: mixed float dtypes ({detail}) at {user_line()}. "
            "minigen never upcasts silently; cast one side with .astype(...).")
    if float_dtypes:
        target = float_dtypes.pop()
        tensors = [t if t.dtype == target else Tensor(t.data.astype(target)) for t in tensors]
    return tensors


def raise_forward_error(function, error, tensors):
    """Re-raise `error` of `function.forward`: as a ShapeError when shapes did not fit,
    else as itself with a note naming the op, the input shapes and the user's line."""
    shapes = ", ".join(str(t.shape) for t in tensors)
    if isinstance(error, ShapeError):
        raise error
    if isinstance(error, ValueError) and _SHAPE_WORDS.search(str(error)):
        raise ShapeError(
            f"{function.name}: {error} (input shapes {shapes}) at {user_line()}") from error
    if hasattr(error, "add_note"):
        error.add_note(f"in {function.name}.forward (input shapes {shapes}) at {user_line()}")
    raise error
