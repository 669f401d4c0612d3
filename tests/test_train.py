"""The shared training loop: arguments, logging, checkpoints, exact resume, Ctrl-C."""
import csv
import os
import signal

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
import minigen.nn as nn
from minigen.data import DataLoader, binarize_dynamic
from minigen.train import Loop, arg_parser


# -- the command line --------------------------------------------------------------------------
def test_arg_parser_defaults_and_overrides():
    p = arg_parser("demo", steps=100, batch_size=32, lr=2e-4, out="out/demo")
    a = p.parse_args([])
    assert (a.steps, a.epochs, a.batch_size, a.lr, a.seed, a.device, a.out, a.resume) == \
        (100, None, 32, 2e-4, 0, "cpu", "out/demo", False)
    a = p.parse_args(["--epochs", "3", "--device", "cuda", "--resume", "--seed", "5"])
    assert (a.epochs, a.device, a.resume, a.seed) == (3, "cuda", True, 5)
    with pytest.raises(SystemExit):
        p.parse_args(["--steps", "1", "--epochs", "1"])       # one or the other
    with pytest.raises(SystemExit):
        p.parse_args(["--device", "tpu"])
    with pytest.raises(ValueError):
        arg_parser("demo")                                     # the demo must pick a length


# -- a tiny problem whose every step uses randomness -------------------------------------------
def _problem(seed=0):
    """A model, an optimizer and a loader with a random transform; the step also draws
    noise from minigen's RNG, so resuming must restore all three sources exactly."""
    mg.manual_seed(seed)
    rng = np.random.default_rng(0)
    x = rng.random((37, 6)).astype(np.float32)
    y = rng.integers(0, 3, 37)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = mg.optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader((x, y), batch_size=8, shuffle=True, seed=1, transform=binarize_dynamic)
    return model, opt, loader


def _step(model, opt, batch, loop):
    x, y = batch
    noisy = x + 0.1 * mg.randn(*x.shape)
    loss = F.cross_entropy(model(noisy), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    loop.log(loss=loss)


def _params(model):
    return [p.numpy().copy() for p in model.parameters()]


def _run(out, steps, stop_after=None, resume=False, checkpoint_every=5, seed=0):
    model, opt, loader = _problem(seed)
    loop = Loop(loader, state={"model": model, "optimizer": opt}, steps=steps, out=str(out),
                resume=resume, checkpoint_every=checkpoint_every, progress=False)
    for batch in loop:
        _step(model, opt, batch, loop)
        if loop.step == stop_after:
            break                              # a crash: nothing saved after the last checkpoint
    return model, loop


def _csv(path):
    with open(path) as f:
        return list(csv.reader(f))


def test_resume_continues_bit_for_bit(tmp_path):
    straight, _ = _run(tmp_path / "a", steps=13)
    _run(tmp_path / "b", steps=13, stop_after=8)             # checkpoint of step 5 survives
    # resume from a differently initialised model: everything must come from the checkpoint
    resumed, loop = _run(tmp_path / "b", steps=13, resume=True, seed=123)
    assert loop.step == 13
    for a, b in zip(_params(straight), _params(resumed)):
        np.testing.assert_array_equal(a, b)
    # the log: rows 6..8 of the crashed run were dropped and recomputed identically
    assert _csv(tmp_path / "a" / "log.csv") == _csv(tmp_path / "b" / "log.csv")
    assert [r[0] for r in _csv(tmp_path / "b" / "log.csv")] == ["step"] + [str(i) for i in range(1, 14)]


def test_ctrl_c_saves_at_a_step_boundary_and_exits(tmp_path, capsys):
    straight, _ = _run(tmp_path / "a", steps=9)
    model, opt, loader = _problem()
    loop = Loop(loader, state={"model": model, "optimizer": opt}, steps=9, out=str(tmp_path / "b"),
                checkpoint_every=0, progress=False)
    with pytest.raises(SystemExit) as info:
        for batch in loop:
            if loop.step == 4:
                os.kill(os.getpid(), signal.SIGINT)          # the user presses Ctrl-C mid-step
            _step(model, opt, batch, loop)                   # ...and the step still completes
    assert info.value.code == 130 and loop.interrupted
    assert "interrupted after step 4" in capsys.readouterr().err
    assert int(mg.load(str(tmp_path / "b" / "checkpoint.npz"))["step"]) == 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # handler restored
    resumed, _ = _run(tmp_path / "b", steps=9, resume=True, checkpoint_every=0)
    for a, b in zip(_params(straight), _params(resumed)):
        np.testing.assert_array_equal(a, b)


def test_epochs_every_and_quiet_output(tmp_path, capsys):
    model, opt, loader = _problem()
    loop = Loop(loader, state={"model": model}, epochs=2, out=str(tmp_path), progress=False,
                desc="tiny")
    marks = []
    for batch in loop:
        _step(model, opt, batch, loop)
        if loop.every(4):
            marks.append(loop.step)
    assert loop.total_steps == 2 * len(loader) == 10 and loop.epoch == 2
    assert marks == [4, 8, 10]                               # multiples of 4, and the last step
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("tiny: step 10/10") and "loss" in out[0]
    assert os.path.exists(tmp_path / "checkpoint.npz")       # saved at the end


def test_progress_bar_when_asked(tmp_path, capsys):
    model, opt, loader = _problem()
    for batch in (loop := Loop(loader, state={}, steps=3, out=str(tmp_path), progress=True)):
        _step(model, opt, batch, loop)
    err = capsys.readouterr().err
    assert "3/3" in err and "loss=" in err


def test_resume_without_checkpoint_starts_at_zero(tmp_path, capsys):
    _, loop = _run(tmp_path, steps=3, resume=True)
    assert loop.step == 3 and "no " in capsys.readouterr().err


def test_args_namespace_and_args_json(tmp_path):
    args = arg_parser("demo", steps=2, out=str(tmp_path)).parse_args(["--checkpoint-every", "1"])
    model, opt, loader = _problem()
    loop = Loop(loader, args, state={"model": model, "optimizer": opt}, progress=False)
    for batch in loop:
        _step(model, opt, batch, loop)
    assert loop.total_steps == 2 and loop.checkpoint_every == 1
    assert '"steps": 2' in (tmp_path / "args.json").read_text()
    with pytest.raises(ValueError, match="steps"):
        Loop(loader, out=str(tmp_path))


# -- --resume refuses settings that change the run's meaning -----------------------------------
def _run_cli(out, argv):
    """Train the tiny problem the way a demo does: settings from the shared command line."""
    p = arg_parser("demo", steps=6, batch_size=8, lr=0.05, out=str(out))
    p.add_argument("--hidden", type=int, default=8)                       # a model option
    p.add_argument("--eval-n", type=int, default=10, may_change_on_resume=True)
    args = p.parse_args(argv)
    model, opt, loader = _problem(args.seed)
    loader = DataLoader(loader.dataset, args.batch_size, shuffle=True, seed=args.seed,
                        transform=binarize_dynamic)
    for group in opt.param_groups:
        group["lr"] = args.lr
    loop = Loop(loader, args, state={"model": model, "optimizer": opt}, progress=False)
    for batch in loop:
        _step(model, opt, batch, loop)
    return model, loop


@pytest.mark.parametrize("option, saved, new", [("--lr", 0.05, "0.01"), ("--batch-size", 8, "5"),
                                                ("--seed", 0, "3"), ("--hidden", 8, "16")])
def test_resume_refuses_a_changed_setting_naming_old_and_new(tmp_path, option, saved, new):
    from minigen.train import ResumeError
    _run_cli(tmp_path, ["--steps", "3"])
    with pytest.raises(ResumeError) as info:
        _run_cli(tmp_path, ["--steps", "6", "--resume", option, new])
    message = str(info.value)
    assert f"{option}: saved {saved!r}, now {type(saved)(new)!r}" in message
    assert "checkpoint.npz" in message and "without --resume" in message
    assert int(mg.load(str(tmp_path / "checkpoint.npz"))["step"]) == 3      # left untouched


def test_resume_may_change_length_out_and_evaluation_options(tmp_path):
    straight, _ = _run_cli(tmp_path / "a", ["--steps", "6"])
    _run_cli(tmp_path / "b", ["--steps", "3"])
    resumed, loop = _run_cli(tmp_path / "b", ["--steps", "6", "--resume", "--eval-n", "99",
                                              "--checkpoint-every", "2"])
    assert loop.step == 6
    for a, b in zip(_params(straight), _params(resumed)):
        np.testing.assert_array_equal(a, b)


def test_resume_refuses_a_loader_with_another_batch_size_even_without_args(tmp_path):
    from minigen.train import ResumeError
    _run(tmp_path, steps=3)
    model, opt, loader = _problem()
    other = DataLoader(loader.dataset, 5, shuffle=True, seed=1)
    with pytest.raises(ResumeError, match=r"batch_size 8 when saved, 5 now"):
        for _ in Loop(other, state={"model": model}, steps=6, out=str(tmp_path), resume=True,
                      progress=False):
            pass


def test_help_documents_what_resume_refuses(capsys):
    with pytest.raises(SystemExit):
        arg_parser("demo", steps=1).parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--resume continues OUT/checkpoint.npz exactly, so it refuses" in text
    assert "--lr, --batch-size, --seed" in text


# -- zero or negative lengths are refused, not run as nothing --------------------------------
@pytest.mark.parametrize("length, message", [(dict(steps=-5), "steps must be at least 1, got -5"),
                                             (dict(steps=0), "steps must be at least 1, got 0"),
                                             (dict(epochs=-1), "epochs must be at least 1, got -1"),
                                             (dict(steps=2.5), "steps must be an integer")])
def test_loop_refuses_lengths_below_one(tmp_path, length, message):
    _, _, loader = _problem()
    with pytest.raises((ValueError, TypeError), match=message):
        Loop(loader, out=str(tmp_path), progress=False, **length)


def test_arg_parser_refuses_bad_lengths_at_parse_time(capsys):
    p = arg_parser("demo", epochs=3)
    for argv in (["--epochs", "-1"], ["--steps", "0"], ["--batch-size", "0"], ["--lr", "-1"],
                 ["--seed", "-3"]):
        with pytest.raises(SystemExit):
            p.parse_args(argv)
        assert f"argument {argv[0]}" in capsys.readouterr().err
    with pytest.raises(ValueError, match="exactly one of"):
        arg_parser("demo", steps=0, epochs=1)
