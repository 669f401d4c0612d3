"""Function: one node of the graph, one differentiable operation.

A Function subclass writes two methods side by side:

    forward(*arrays)      -> array or tuple of arrays      (raw numpy/cupy arrays)
    backward(*grad_outs)  -> Tensor or tuple of Tensors   (built from engine ops)

`forward` computes on plain arrays, so it is as fast as NumPy. `backward` receives the
gradients of the outputs as Tensors and returns the gradients of the inputs computed
with other Functions; when the walk runs with `create_graph=True`, those Functions are
recorded too, which is all that gradients of gradients need.

What survives until backward (the rule every op follows):

    self.inputs       the input Tensors (checked unchanged before backward runs)
    self.output(i)    the i-th output Tensor (held weakly, so a node never keeps its
                      own output alive; checked unchanged too)
    self.saved        what forward kept with `self.save_for_backward(...)` (batch
                      norm's mean and 1/std): arrays or numbers, nothing else
    settings          small Python values given to __init__ (an axis, a slope)

`release()` drops `inputs` and `saved` once backward has run, so the memory of a graph
goes away with it. (Ops written before `save_for_backward` existed stored arrays as
attributes; `release()` drops every array attribute too, so they keep working.)

The input policy (constants, dtypes, devices) and the reporting of a failing forward
live in `minigen.operands`; the version checks in `minigen.versions`.
"""
import abc
import operator
import weakref

from minigen import backend, grad_mode, operands, versions
from minigen.errors import DeviceError, DTypeError, ShapeError, user_line  # noqa: F401  (their old home)
from minigen.tensor import Tensor

# what an attribute of a node that is certainly no array can be (release() skips these)
_NOT_ARRAYS = frozenset({list, tuple, int, float, bool, str, type(None)})

# C-level getters: no Python frame per op for these
_data = operator.attrgetter("_data")
_requires_grad = operator.attrgetter("requires_grad")
_shape = operator.attrgetter("_data.shape")
_dtype = operator.attrgetter("_data.dtype")


class Function(abc.ABC):
    """Base class of every differentiable operation (see the module docstring)."""

    inputs = None
    saved = ()
    generation = 0
    # False for ops whose backward needs only the inputs' shapes (add, sub): changing
    # such an input after the forward does not make the gradient wrong.
    reads_inputs = True
    _stamp = 0               # the versions clock when the node was made (minigen.versions)
    _input_sums = None

    def __call__(self, *inputs):
        tensors = self._to_tensors(inputs)      # constants wrapped; one device, one dtype
        try:
            outputs = self.forward(*map(_data, tensors))
        except (ValueError, TypeError, IndexError) as error:
            operands.raise_forward_error(self, error, tensors)
        single = not isinstance(outputs, tuple)
        results = (Tensor(outputs),) if single else tuple(map(Tensor, outputs))
        if grad_mode.enabled and any(map(_requires_grad, tensors)):
            self._link(tensors, results)
        return results[0] if single else results

    # an op whose inputs may differ in device (ToDevice) overrides this
    _to_tensors = operands.as_tensors
    _constant, _reconcile = operands.constant_like, operands.reconcile   # their old names

    def _link(self, tensors, results):
        """Become the creator of `results`; remember what backward will check."""
        self.inputs = tensors
        generation = 0                          # one more than any input's creator
        for t in tensors:
            creator = t.creator
            if creator is not None and creator.generation >= generation:
                generation = creator.generation + 1
        self.generation = generation
        self.outputs = tuple(map(weakref.ref, results))
        if len(results) > 1:                    # one output is alive whenever it matters
            self._output_meta = list(zip(map(_shape, results), map(_dtype, results)))
        self._stamp = versions.clock            # what changes later is stale (minigen.versions)
        if self.reads_inputs:
            self._input_sums = versions.leaf_checksums(tensors)
        for y in results:
            y.creator, y.requires_grad = self, True
        if _anomaly_hook is not None:
            _anomaly_hook(self, results)

    @property
    def name(self):
        return type(self).__name__

    @property
    def output_meta(self):
        """[(shape, dtype)] of the outputs. Kept for ops with several outputs (one may be
        gone when backward gives it a zero gradient); a single output is read from the
        tensor itself, alive while anything can reach this node."""
        meta = self.__dict__.get("_output_meta")
        if meta is None:
            y = self.outputs[0]()
            meta = [(y.shape, y.dtype) if y is not None else (None, None)]
        return meta

    # ---------------------------------------------------------------- subclasses
    @abc.abstractmethod
    def forward(self, *arrays):
        """Compute the outputs from raw arrays (each subclass writes its own)."""

    @abc.abstractmethod
    def backward(self, *grad_outputs):
        """Turn output gradients (Tensors) into input gradients built from engine ops."""

    # ------------------------------------------------------------------- helpers
    def save_for_backward(self, *values):
        """Keep `values` (arrays computed in forward) for backward, as `self.saved`."""
        self.saved = values

    def output(self, i=0):
        """The i-th output Tensor (alive whenever its gradient is being computed),
        checked to hold the values the forward gave it."""
        y = self.outputs[i]()
        if y is not None and versions.clock != self._stamp and versions.changed_since(y, self._stamp):
            raise versions.stale_error(self, y, f"output {i}")
        return y

    def check_saved_inputs(self):
        """StaleTensorError if an input the backward reads changed after the forward."""
        if self.reads_inputs:
            versions.check_unchanged(self, self.inputs, self._stamp, self._input_sums)

    def zeros(self, shape, dtype):
        """A zero gradient for an output that received none."""
        xp = backend.get_array_module(self.inputs[0].data)
        return Tensor(xp.zeros(shape, dtype=dtype))

    def release(self):
        """Drop what backward needed, once it has run (frees the graph's memory)."""
        self.inputs = None
        attributes = self.__dict__
        attributes.pop("saved", None)                    # back to the class's ()
        if _NOT_ARRAYS.issuperset(map(type, attributes.values())):
            return                                       # no array kept the old way
        for key, value in list(attributes.items()):
            if type(value) not in _NOT_ARRAYS and hasattr(value, "shape") and hasattr(value, "dtype"):
                del attributes[key]


# Set by minigen.inspection's origin recording: called with (function, outputs) per node.
_anomaly_hook = None
