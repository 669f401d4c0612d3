"""Each op's function carries its formula and derivative; the sheet collects them."""
import subprocess
import sys

import minigen as mg
import minigen.functional as F
from minigen.ops._sheet import derivative_sheet, sheet_rows


def test_help_of_an_op_shows_formula_and_derivative():
    for fn, formula, derivative in ((F.sigmoid, "y = 1 / (1 + exp(-x))", "dy/dx = y (1 - y)"),
                                    (mg.exp, "y = exp(x)", "dy/dx = exp(x)"),
                                    (F.relu, "y = max(x, 0)", "dy/dx = 1 where x > 0"),
                                    (F.conv2d, "y[n, o, i, j] = sum over c, p, q", "dy/dx = conv_transpose2d(gy, w)"),
                                    (F.batch_norm, "y = (x - mean) / sqrt(var + eps)", "dy/dbias = sum(gy)")):
        assert formula in fn.__doc__ and derivative in fn.__doc__


def test_the_sheet_lists_every_elementwise_function_once():
    rows = sheet_rows()
    names = [name for module, name, _, _ in rows]
    assert len(names) == len(set(names))
    for name in ("add", "mul", "exp", "tanh", "sigmoid", "relu", "sum", "matmul", "conv2d", "max_pool2d",
                 "conv_transpose2d", "batch_norm", "layer_norm", "group_norm", "instance_norm", "dropout"):
        assert name in names


def test_python_dash_m_minigen_ops_prints_the_sheet():
    out = subprocess.run([sys.executable, "-m", "minigen.ops"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == derivative_sheet().strip()
    assert "minigen/ops/elementwise.py" in out and "dy/dx = y (1 - y)" in out
