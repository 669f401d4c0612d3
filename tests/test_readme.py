"""The README's two set-up commands stay true: they exist, in order, and name real files."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def setup_commands():
    with open(os.path.join(ROOT, "README.md")) as f:
        return [line.strip() for line in f if line.startswith("python3 -m venv .venv && ")]


def test_two_setup_commands_demo_then_tests():
    commands = setup_commands()
    assert len(commands) == 2, commands
    demo, tests = commands
    assert re.search(r"pip install -e \. && python (demos/\S+\.py)$", demo), demo
    assert tests.endswith('pip install -e ".[dev]" && python -m pytest'), tests


def test_main_demo_exists_and_ci_finds_the_test_command():
    demo, tests = setup_commands()
    script = demo.rsplit(" ", 1)[-1]
    assert os.path.isfile(os.path.join(ROOT, script)), script
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = f.read()
    pattern = re.search(r"grep -m1 -E '([^']+)' README.md", ci).group(1)
    assert re.search(pattern, tests) and not re.search(pattern, demo)
