"""How much a reader has to read: the backward walk's size and one step-through.

    python benchmarks/engine_walk.py

Prints
  * the lines and the cyclomatic complexity (McCabe: 1 + one per if/elif, for, while,
    except, with-item-free boolean operator, comprehension `if`, conditional expression,
    assert) of `minigen.autograd.run_backward` and of its helpers, from the source's AST
    (no dependency: the same rules as `radon cc`, nested functions counted separately);
  * the distinct Python functions of the `minigen` package entered by
        x = mg.tensor(np.arange(3.0), requires_grad=True); (x * x).sum().backward()
    forward and backward, counted with `sys.setprofile` (after one warm-up run, so
    imports and first-call caches do not count), and the files they live in.
"""
import ast
import inspect as std_inspect
import os
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402

import minigen as mg  # noqa: E402
from minigen import autograd  # noqa: E402

PACKAGE = os.path.join(REPO, "minigen") + os.sep


class _Complexity(ast.NodeVisitor):
    """McCabe complexity of one function body (nested defs/lambdas not included)."""

    def __init__(self):
        self.score = 1

    def generic_visit(self, node):
        if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler,
                             ast.IfExp, ast.Assert)):
            self.score += 1
        elif isinstance(node, ast.BoolOp):
            self.score += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            self.score += 1 + len(node.ifs)
        elif isinstance(node, getattr(ast, "match_case", ())):
            self.score += 1
        super().generic_visit(node)

    def visit_FunctionDef(self, node):      # a nested def is its own block
        if node is not self.root:
            return
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        return


def measure(function):
    """(lines of source, cyclomatic complexity) of `function`."""
    source = textwrap.dedent(std_inspect.getsource(function))
    tree = ast.parse(source).body[0]
    counter = _Complexity()
    counter.root = tree
    counter.visit(tree)
    return len(source.rstrip("\n").splitlines()), counter.score


def functions_entered():
    """The distinct package functions entered by the step-through, with their files."""
    def program():
        x = mg.tensor(np.arange(3.0), requires_grad=True)
        (x * x).sum().backward()

    program()                                   # warm-up: lazy imports, caches
    seen = {}

    def profiler(frame, event, arg):
        if event == "call":
            code = frame.f_code
            if os.path.abspath(code.co_filename).startswith(PACKAGE):
                seen[(code.co_filename, code.co_firstlineno, code.co_name)] = True

    sys.setprofile(profiler)
    try:
        program()
    finally:
        sys.setprofile(None)
    return list(seen)


def main():
    print("minigen.autograd.run_backward and its helpers (lines, cyclomatic complexity):")
    helpers = [autograd.run_backward]
    for dotted in getattr(autograd, "WALK_HELPERS", ()):     # "Schedule.push", "call_backward"
        obj = autograd
        for part in dotted.split("."):
            obj = getattr(obj, part)
        helpers.append(obj)
    for function in helpers:
        lines, cc = measure(function)
        print(f"  {function.__qualname__:<28} {lines:4d} lines  complexity {cc}")
    entered = functions_entered()
    files = sorted({os.path.relpath(f, REPO) for f, _, _ in entered})
    print("\nx = mg.tensor(np.arange(3.0), requires_grad=True); (x * x).sum().backward()")
    print(f"  enters {len(entered)} distinct minigen functions in {len(files)} files:")
    for name in files:
        names = [n for f, _, n in entered if os.path.relpath(f, REPO) == name]
        print(f"    {name}: {', '.join(names)}")


if __name__ == "__main__":
    main()
