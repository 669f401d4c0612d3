"""Every op: float64 gradient check of every input, first and second order.

The cases live in minigen/op_cases.py (the same table `python -m minigen.gradcheck`
prints). The registry test makes sure no Function subclass of minigen.ops is left
without a case; hypothesis redraws the elementwise cases with broadcasting, size-1
axes and non-contiguous arrays.
"""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis.extra import numpy as hnp

import minigen as mg
import minigen.ops
from minigen.autograd import graph_nodes
from minigen.function import Function
from minigen.gradcheck import gradcheck, gradgradcheck, GradcheckError
from minigen.op_cases import all_cases, draw
from minigen.tensor import Tensor

CASES = all_cases()
IDS = [c.name for c in CASES]


WITH_REFERENCE = [c for c in CASES if c.reference is not None]


@pytest.mark.parametrize("case", WITH_REFERENCE, ids=[c.name for c in WITH_REFERENCE])
def test_forward_matches_reference(case):
    case.check_forward(case.make_inputs(np.random.default_rng(3)))


def test_most_cases_have_a_reference_and_a_wrong_one_fails():
    assert len(WITH_REFERENCE) >= 0.9 * len(CASES)
    case = next(c for c in CASES if c.name == "tanh")
    wrong = type(case)(case.name, case.fn, case.shapes, reference=np.sin)
    with pytest.raises(AssertionError):
        wrong.check_forward(wrong.make_inputs(np.random.default_rng(0)))


def test_every_ops_file_ends_with_its_cases():
    """A new op is one file plus its exports: the registry collects CASES from each."""
    for info in pkgutil.iter_modules(minigen.ops.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"minigen.ops.{info.name}")
        assert isinstance(getattr(module, "CASES", None), list), f"minigen/ops/{info.name}.py has no CASES"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_first_order(case):
    inputs = case.make_inputs(np.random.default_rng(0))
    report = gradcheck(case.fn, inputs, atol=case.atol, rtol=case.rtol, name=case.name)
    assert len(report.rows) == len(inputs)   # every input was checked


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_second_order(case):
    inputs = case.make_inputs(np.random.default_rng(1))
    report = gradgradcheck(case.fn, inputs, atol=case.atol, rtol=case.rtol, name=case.name)
    outputs = case.fn(*inputs)
    n_outputs = len(outputs) if isinstance(outputs, (tuple, list)) else 1
    assert len(report.rows) == len(inputs) + n_outputs   # the inputs and each output's direction


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_stays_float32(case):
    inputs = [Tensor(x.data.astype(np.float32), requires_grad=True)
              for x in case.make_inputs(np.random.default_rng(2))]
    outputs = case.fn(*inputs)
    outputs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    for y in outputs:
        assert y.dtype == np.float32, f"{case.name} returned {y.dtype}"
    grads = mg.grad([y for y in outputs], inputs, grad_outputs=[mg.ones_like(y) for y in outputs],
                    allow_unused=True)
    for g in grads:
        assert g is None or g.dtype == np.float32


def _function_classes():
    classes = set()
    for info in pkgutil.iter_modules(minigen.ops.__path__):
        module = importlib.import_module(f"minigen.ops.{info.name}")
        for obj in vars(module).values():
            if (inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function
                    and obj.__module__ == module.__name__ and not obj.__name__.startswith("_")):
                classes.add(obj)
    return classes


def _classes_in_graph(outputs):
    return {type(f) for f in graph_nodes(outputs)}


def test_every_function_has_a_gradcheck_case():
    """The classes met in the forward and create_graph backward graphs of all cases
    must include every Function subclass defined in minigen.ops."""
    covered = set()
    for case in CASES:
        inputs = case.make_inputs(np.random.default_rng(0))
        outputs = case.fn(*inputs)
        outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
        covered |= _classes_in_graph(outputs)
        grads = mg.grad(outputs, inputs, grad_outputs=[mg.ones_like(y) for y in outputs],
                        create_graph=True, allow_unused=True)
        covered |= _classes_in_graph([g for g in grads if g is not None and g.creator is not None])
    missing = sorted(c.__name__ for c in _function_classes() - covered)
    assert not missing, f"Function classes without a gradcheck case: {missing}"


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0] * 3.0   # should be 2

    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(GradcheckError, match="FAIL"):
        gradcheck(lambda t: WrongSquare()(t), [x])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class ConstantSlopeExp(Function):   # right first derivative, but its backward is not differentiable
        def forward(self, x):
            return np.exp(x)

        def backward(self, gy):
            return gy * Tensor(np.exp(self.inputs[0].data))

    x = Tensor(np.random.default_rng(0).standard_normal(4), requires_grad=True)
    gradcheck(lambda t: ConstantSlopeExp()(t), [x])
    with pytest.raises(GradcheckError, match="second order"):
        gradgradcheck(lambda t: ConstantSlopeExp()(t), [x])


def test_gradcheck_checks_every_input_not_only_the_first():
    class WrongSecondInput(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            a, b = self.inputs
            return gy * b, gy * b    # wrong for b

    a, b = (Tensor(np.random.default_rng(i).standard_normal(3), requires_grad=True) for i in range(2))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: WrongSecondInput()(x, y), [a, b])
    assert "FAIL" in str(info.value).splitlines()[-2] or "FAIL" in str(info.value)


def test_gradcheck_requires_float64():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2.0, [x])


# ------------------------------------------------------- hypothesis: shapes and layouts
ELEMENTWISE2 = [c for c in CASES if "elementwise2" in c.tags]
ELEMENTWISE1 = [c for c in CASES if "elementwise1" in c.tags]


def _layout(data, array, non_contiguous):
    """The same values, optionally as a non-contiguous view (a slice of a bigger array)."""
    if not non_contiguous or array.ndim == 0:
        return array
    big = np.zeros(array.shape[:-1] + (2 * array.shape[-1],))
    big[..., ::2] = array
    view = big[..., ::2]
    assert not view.flags.c_contiguous or array.shape[-1] <= 1
    return view


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("case", ELEMENTWISE2, ids=[c.name for c in ELEMENTWISE2])
def test_binary_ops_broadcast(case, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                         min_side=1, max_side=3))
    seed = data.draw(st.integers(0, 2**16))
    non_contiguous = data.draw(st.booleans())
    rng = np.random.default_rng(seed)
    inputs = [Tensor(_layout(data, draw(rng, s, case.domain(i)), non_contiguous), requires_grad=True)
              for i, s in enumerate(shapes.input_shapes)]
    out = case.fn(*inputs)
    assert out.shape == shapes.result_shape
    gradcheck(case.fn, inputs, atol=case.atol, rtol=case.rtol, name=case.name)
    gradgradcheck(case.fn, inputs, atol=case.atol, rtol=case.rtol, name=case.name)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("case", ELEMENTWISE1, ids=[c.name for c in ELEMENTWISE1])
def test_unary_ops_any_shape(case, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = Tensor(_layout(data, draw(rng, shape, case.domain(0)), data.draw(st.booleans())), requires_grad=True)
    assert case.fn(x).shape == shape
    gradcheck(case.fn, [x], atol=case.atol, rtol=case.rtol, name=case.name)
    gradgradcheck(case.fn, [x], atol=case.atol, rtol=case.rtol, name=case.name)


@settings(max_examples=10, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_reductions_any_axis(shape, data):
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    keepdims = data.draw(st.booleans())
    x = Tensor(draw(np.random.default_rng(0), shape, "distinct"), requires_grad=True)
    for fn in (lambda t: t.sum(axis=axis, keepdims=keepdims),
               lambda t: t.mean(axis=axis, keepdims=keepdims),
               lambda t: t.amax(axis=axis, keepdims=keepdims),
               lambda t: mg.logsumexp(t, axis=axis, keepdims=keepdims)):
        expected = fn(Tensor(x.data)).shape
        assert expected == np.sum(x.data, axis=axis, keepdims=keepdims).shape
        gradcheck(fn, [x])
        gradgradcheck(fn, [x])
