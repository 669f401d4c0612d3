"""explain(op): an op's derivative rule, its backward code, and a numerical check of it.

    inspect.explain(mg.log)          # a function of minigen / minigen.functional
    inspect.explain("sigmoid")       # by name (an op case, a Function class, a function)
    inspect.explain(Log)             # a Function class of minigen.ops
    inspect.explain(lambda x: x * x.sin(), inputs=[x])   # any function of tensors

For every Function that the op builds, it prints the class's docstring (where each op
writes its derivative), the file and line where it is defined, and its `backward`
method. Then it checks that backward against finite differences on a small random
float64 input, to first order (gradcheck) and second order (gradgradcheck), reusing
the op's case from `minigen.op_cases` (its shapes and the domain its inputs come from,
e.g. positive numbers for log) when there is one.
"""
import difflib
import importlib
import inspect as _pyinspect
import os
import pkgutil
import sys
import textwrap

import numpy as np

import minigen
from minigen import autograd
from minigen.autograd import grad
from minigen.function import Function
from minigen.gradcheck import gradcheck, gradgradcheck
from minigen.tensor import Tensor

_REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(minigen.__file__)))
_case_classes = {}             # case name -> (forward classes, backward-only classes)


# ------------------------------------------------------------------ finding things
def op_classes():
    """name -> Function subclass, for every op class defined in minigen.ops."""
    import minigen.ops
    classes = {}
    for info in pkgutil.iter_modules(minigen.ops.__path__):
        module = importlib.import_module(f"minigen.ops.{info.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, Function) and obj is not Function
                    and obj.__module__ == module.__name__ and not obj.__name__.startswith("_")):
                classes[obj.__name__] = obj
    return classes


def classes_in_graph(outputs):
    """The Function classes of the graph behind `outputs`, inputs first (by generation)."""
    ordered = []
    for node in sorted(autograd.graph_nodes(outputs), key=lambda n: n.generation):
        if type(node) not in ordered:
            ordered.append(type(node))
    return ordered


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _graph_classes(case):
    """(classes of the forward graph, classes met only in the create_graph backward)."""
    inputs = case.make_inputs(np.random.default_rng(0))
    outputs = [y for y in _as_list(case.fn(*inputs)) if y.requires_grad]
    forward = classes_in_graph(outputs)
    grads = grad(outputs, inputs, grad_outputs=[Tensor(np.ones(y.shape)) for y in outputs],
                 create_graph=True, allow_unused=True)
    backward = classes_in_graph([g for g in grads if g is not None and g.creator is not None])
    return forward, [c for c in backward if c not in forward]


def _cases_with(cls):
    """The op cases whose graph contains `cls`: (case, in_forward) pairs, forward ones first.

    Running every case takes seconds, so the cases whose name starts like the class
    (Conv2dGradWeight -> 'conv2d ...') are tried first; all of them only if none fits.
    """
    from minigen.op_cases import all_cases
    cases = all_cases()
    prefix = cls.__name__.lower()[:4]
    likely = [c for c in cases if c.name.replace("_", "").lower().startswith(prefix)]
    for candidates in (likely, cases):
        hits = []
        for case in candidates:
            forward, backward = _classes_of_case(case)
            if cls in forward or cls in backward:
                hits.append((case, cls in forward))
        if hits:
            return sorted(hits, key=lambda hit: not hit[1])
    return []


def _classes_of_case(case):
    """_graph_classes of a case, remembered (cases are fixed, so are their graphs)."""
    if case.name not in _case_classes:
        _case_classes[case.name] = _graph_classes(case)
    return _case_classes[case.name]


def _case_named(name):
    from minigen.op_cases import all_cases
    return next((case for case in all_cases() if case.name == name), None)


def _case_of_function(fn):
    from minigen.op_cases import all_cases
    cases = all_cases()
    return (next((c for c in cases if c.fn is fn), None)
            or next((c for c in cases if c.name == getattr(fn, "__name__", None)), None))


def _resolve(target):
    """What to explain: (title, case or None, callable or None, class to put first or None)."""
    if isinstance(target, Function):
        target = type(target)
    if isinstance(target, type) and issubclass(target, Function):
        hits = _cases_with(target)
        case = hits[0][0] if hits else None
        return target.__name__, case, (case.fn if case else None), target
    if isinstance(target, str):
        case = _case_named(target)
        if case is not None:
            return target, case, case.fn, None
        classes = op_classes()
        by_lower = {name.lower(): cls for name, cls in classes.items()}
        cls = classes.get(target) or by_lower.get(target.lower())
        if cls is not None:                     # a class has a case; prefer it to a wrapper
            return _resolve(cls)
        for module in (minigen.functional, minigen):
            fn = getattr(module, target, None)
            if callable(fn) and not isinstance(fn, type):
                return _resolve(fn)
        from minigen.op_cases import all_cases
        choices = [c.name for c in all_cases()] + list(classes)
        close = difflib.get_close_matches(target, choices, n=5)
        raise ValueError(f"explain: no op named {target!r}"
                         + (f"; did you mean {', '.join(map(repr, close))}?" if close else ""))
    if callable(target):
        case = _case_of_function(target)
        return getattr(target, "__name__", "fn"), case, target, None
    raise TypeError(f"explain: expected a Function class, a function or a name, got {type(target)}")


# ------------------------------------------------------------------ the text
def _location(cls):
    try:
        filename = _pyinspect.getsourcefile(cls)
        line = _pyinspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return "source not available"
    path = os.path.relpath(filename, _REPO_DIR) if filename.startswith(_REPO_DIR) else filename
    return f"{path}:{line}"


def rule_text(cls, source=True):
    """The docstring (the derivative) of a Function class and, optionally, its backward."""
    doc = _pyinspect.getdoc(cls) or "(no docstring: this op does not state its derivative)"
    lines = [f"{cls.__name__}  ({_location(cls)})", textwrap.indent(doc, "    ")]
    if source:
        try:
            code = textwrap.dedent(_pyinspect.getsource(cls.backward))
            lines += ["  its backward, written in engine ops:", textwrap.indent(code.rstrip(), "    ")]
        except (OSError, TypeError):
            pass
    return "\n".join(lines)


def _default_inputs(fn, rng):
    """One (3, 4) standard-normal float64 input per required positional argument."""
    try:
        params = _pyinspect.signature(fn).parameters.values()
        count = sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                    for p in params)
    except (TypeError, ValueError):
        count = 1
    return [Tensor(rng.standard_normal((3, 4)), requires_grad=True) for _ in range(max(count, 1))]


class Explanation:
    """What explain() found: the text it printed, the check reports, and whether they pass."""

    def __init__(self, title, text, classes, reports):
        self.title, self.text, self.classes, self.reports = title, text, classes, reports

    @property
    def ok(self):
        return all(r.ok for r in self.reports)

    def __str__(self):
        return self.text

    def __repr__(self):
        state = "checks pass" if self.ok else "CHECK FAILED"
        return f"<Explanation of {self.title}: {len(self.classes)} op(s), {state}>"


def explain(fn_or_op, inputs=None, seed=0, source=True, check=True, file=None, show=True):
    """Print the derivative rule of an op (or of every op a function builds) and check it.

    fn_or_op: a Function class or instance, a function of Tensors, or a name.
    inputs: the Tensors to check on (float64, requires_grad); by default the op's case
        from minigen.op_cases, or (3, 4) standard-normal inputs.
    Returns an Explanation (.text, .reports, .ok).
    """
    title, case, fn, first_class = _resolve(fn_or_op)
    rng = np.random.default_rng(seed)
    if inputs is None and fn is not None:
        inputs = case.make_inputs(rng) if case is not None else _default_inputs(fn, rng)
    lines = [f"explain: {title}", "=" * (9 + len(title))]

    classes = []
    if fn is not None:
        classes = classes_in_graph([y for y in _as_list(fn(*inputs)) if y.requires_grad])
    if first_class is not None:
        if case is not None and first_class not in classes:
            lines.append(f"{first_class.__name__} is built by the backward of '{case.name}': its "
                         "rule is checked by that case's second-order check below.\n")
        classes = [first_class] + [c for c in classes if c is not first_class]
    for cls in classes[:8]:
        lines += [rule_text(cls, source), ""]
    if len(classes) > 8:
        lines.append(f"(and {len(classes) - 8} more ops: {', '.join(c.__name__ for c in classes[8:])})\n")

    reports = []
    if check and fn is None:
        lines.append(f"no op case uses {title}, so there is no numerical check to show "
                     "(add one to minigen/op_cases.py)")
    elif check:
        kwargs = dict(atol=case.atol, rtol=case.rtol) if case is not None else {}
        where = (f"op case '{case.name}', domain '{case.domains}'" if case is not None
                 else "inputs given" if inputs is not None else "standard normal inputs")
        shapes = ", ".join(str(x.shape) for x in inputs)
        lines.append(f"numerical check on a small random input (float64, shapes {shapes}; {where}):")
        for label, checker in (("first order ", gradcheck), ("second order", gradgradcheck)):
            report = checker(fn, inputs, raise_exception=False,
                             name=case.name if case is not None else title, **kwargs)
            reports.append(report)
            lines.append(f"  {label}  max abs error {report.max_abs_error:.2e}   "
                         f"{'ok' if report.ok else 'FAILED'}")
        lines.append("")
        lines += [textwrap.indent(str(r), "  ") for r in reports]
    result = Explanation(title, "\n".join(lines), classes, reports)
    if show:
        print(result.text, file=file or sys.stdout)
    return result
