"""Every demo checks its command line at parse time, with minigen.train's shared argument types.

A zero or negative length, a fractional count, a seed out of range or an --out that is a
file stops the demo with argparse's "argument --X: ..." message (exit status 2) before
it loads any data; nothing runs and reports success.  Only the parsers are built here,
so the test is fast.
"""
import glob
import os

import pytest
from demo_helpers import load_demo

from minigen.train import DemoArgumentParser

DEMOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demos")
DEMO_FILES = sorted(path for path in glob.glob(os.path.join(DEMOS, "*.py"))
                    if "def main(" in open(path).read())
NAMES = [os.path.splitext(os.path.basename(path))[0] for path in DEMO_FILES]


def _parser(name):
    return load_demo(name, f"demo_{name}").build_parser()


def _options(parser):
    return {option: action for action in parser._actions for option in action.option_strings}


def _refused(parser, argv, capsys):
    """Parse ``argv``; return argparse's error message (it must refuse)."""
    with pytest.raises(SystemExit) as info:
        parser.parse_args(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def test_the_demos_are_found():
    assert {"vae", "gradients", "classic_pca", "vae_anomaly"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_demo_uses_the_shared_parser_and_typed_options(name):
    parser = _parser(name)
    assert isinstance(parser, DemoArgumentParser)           # minigen.train.demo_parser / arg_parser
    options = _options(parser)
    assert {"--out", "--seed"} <= set(options)
    for option, action in options.items():
        # a bare int / float accepts 0, -5, nan: every number goes through a checked type
        # (a fixed list of choices is checked by argparse itself)
        if action.choices is None:
            assert action.type not in (int, float), f"{name}: {option} is not checked"
    parser.parse_args([])                                    # the defaults are valid


LENGTHS = ["--epochs", "--steps", "--batch-size", "--latent-dim", "--hidden", "--k", "--n",
           "--n-train", "--n-test", "--n-docs", "--deep-steps", "--eval-k", "--grid"]


@pytest.mark.parametrize("name", NAMES)
def test_lengths_must_be_positive_integers(name, capsys):
    parser = _parser(name)
    present = [option for option in LENGTHS if option in _options(parser)]
    for option in present:
        for bad in ("0", "-1", "2.5", "ten"):
            message = _refused(parser, [option, bad], capsys)
            assert f"argument {option}" in message and bad in message, message
    if "--epochs" in present:
        assert "must be at least 1, got -1" in _refused(parser, ["--epochs", "-1"], capsys)


@pytest.mark.parametrize("name", NAMES)
def test_seed_and_out_are_checked(name, tmp_path, capsys):
    parser = _parser(name)
    for bad in ("-1", str(2**64), "1.5", "x"):
        assert "argument --seed" in _refused(parser, ["--seed", bad], capsys)
    parser.parse_args(["--seed", str(2**64 - 1)])
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder")
    assert "is a file, not a folder" in _refused(parser, ["--out", str(a_file)], capsys)
    below = _refused(parser, ["--out", str(a_file / "sub" / "dir")], capsys)
    assert "argument --out" in below and "which is a file" in below
    assert "argument --out" in _refused(parser, ["--out", ""], capsys)
    assert parser.parse_args(["--out", str(tmp_path / "new" / "folder")]).out.endswith("folder")


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("vae")])
def test_training_demos_check_lr_and_checkpoint_every(name, capsys):
    parser = _parser(name)
    for bad in ("0", "-1e-3", "nan", "inf", "fast"):
        assert "argument --lr" in _refused(parser, ["--lr", bad], capsys)
    assert "argument --checkpoint-every" in _refused(parser, ["--checkpoint-every", "-1"], capsys)
    assert parser.parse_args(["--checkpoint-every", "0"]).checkpoint_every == 0


def test_vae_steps_zero_is_refused_before_any_work(capsys):
    # it used to train nothing, evaluate, and then crash on the missing log.csv
    message = _refused(_parser("vae"), ["--steps", "0"], capsys)
    assert "argument --steps: value must be at least 1, got 0" in message


def test_list_and_choice_options_are_checked(capsys):
    assert "argument --ranks" in _refused(_parser("classic_matrix_factorization"),
                                          ["--ranks", "1,0,3"], capsys)
    assert "argument --classes" in _refused(_parser("vae_anomaly"), ["--classes", "3", "10"],
                                            capsys)
