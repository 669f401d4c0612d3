"""The lecture notebooks (notebooks/L6_*.py, jupytext percent format).

1. Every notebook runs top to bottom at MINIGEN_TINY=1 in a real Jupyter kernel
   (jupytext converts it in memory, nbclient executes it); any error cell fails.
2. The notebooks use only the public API of minigen: no ``_private`` module or name is
   imported, and no ``obj._private`` attribute is touched.
"""
import ast
import glob
import importlib
import importlib.util
import os
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "L6_*.py")))
# a hang guard, not a speed test: a tiny run takes ~20 s here, so a notebook still running
# after 10 minutes is stuck (the budget is shared by its cells; CI's budget is 90 minutes)
NOTEBOOK_TIMEOUT_S = 600


def ids(paths):
    return [os.path.basename(p) for p in paths]


LECTURES = ("L6_1", "L6_2", "L6_3", "L6_4")


def test_the_lecture_notebooks_exist():
    names = ids(NOTEBOOKS)
    for lecture in LECTURES:
        assert any(n.startswith(lecture) for n in names), (lecture, names)


# ------------------------------------------------------------------ 1. they run
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_runs_at_tiny_size(path, tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # the kernel inherits this environment: the tiny switch, this checkout's minigen,
    # and one thread per library (2 shared cores)
    monkeypatch.setenv("MINIGEN_TINY", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(var, os.environ.get(var, "1"))

    nb = jupytext.read(path)
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT_S
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", allow_errors=False,
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),   # what is left
        resources={"metadata": {"path": str(tmp_path)}})                      # cwd: out/ goes here
    client.execute()            # raises CellExecutionError naming the cell on any error

    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, errors
    images = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    assert images, f"{os.path.basename(path)} showed no picture inline"


# ------------------------------------------------------------------ 2. public API only
def private_uses(source: str) -> list[str]:
    """Every private minigen import and every ``._private`` attribute in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "minigen" and any(
                        part.startswith("_") for part in alias.name.split(".")):
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] != "minigen":
                continue
            if any(part.startswith("_") for part in module.split(".")):
                found.append(f"line {node.lineno}: from {module} import ...")
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"line {node.lineno}: from {module} import {alias.name}")
        elif isinstance(node, ast.Attribute):
            name = node.attr
            if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                found.append(f"line {node.lineno}: .{name}")
    return found


def test_private_use_detector_finds_each_kind():
    source = ("import minigen._secret\n"
              "from minigen.models.vae.model import _LatentVariableModel\n"
              "from minigen.models.classic._base import check_array\n"
              "model._modules\n"
              "import numpy._core\n"            # not minigen: allowed as an import
              "x.__class__\n")                 # dunders are public Python
    found = private_uses(source)
    assert [f.split(":")[0] for f in found] == ["line 1", "line 2", "line 3", "line 4"], found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_uses_only_public_minigen(path):
    with open(path, encoding="utf-8") as f:
        source = f.read()
    assert private_uses(source) == []
    # and every minigen module it imports exists (a renamed module fails here, not in CI's kernel)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("minigen"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}"), f"{node.module}.{alias.name}"
