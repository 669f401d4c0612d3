"""Function: one node of the graph, one differentiable operation.

A Function subclass writes two methods side by side:

    forward(*arrays)      -> array or tuple of arrays      (raw numpy/cupy arrays)
    backward(*grad_outs)  -> Tensor or tuple of Tensors   (built from engine ops)

`forward` computes on plain arrays, so it is as fast as NumPy. `backward` receives the
gradients of the outputs as Tensors and returns the gradients of the inputs computed
with other Functions; when the walk runs with `create_graph=True`, those Functions are
recorded too, which is all that gradients of gradients need.

What backward needs from forward is kept on the node: `self.inputs` (Tensors),
`self.output(i)` (the outputs, held weakly so that a node never keeps its own output
alive), and any small arrays an op stores on `self`. `release()` drops all of it after
backward, so the memory of a graph goes away with it.
"""
import abc
import sys
import weakref

from minigen import autograd, backend
from minigen.tensor import Tensor


class ShapeError(ValueError):
    """Shapes of an op's inputs do not fit together."""


class DTypeError(TypeError):
    """Dtypes of an op's inputs do not fit together."""


class DeviceError(RuntimeError):
    """The inputs of an op live on different devices."""


def user_line():
    """'file:line' of the innermost stack frame outside the minigen package."""
    import os
    package_dir = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(package_dir + os.sep):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _is_float(dtype):
    return dtype.kind == "f"


class Function(abc.ABC):
    """Base class of every differentiable operation (see the module docstring)."""

    inputs = None
    generation = 0
    # False for ops whose backward needs only the inputs' shapes (add, sub): changing
    # such an input after the forward does not make the gradient wrong.
    reads_inputs = True
    _input_versions = _input_sums = None

    # ------------------------------------------------------------------ calling
    def __call__(self, *inputs):
        tensors = self._to_tensors(inputs)
        arrays = [t.data for t in tensors]
        try:
            outputs = self.forward(*arrays)
        except ValueError as exc:
            if isinstance(exc, ShapeError):
                raise
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ShapeError(
                f"{self.name}: {exc} (input shapes {shapes}) at {user_line()}") from exc
        single = not isinstance(outputs, tuple)
        if single:
            outputs = (outputs,)
        results = tuple(Tensor(y) for y in outputs)

        if autograd._grad_enabled and any(t.requires_grad for t in tensors):
            self.inputs = tensors
            self.generation = max(
                (t.creator.generation + 1 if t.creator is not None else 0) for t in tensors)
            self.outputs = [weakref.ref(y) for y in results]
            self.output_meta = [(y.shape, y.dtype) for y in outputs]
            # what the backward will check is unchanged (see minigen.autograd, versions)
            if self.reads_inputs:
                self._input_versions = autograd.versions_of(tensors)
                # leaves (parameters, data, constants): also a checksum of their values,
                # the only way to notice a write straight into the array (w.data[0] = 10)
                self._input_sums = [autograd.checksum(t._data) if t.creator is None else None
                                    for t in tensors]
            self._output_versions = autograd.versions_of(results)
            for y in results:
                y.creator = self
                y.requires_grad = True
            if _anomaly_hook is not None:
                _anomaly_hook(self, results)
        return results[0] if single else results

    @property
    def name(self):
        return type(self).__name__

    def _to_tensors(self, inputs):
        """Wrap scalars and arrays as constant Tensors; check devices and dtypes.

        Python scalars and raw arrays are constants: they take the dtype of the tensor
        they meet (x * 2.0 stays float32).
        """
        reference = next((x for x in inputs if isinstance(x, Tensor)), None)
        if reference is None:
            raise TypeError(f"{self.name}: needs at least one Tensor input")
        tensors = []
        for x in inputs:
            if isinstance(x, Tensor):
                tensors.append(x)
            else:
                tensors.append(Tensor(self._constant(x, reference)))
        first = tensors[0].data
        for t in tensors[1:]:
            if type(t.data) is not type(first) or t.data.dtype != first.dtype:
                return self._reconcile(tensors)
        return tensors

    def _constant(self, value, reference):
        """A Python number or raw array meeting a tensor becomes a constant that takes the
        tensor's float dtype (x * 2.0 and x + np.ones(3) stay float32 for float32 x)."""
        array = backend.as_array(value, like=reference.data)
        if array.dtype.kind == "c":
            from minigen.tensor import _COMPLEX_MESSAGE
            raise TypeError(f"{self.name}: " + _COMPLEX_MESSAGE.format(
                what=f"a complex operand ({value!r})" if not hasattr(value, "shape")
                else f"a complex {array.dtype} array operand"))
        if _is_float(reference.data.dtype) and (array.dtype.kind == "f" or isinstance(value, (int, float))):
            array = array.astype(reference.data.dtype, copy=False)
        return array

    def _reconcile(self, tensors):
        """Inputs of different devices or dtypes: an error, or a cast where it is safe.

        Integer or boolean tensors meeting a float tensor are cast to its dtype; two
        different float dtypes are an error, never a silent upcast.
        """
        devices = [t.device for t in tensors]
        if len(set(devices)) > 1:
            detail = ", ".join(f"input {i} on {d}" for i, d in enumerate(devices))
            raise DeviceError(
                f"{self.name}: inputs live on different devices ({detail}) at {user_line()}. "
                "Move them with .to(device) first.")
        float_dtypes = {t.dtype for t in tensors if _is_float(t.dtype)}
        if len(float_dtypes) > 1:
            detail = ", ".join(f"input {i} is {t.dtype}" for i, t in enumerate(tensors))
            raise DTypeError(
                f"{self.name}: mixed float dtypes ({detail}) at {user_line()}. "
                "minigen never upcasts silently; cast one side with .astype(...).")
        if float_dtypes:
            target = float_dtypes.pop()
            tensors = [t if t.dtype == target else Tensor(t.data.astype(target)) for t in tensors]
        return tensors

    # ---------------------------------------------------------------- subclasses
    @abc.abstractmethod
    def forward(self, *arrays):
        """Compute the outputs from raw arrays (each subclass writes its own)."""

    @abc.abstractmethod
    def backward(self, *grad_outputs):
        """Turn output gradients (Tensors) into input gradients built from engine ops."""

    # ------------------------------------------------------------------- helpers
    def output(self, i=0):
        """The i-th output Tensor (alive whenever its gradient is being computed),
        checked to hold the values the forward gave it."""
        y = self.outputs[i]()
        if y is not None and y._version != self._output_versions[i]:
            raise autograd.stale_error(self, y, f"output {i}", self._output_versions[i])
        return y

    def check_saved_inputs(self):
        """StaleTensorError if an input the backward reads changed after the forward."""
        if self._input_versions is None:
            return
        for i, (x, version, saved_sum) in enumerate(
                zip(self.inputs, self._input_versions, self._input_sums)):
            if x._version != version:
                raise autograd.stale_error(self, x, f"input {i}", version)
            if saved_sum is not None and bool(autograd.checksum(x._data) != saved_sum):
                raise autograd.stale_error(self, x, f"input {i}", version, raw_write=True)

    def zeros(self, shape, dtype):
        """A zero gradient for an output that received none."""
        xp = backend.get_array_module(self.inputs[0].data)
        return Tensor(xp.zeros(shape, dtype=dtype))

    def release(self):
        """Drop what backward needed, once it has run (frees the graph's memory)."""
        self.inputs = None
        for key, value in list(vars(self).items()):
            if hasattr(value, "shape") and hasattr(value, "dtype"):
                delattr(self, key)


# Set by minigen.inspect's anomaly mode: called with (function, outputs) for each node.
_anomaly_hook = None
