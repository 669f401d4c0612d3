"""minigen.config: the MINIGEN_TINY switch that notebooks and demos share."""
import os
import subprocess
import sys

import pytest

from minigen.config import TINY_VARIABLE, is_tiny, size


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " 1 "])
def test_tiny_values(monkeypatch, value):
    monkeypatch.setenv(TINY_VARIABLE, value)
    assert is_tiny()
    assert size(3000, tiny=20) == 20


@pytest.mark.parametrize("value", ["", "0", "false", "No", "off"])
def test_normal_values(monkeypatch, value):
    monkeypatch.setenv(TINY_VARIABLE, value)
    assert not is_tiny()
    assert size(3000, tiny=20) == 3000


def test_unset_is_normal(monkeypatch):
    monkeypatch.delenv(TINY_VARIABLE, raising=False)
    assert not is_tiny()
    assert size((28, 28), tiny=(4, 4)) == (28, 28)


def test_read_at_each_call(monkeypatch):
    monkeypatch.setenv(TINY_VARIABLE, "0")
    assert size("long", "short") == "long"
    monkeypatch.setenv(TINY_VARIABLE, "1")
    assert size("long", "short") == "short"


def test_typo_is_an_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv(TINY_VARIABLE, "ture")
    with pytest.raises(ValueError, match="MINIGEN_TINY='ture'"):
        is_tiny()


def test_child_process_sees_the_variable():
    code = "from minigen.config import size; print(size(100, 3))"
    env = {**os.environ, TINY_VARIABLE: "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "3"
