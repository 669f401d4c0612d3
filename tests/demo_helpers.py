"""Running a demo from a test, the two ways the tests do it (one definition for all of them).

``run_demo`` starts ``demos/NAME`` in its own Python, as a user would, and returns what
it printed; ``load_demo`` imports ``demos/NAME.py`` as a module, so a test can call its
``main(argv)`` or ``build_parser()`` in-process.  Both use the Agg backend, and
``run_demo`` forbids downloads (the embedded data only).
"""
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMOS = os.path.join(ROOT, "demos")


def demo_path(name):
    """demos/NAME.py; ``name`` may carry the ``.py`` or not."""
    return os.path.join(DEMOS, name if name.endswith(".py") else name + ".py")


def run_demo(name, out, *flags, timeout=170):
    """Run ``python demos/NAME --out OUT FLAGS...`` offline; assert it succeeds (showing the
    tail of its output when it does not) and return its stdout."""
    env = dict(os.environ, MINIGEN_OFFLINE="1", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, demo_path(name), "--out", str(out), *flags],
                            capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def load_demo(name, module_name=None):
    """Import demos/NAME.py as a module (its ``main`` is not run); ``module_name`` defaults
    to the file's name."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    path = demo_path(name)
    module_name = module_name or os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
