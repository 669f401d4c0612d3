"""Load a program of this folder on minigen or, with its import lines swapped, on PyTorch.

Each program marks the lines that differ from its PyTorch original with a trailing
`# torch: <the PyTorch line>` comment; `load(name, "torch")` puts those PyTorch lines
back, so both runs execute the same source apart from the imports.
"""
import os
import re
import types

HERE = os.path.dirname(os.path.abspath(__file__))
_MARKED = re.compile(r"^(?P<ours>\S.*?)\s+# torch: (?P<theirs>.+)$")


def source(name, library):
    with open(os.path.join(HERE, name + ".py")) as f:
        text = f.read()
    lines, swapped = [], 0
    for line in text.splitlines():
        marked = _MARKED.match(line)
        if marked and library == "torch":
            line, swapped = marked.group("theirs"), swapped + 1
        lines.append(line)
    if library == "torch" and not swapped:
        raise ValueError(f"{name}.py marks no import line with '# torch: ...'")
    return "\n".join(lines) + "\n"


def changed_lines(name):
    """The lines that differ between the minigen and the PyTorch version of a program."""
    ours, theirs = source(name, "minigen").splitlines(), source(name, "torch").splitlines()
    return [(a, b) for a, b in zip(ours, theirs) if a != b]


def load(name, library="minigen"):
    """The program as a fresh module object, importing minigen (or torch)."""
    module = types.ModuleType(f"{name}_{library}")
    module.__file__ = os.path.join(HERE, name + ".py")
    code = compile(source(name, library), module.__file__, "exec")
    exec(code, module.__dict__)
    return module
