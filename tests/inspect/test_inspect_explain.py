"""explain(): an op's derivative rule from its docstring, and its numerical check."""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.function import Function
from minigen.inspection import explain
from minigen.ops.elementwise import Log


def test_explain_a_function_prints_its_rule_code_and_check(capsys):
    result = explain(mg.log)
    out = capsys.readouterr().out
    assert "y = log(x).   gx = gy / x." in out                 # the docstring rule
    assert "def backward(self, gy):" in out                   # the code beside it
    assert "minigen/ops/elementwise.py:" in out
    assert "domain 'positive'" in out                         # the op case's inputs
    assert "first order " in out and "second order" in out and "ok" in out
    assert result.ok and result.classes == [Log] and len(result.reports) == 2


@pytest.mark.parametrize("target", ["sigmoid", "Log", Log, F.softplus])
def test_explain_by_name_class_or_function(target):
    result = explain(target, show=False)
    assert result.ok
    assert result.classes[0].__doc__.strip().splitlines()[0] in result.text


def test_explain_a_composite_function_lists_every_op():
    x = mg.tensor(np.random.default_rng(0).standard_normal(5), requires_grad=True)
    result = explain(lambda a: a * mg.sin(a), inputs=[x], show=False, source=False)
    names = [c.__name__ for c in result.classes]
    assert names == ["Sin", "Mul"] and result.ok
    assert "def backward" not in result.text


def test_explain_shows_a_failing_check():
    class WrongSquare(Function):
        """y = x^2.   gx = 3 gy x   (wrong on purpose: it should be 2 gy x)."""

        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0] * 3.0

    result = explain(lambda a: WrongSquare()(a), show=False)
    assert not result.ok
    assert "FAIL" in result.text and "wrong on purpose" in result.text


def test_explain_an_unknown_name_suggests_close_ones():
    with pytest.raises(ValueError, match="did you mean .*sigmoid"):
        explain("sigmoyd")
