"""Numerical checks of gradients: first order (gradcheck) and second order (gradgradcheck).

The backward rule of an op is correct when it agrees with finite differences.
For f with outputs y and a fixed random direction v, the backward pass computes

    analytic:   d <f(x), v> / dx            (one vector-Jacobian product, J^T v)
    numerical:  (<f(x + eps e_i), v> - <f(x - eps e_i), v>) / (2 eps)   for every element i

and the two must match (|a - n| <= atol + rtol |n|) for every input that requires grad.
A wrong Jacobian entry goes unnoticed only if its error is orthogonal to a random v,
which has probability zero. Run in float64: float32 differences are too coarse.

gradgradcheck applies the same test to the function (x, v) -> d<f(x), v>/dx built with
create_graph=True, so the backward of every backward is checked too.

    python -m minigen.gradcheck      # the table for every op in the library
"""
import numpy as np

from minigen import backend
from minigen.autograd import grad
from minigen.tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message holds the table."""


class GradcheckReport:
    """One row per checked input: its shape and the largest absolute/relative error."""

    def __init__(self, name, rows):
        self.name, self.rows = name, rows

    @property
    def ok(self):
        return all(row["ok"] for row in self.rows)

    @property
    def max_abs_error(self):
        return max((row["max_abs_error"] for row in self.rows), default=0.0)

    def __str__(self):
        lines = [f"{self.name}:", f"  {'input':>5}  {'shape':<16} {'max abs err':>12} {'max rel err':>12}  result"]
        for row in self.rows:
            lines.append(f"  {row['input']:>5}  {str(row['shape']):<16} {row['max_abs_error']:12.3e} "
                         f"{row['max_rel_error']:12.3e}  {'ok' if row['ok'] else 'FAIL'}")
            if not row["ok"]:
                lines.append(f"         worst element {row['worst_index']}: analytic "
                             f"{row['analytic']:.8g}, numerical {row['numerical']:.8g}")
        return "\n".join(lines)

    __repr__ = __str__


def _as_outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _directions(outputs, seed):
    rng = np.random.default_rng(seed)
    return [Tensor(backend.as_array(rng.standard_normal(y.shape), dtype=y.dtype, like=y.data))
            for y in outputs]


def _projection(fn, inputs, directions):
    """<f(inputs), v> as a Python float.

    Not under no_grad: for the second-order check, fn itself differentiates.
    """
    outputs = _as_outputs(fn(*inputs))
    return float(sum(float((y.data * v.data).sum()) for y, v in zip(outputs, directions)))


def _check_float64(inputs, name):
    for i, x in enumerate(inputs):
        if x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"{name}: input {i} is {x.dtype}; gradient checks need float64 inputs")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True, name=None):
    """Compare the backward of `fn` with central finite differences, for every input
    that requires grad. Returns a GradcheckReport; raises GradcheckError on failure."""
    name = name or getattr(fn, "__name__", "fn")
    inputs = list(inputs)
    _check_float64(inputs, name)
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError(f"{name}: no input requires grad, nothing to check")

    outputs = [y for y in _as_outputs(fn(*inputs)) if y.requires_grad]
    directions = _directions(outputs, seed)
    analytic = grad(outputs, [inputs[i] for i in checked], grad_outputs=directions,
                    allow_unused=True)

    rows = []
    for i, a in zip(checked, analytic):
        x = inputs[i]
        original = x.data
        xp = backend.get_array_module(original)
        a = xp.zeros(x.shape, dtype=x.dtype) if a is None else a.data
        numerical = xp.zeros(x.shape, dtype=np.float64)
        flat = numerical.reshape(-1)
        try:
            for k in range(x.numel()):
                perturbed = original.copy()
                view = perturbed.reshape(-1)
                view[k] = original.reshape(-1)[k] + eps
                x.data = perturbed
                plus = _projection(fn, inputs, directions)
                view[k] = original.reshape(-1)[k] - eps
                minus = _projection(fn, inputs, directions)
                flat[k] = (plus - minus) / (2 * eps)
        finally:
            x.data = original
        abs_err = xp.abs(a - numerical)
        rel_err = abs_err / xp.maximum(xp.abs(numerical), 1e-12)
        bad = abs_err > atol + rtol * xp.abs(numerical)
        worst = int(xp.argmax(abs_err - (atol + rtol * xp.abs(numerical)))) if x.numel() else 0
        rows.append(dict(
            input=i, shape=x.shape,
            max_abs_error=float(abs_err.max()) if x.numel() else 0.0,
            max_rel_error=float(rel_err.max()) if x.numel() else 0.0,
            ok=not bool(bad.any()),
            worst_index=np.unravel_index(worst, x.shape) if x.numel() else (),
            analytic=float(a.reshape(-1)[worst]) if x.numel() else 0.0,
            numerical=float(numerical.reshape(-1)[worst]) if x.numel() else 0.0))
    report = GradcheckReport(name, rows)
    if raise_exception and not report.ok:
        raise GradcheckError("gradient check failed\n" + str(report))
    return report


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True, name=None):
    """Second-order check: gradcheck of (inputs, v) -> d<fn(inputs), v>/d inputs."""
    name = name or getattr(fn, "__name__", "fn")
    inputs = list(inputs)
    _check_float64(inputs, name)
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    outputs = [y for y in _as_outputs(fn(*inputs)) if y.requires_grad]
    rng = np.random.default_rng(seed + 1)
    directions = [Tensor(backend.as_array(rng.standard_normal(y.shape), dtype=y.dtype, like=y.data),
                         requires_grad=True) for y in outputs]
    n = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        ys = [y for y in _as_outputs(fn(*xs)) if y.requires_grad]
        grads = grad(ys, [xs[i] for i in checked], grad_outputs=list(vs),
                     create_graph=True, allow_unused=True)
        return tuple(g if g is not None else _zeros_like(xs[i]) for g, i in zip(grads, checked))

    first_derivative.__name__ = f"d({name})"
    return gradcheck(first_derivative, inputs + directions, eps=eps, atol=atol, rtol=rtol,
                     seed=seed + 2, raise_exception=raise_exception, name=f"{name} (second order)")


def _zeros_like(x):
    # A zero that still depends on x, so the second-order graph stays connected.
    return x * 0.0


def main(argv=None):
    """Print the first- and second-order check of every op case of the library."""
    import argparse
    from minigen.op_cases import all_cases

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--only", help="check only cases whose name contains this text")
    args = parser.parse_args(argv)

    print(f"{'op':<56} {'inputs':>6} {'1st-order err':>14} {'2nd-order err':>14}  result")
    failures = 0
    for case in all_cases():
        if args.only and args.only not in case.name:
            continue
        inputs = case.make_inputs(np.random.default_rng(0))
        results = [check(case.fn, inputs, atol=case.atol, rtol=case.rtol,
                         raise_exception=False, name=case.name)
                   for check in (gradcheck, gradgradcheck)]
        ok = all(r.ok for r in results)
        failures += not ok
        errors = [f"{r.max_abs_error:14.2e}" for r in results]
        print(f"{case.name:<56} {sum(x.requires_grad for x in inputs):>6} {errors[0]} {errors[1]}  "
              f"{'pass' if ok else 'FAIL'}")
    print(f"\n{'all passed' if not failures else f'{failures} FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
