"""The derivative sheet: every op's formula and derivative, read from its docstring.

    python -m minigen.ops

Each public function of `minigen/ops/*.py` states its formula in the first paragraph
of its docstring and its derivative in a paragraph that starts with `d` (`dy/dx = ...`);
this collects them, one line per op, in the order of the files.
"""
import importlib
import inspect

MODULES = ("elementwise", "reduce", "matmul", "shape", "conv", "pool", "norm", "loss")


def formula_and_derivative(function):
    """(formula, derivative) from the docstring of `function`; None when it has none."""
    doc = inspect.getdoc(function) or ""
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
    derivative = next((p for p in paragraphs[1:] if p.startswith("d")), None)
    if not paragraphs or derivative is None:
        return None
    return paragraphs[0], derivative


def sheet_rows():
    """[(module, name, formula, derivative)] for every op with a stated derivative."""
    rows = []
    for module_name in MODULES:
        module = importlib.import_module(f"minigen.ops.{module_name}")
        functions = list({id(f): f for name, f in vars(module).items()      # aliases once
                          if inspect.isfunction(f) and not name.startswith("_")
                          and f.__module__ == module.__name__}.values())
        functions.sort(key=lambda f: f.__code__.co_firstlineno)
        for f in functions:
            found = formula_and_derivative(f)
            if found is not None:
                rows.append((module_name, f.__name__) + found)
    return rows


def derivative_sheet():
    """The sheet as text: a heading per file, then one line per op: name, formula, derivative."""
    lines, current = [], None
    for module_name, name, formula, derivative in sheet_rows():
        if module_name != current:
            lines.append(f"{'' if current is None else chr(10)}minigen/ops/{module_name}.py")
            current = module_name
        lines.append(f"  {name:<16} {formula}   {derivative}")
    return "\n".join(lines)
