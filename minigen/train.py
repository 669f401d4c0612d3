"""The small training loop every demo shares.

A demo keeps its training step in plain sight and lets :class:`Loop` do the chores::

    args = arg_parser("VAE on Fashion-MNIST", steps=3000, lr=1e-3).parse_args()
    mg.manual_seed(args.seed)
    model = ...; opt = mg.optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(x_train, args.batch_size, shuffle=True, seed=args.seed, device=args.device)

    loop = Loop(loader, args, state={"model": model, "optimizer": opt})
    for x in loop:                            # resumes by itself with --resume
        loss = ...
        opt.zero_grad(); loss.backward(); opt.step()
        loop.log(loss=loss)                   # progress bar + CSV
        if loop.every(500):
            viz.image_grid(sample(model), f"{args.out}/samples_{loop.step}.png")

What the loop does:

* counts steps (``--steps``, or ``--epochs`` times the batches per epoch);
* shows a tqdm bar with the latest logged values (only when stdout is a terminal);
* writes every ``log`` call to ``OUT/log.csv`` (one row per step, columns = all keys);
* saves ``OUT/checkpoint.npz`` every ``--checkpoint-every`` steps and at the end, with
  ``mg.save`` (atomic): the state dicts of ``state``, minigen's RNG state, the
  loader's position and the step;
* ``--resume`` loads that checkpoint and continues *exactly*: the same batches, the
  same random numbers, the same parameters, bit for bit, as a run never stopped.
  So it refuses (:class:`ResumeError`, naming each option with its saved and new value)
  a command line whose settings differ from the saved run's: a new ``--lr`` would be
  overridden by the saved optimizer state and a new ``--batch-size`` or ``--seed``
  would reinterpret the saved position in the data.  Only ``--steps`` / ``--epochs``
  (to train longer), ``--out``, ``--device``, ``--checkpoint-every`` and options a demo
  declares with ``may_change_on_resume=True`` (evaluation sizes) may change;
* Ctrl-C finishes the current step, saves a checkpoint, and exits (press it twice to
  stop at once without saving).  Saving only between steps keeps the checkpoint
  consistent: never an optimizer half-way through its update.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import signal
import sys
import threading
import time

from minigen import _checks

__all__ = ["arg_parser", "demo_parser", "Loop", "ResumeError", "CHECKPOINT_NAME", "LOG_NAME",
           "positive_int_arg", "non_negative_int_arg", "seed_arg", "positive_float_arg",
           "non_negative_float_arg", "positive_int_list_arg", "out_dir_arg"]

CHECKPOINT_NAME = "checkpoint.npz"
LOG_NAME = "log.csv"


# -- the command line -----------------------------------------------------------------------
# One set of argument types, built on minigen._checks (the checks DataLoader and Loop use
# too): a bad value stops the demo at parse time with "argument --epochs: ...", before any
# data is loaded or any folder is made.

def _argparse_type(check, name):
    """An argparse ``type=`` that parses an integer and applies ``check``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        try:
            return check(value, "value")
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = name                  # argparse names the type in some messages
    return parse


#: ``type=`` for lengths and sizes: --steps, --epochs, --batch-size, --latent-dim, ...
positive_int_arg = _argparse_type(_checks.positive_int, "positive_int")
#: ``type=`` for counts where 0 means none: --checkpoint-every 0 (never), --n-masked 0, ...
non_negative_int_arg = _argparse_type(_checks.non_negative_int, "non_negative_int")
#: ``type=`` for --seed: 0 .. 2**64 - 1
seed_arg = _argparse_type(_checks.seed_value, "seed")


def positive_int_list_arg(text):
    """``type=`` for a comma-separated list of integers >= 1 (``--ranks 1,2,5``)."""
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers")
    return [positive_int_arg(part) for part in parts]


def positive_float_arg(text):
    """``type=`` for a finite number > 0 (--lr)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"value must be a finite number > 0, got {text}")
    return value


def non_negative_float_arg(text):
    """``type=`` for a finite number >= 0 (a weight such as --beta, a noise level)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"value must be a finite number >= 0, got {text}")
    return value


def out_dir_arg(text):
    """``type=`` for --out: a folder that exists or can be made (not a file, not below one)."""
    if not text:
        raise argparse.ArgumentTypeError("the output folder must not be empty")
    path = os.path.abspath(text)
    if os.path.exists(path) and not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    ancestor = os.path.dirname(path)           # the nearest folder that exists must be one
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise argparse.ArgumentTypeError(f"{text!r} lies below {ancestor!r}, which is a file")
    return text


# -- what --resume may change ---------------------------------------------------------------
#: options any resumed run may change: how long to train, where, on which device
ALWAYS_MAY_CHANGE_ON_RESUME = frozenset({"steps", "epochs", "out", "resume", "checkpoint_every",
                                         "device"})


RESUME_HELP = ("--resume continues OUT/checkpoint.npz exactly, so it refuses a run whose "
               "settings differ from the saved ones (--lr, --batch-size, --seed, the model's "
               "options, ...): only --steps/--epochs (to train longer), --out, --device, "
               "--checkpoint-every and the evaluation options may change.")


class ResumeError(RuntimeError):
    """--resume with settings that differ from those the checkpoint was made with."""


class DemoArgs(argparse.Namespace):
    """The parsed command line; ``may_change_on_resume`` (not one of the settings, so not
    in ``vars(args)`` nor args.json) names the options a resumed run may change."""

    __slots__ = ("may_change_on_resume",)


class DemoArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose ``add_argument`` also takes ``may_change_on_resume=True``:
    an option that does not change what training computes (how many test images to
    evaluate, how many samples to draw).  Every other option must keep its value when a
    run is resumed (see :class:`Loop`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.may_change_on_resume = set(ALWAYS_MAY_CHANGE_ON_RESUME)

    def add_argument(self, *args, may_change_on_resume: bool = False, **kwargs):
        action = super().add_argument(*args, **kwargs)
        if may_change_on_resume:
            self.may_change_on_resume.add(action.dest)
        return action

    def parse_known_args(self, args=None, namespace=None):
        if namespace is None:
            namespace = DemoArgs()
        if isinstance(namespace, DemoArgs):
            namespace.may_change_on_resume = frozenset(self.may_change_on_resume)
        return super().parse_known_args(args, namespace)


def demo_parser(description: str, *, out: str, seed: int = 0) -> DemoArgumentParser:
    """The options every demo has, checked at parse time: ``--out DIR`` and ``--seed``.

    Demos that train with :class:`Loop` use :func:`arg_parser`, which adds the training
    options; all take their integer options with :data:`positive_int_arg` and friends.
    """
    p = DemoArgumentParser(description=description,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=out_dir_arg, default=out,
                   help="folder for pictures, results.json (and log.csv, checkpoint.npz)")
    p.add_argument("--seed", type=seed_arg, default=seed, help="random seed (0 .. 2**64 - 1)")
    return p


def arg_parser(description: str, *, steps: int | None = None, epochs: int | None = None,
               batch_size: int = 128, lr: float = 1e-3, seed: int = 0, out: str = "out",
               checkpoint_every: int = 1000) -> DemoArgumentParser:
    """The command line all training demos share; a demo passes its own defaults and may add flags.

    ``--steps N`` or ``--epochs N`` (one of them), ``--batch-size``, ``--lr``, ``--seed``,
    ``--device cpu|cuda``, ``--out DIR``, ``--resume``, ``--checkpoint-every``.  Every value
    is checked when parsed (lengths >= 1, lr > 0, --out not a file).
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give the demo's default length as exactly one of steps= or epochs=")
    _checks.positive_int(steps if steps is not None else epochs, "arg_parser: the default length")
    _checks.positive_int(batch_size, "arg_parser: batch_size")
    p = demo_parser(description, out=out, seed=seed)
    p.epilog = RESUME_HELP
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=positive_int_arg, default=steps,
                        help="optimizer steps to train")
    length.add_argument("--epochs", type=positive_int_arg, default=epochs,
                        help="passes over the data")
    p.add_argument("--batch-size", type=positive_int_arg, default=batch_size)
    p.add_argument("--lr", type=positive_float_arg, default=lr, help="learning rate")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.npz (with the same settings)")
    p.add_argument("--checkpoint-every", type=non_negative_int_arg, default=checkpoint_every,
                   metavar="N", help="save a checkpoint every N steps (0: only at the end)")
    return p


def write_results(out: str, results: dict, paths: dict | None = None, *,
                  started: float | None = None, files: dict | None = None) -> str:
    """End a demo by the output contract: ``OUT/results.json`` and every output's path printed.

    ``paths`` maps a name to each picture the demo wrote; ``files`` maps a name to a file
    name inside ``out`` (``{"samples": "samples.npy"}``). With ``started`` (a
    ``time.time()``), ``results["seconds"]`` is set before writing. The JSON is written to a
    temporary file and renamed, so an interrupted demo never leaves half a results file.
    Returns the path of ``results.json``.
    """
    if started is not None:
        results["seconds"] = round(time.time() - started, 1)
    target = os.path.join(out, "results.json")
    tmp = os.path.join(out, f".results.json.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1, default=str)
    os.replace(tmp, target)
    listed = {name: path for name, path in (paths or {}).items() if path}
    listed.update({name: os.path.join(out, file) for name, file in (files or {}).items()})
    listed["numbers"] = target
    width = max(len(name) for name in listed)
    print("\noutputs:")
    for name, path in listed.items():
        print(f"  {name:{width}s}  {path}")
    if "seconds" in results:
        print(f"done in {results['seconds']:.0f} s")
    return target


def _plain(value):
    """A setting as saved in the checkpoint and compared on resume (JSON-like values)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _run_settings(args) -> dict:
    """The options of ``args`` that define the run (all but those allowed to change)."""
    if args is None:
        return {}
    free = getattr(args, "may_change_on_resume", ALWAYS_MAY_CHANGE_ON_RESUME)
    return {name: _plain(value) for name, value in sorted(vars(args).items()) if name not in free}


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _number(value) -> float:
    """A loggable float from a float, a NumPy scalar or a one-element minigen Tensor."""
    if hasattr(value, "item"):
        value = value.item()
    return float(value)


class Loop:
    """Iterate over training batches with progress, logging, checkpoints and exact resume.

    ``args`` (from :func:`arg_parser`) supplies steps/epochs, out, resume and
    checkpoint_every; keyword arguments override it.  ``state`` names the objects whose
    ``state_dict()`` / ``load_state_dict()`` go into the checkpoint (models, optimizers,
    EMA, schedulers, ...).  Iterating yields the loader's batches; ``loop.step`` is the
    number of the step being taken (1-based).
    """

    def __init__(self, loader, args=None, *, state: dict | None = None,
                 steps: int | None = None, epochs: int | None = None, out: str | None = None,
                 resume: bool | None = None, checkpoint_every: int | None = None,
                 progress: bool | None = None, desc: str | None = None):
        get = lambda name, value: value if value is not None else getattr(args, name, None)
        steps, epochs = get("steps", steps), get("epochs", epochs)
        if steps is None and epochs is None:
            raise ValueError("Loop needs steps= or epochs= (or args with one of them)")
        self.loader = loader
        if steps is not None:
            self.total_steps = _checks.positive_int(steps, "Loop: steps")
        else:
            epochs = _checks.positive_int(epochs, "Loop: epochs")
            if len(loader) == 0:
                raise ValueError("Loop: the loader yields no batch per epoch (is the data set "
                                 "empty, or smaller than one batch with drop_last=True?)")
            self.total_steps = epochs * len(loader)
        self.out = get("out", out) or "out"
        self.resume = bool(get("resume", resume))
        self.checkpoint_every = int(get("checkpoint_every", checkpoint_every) or 0)
        self.state = dict(state or {})
        self.progress = sys.stdout.isatty() if progress is None else progress
        self.desc = desc
        self.args = args
        self.step = 0
        self.history: list[dict] = []          # one dict per logged step, for the CSV
        self._row: dict | None = None          # the row of the current step
        self._stop_requested = False
        self.interrupted = False
        os.makedirs(self.out, exist_ok=True)

    # -- paths -------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> str:
        return os.path.join(self.out, CHECKPOINT_NAME)

    @property
    def log_path(self) -> str:
        return os.path.join(self.out, LOG_NAME)

    # -- what the demo calls inside the loop -------------------------------------------
    def log(self, **values) -> None:
        """Record numbers for this step (Tensors and NumPy scalars are converted)."""
        if self._row is None:
            self._row = {"step": self.step}
            self.history.append(self._row)
        self._row.update({k: _number(v) for k, v in values.items()})

    def every(self, n: int) -> bool:
        """True on every n-th step and on the last one: for periodic pictures / metrics."""
        return n > 0 and (self.step % n == 0 or self.step == self.total_steps)

    @property
    def epoch(self) -> float:
        """Epochs completed so far, fractional (step / batches per epoch)."""
        return self.step / max(1, len(self.loader))

    # -- the iteration -----------------------------------------------------------------
    def __iter__(self):
        if self.resume:
            self.load_checkpoint()
        elif os.path.exists(self.checkpoint_path):
            print(f"minigen: starting afresh; {self.checkpoint_path} will be overwritten "
                  f"(use --resume to continue it)", file=sys.stderr)
        self._write_args()
        bar = self._make_bar()
        previous_handler = self._install_sigint()
        started, first_step = time.time(), self.step
        try:
            batches = self.loader.forever()
            while self.step < self.total_steps:
                batch = next(batches)
                self.step += 1
                self._row = None
                yield batch
                # -- the demo's step is done: a consistent point to save or stop at
                self._after_step(bar)
                if self._stop_requested:
                    self._stop(bar)
            if self.step > first_step or not os.path.exists(self.checkpoint_path):
                self.save_checkpoint()
            if not self.progress and self.step > first_step:
                print(self._summary(started, first_step))
        finally:
            if bar is not None:
                bar.close()
            self._restore_sigint(previous_handler)

    def _after_step(self, bar) -> None:
        if bar is not None:
            bar.update(1)
            if self._row:
                bar.set_postfix({k: f"{v:.4g}" for k, v in self._row.items() if k != "step"},
                                refresh=False)
        if self.checkpoint_every and self.step % self.checkpoint_every == 0:
            self.save_checkpoint()

    def _stop(self, bar) -> None:
        self.save_checkpoint()
        self.interrupted = True
        if bar is not None:
            bar.close()
        print(f"\nminigen: interrupted after step {self.step}; checkpoint saved to "
              f"{self.checkpoint_path}; add --resume to continue", file=sys.stderr)
        raise SystemExit(130)                  # 128 + SIGINT, the shell's convention

    def _summary(self, started, first_step) -> str:
        last = self.history[-1] if self.history else {}
        values = ", ".join(f"{k} {v:.4g}" for k, v in last.items() if k != "step")
        return (f"{self.desc or 'training'}: step {self.step}/{self.total_steps} "
                f"({self.step - first_step} steps in {time.time() - started:.1f} s){'; ' if values else ''}{values}")

    def _make_bar(self):
        if not self.progress:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=self.total_steps, initial=self.step, desc=self.desc,
                    dynamic_ncols=True, leave=True)

    # -- Ctrl-C ------------------------------------------------------------------------
    def _install_sigint(self):
        if threading.current_thread() is not threading.main_thread():
            return None                        # signals only reach the main thread

        def request_stop(signum, frame):
            if self._stop_requested:           # second Ctrl-C: stop now, no checkpoint
                raise KeyboardInterrupt
            self._stop_requested = True
            print("\nminigen: stopping after this step (Ctrl-C again to abort without saving)",
                  file=sys.stderr)
        return signal.signal(signal.SIGINT, request_stop)

    @staticmethod
    def _restore_sigint(previous) -> None:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)

    # -- checkpoints -------------------------------------------------------------------
    def save_checkpoint(self, path: str | None = None) -> str:
        """Save everything needed to continue exactly (and the CSV log up to this step)."""
        import minigen as mg
        path = path or self.checkpoint_path
        checkpoint = {
            "step": self.step,
            "rng": mg.get_rng_state(),
            "loader": self.loader.state_dict(),
            "state": {name: obj.state_dict() for name, obj in self.state.items()},
            "settings": _run_settings(self.args),  # checked by --resume
        }
        mg.save(checkpoint, path)              # atomic: write a temporary file, then rename
        self._write_csv()
        return path

    def load_checkpoint(self, path: str | None = None) -> bool:
        """Restore from ``path`` (default OUT/checkpoint.npz); False when it does not exist."""
        import minigen as mg
        path = path or self.checkpoint_path
        if not os.path.exists(path):
            print(f"minigen: --resume but no {path}; starting from step 0", file=sys.stderr)
            return False
        checkpoint = mg.load(path)
        self._check_settings(checkpoint.get("settings"), path)
        missing = set(self.state) - set(checkpoint["state"])
        if missing:
            raise KeyError(f"{path} has no state for {sorted(missing)}")
        try:                                   # checks batch size, data size, order first
            self.loader.load_state_dict(checkpoint["loader"])
        except ValueError as err:
            raise ResumeError(f"--resume: {path}: {err}") from err
        for name, obj in self.state.items():
            obj.load_state_dict(checkpoint["state"][name])
        mg.set_rng_state(str(checkpoint["rng"]))
        self.step = int(checkpoint["step"])
        self.history = [row for row in self._read_csv() if row["step"] <= self.step]
        print(f"minigen: resumed from {path} at step {self.step}", file=sys.stderr)
        return True

    def _check_settings(self, saved: dict | None, path: str) -> None:
        """Refuse to resume with settings other than those the checkpoint was made with.

        The saved optimizer state would silently keep the old learning rate, and the
        saved loader position means another batch size or seed would see other batches:
        the result would match neither run.  (Checkpoints without settings are not checked.)
        """
        if saved is None or self.args is None:
            return
        now = _run_settings(self.args)
        changed = [(name, saved.get(name), now.get(name)) for name in sorted(set(saved) | set(now))
                   if saved.get(name) != now.get(name)]
        if changed:
            lines = "\n".join(f"  {_option(name)}: saved {old!r}, now {new!r}"
                              for name, old, new in changed)
            raise ResumeError(
                f"--resume: {path} was made with other settings than this run:\n{lines}\n"
                f"A resumed run continues the saved one exactly, so these must stay as they "
                f"were: pass the saved values, or start afresh without --resume (or with "
                f"another --out). Only {', '.join(sorted(map(_option, ALWAYS_MAY_CHANGE_ON_RESUME)))} "
                f"and the demo's evaluation options may change.")

    # -- the CSV log -------------------------------------------------------------------
    def _write_csv(self) -> None:
        """Rewrite OUT/log.csv from the history (atomic; columns = union of all keys)."""
        columns = list(dict.fromkeys(k for row in self.history for k in row))
        if not columns:
            return
        tmp = self.log_path + ".tmp"
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in self.history:
                writer.writerow({k: (int(v) if k == "step" else repr(v)) for k, v in row.items()})
        os.replace(tmp, self.log_path)

    def _read_csv(self) -> list[dict]:
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path, newline="") as f:
            return [{k: (int(v) if k == "step" else float(v)) for k, v in row.items() if v != ""}
                    for row in csv.DictReader(f)]

    def _write_args(self) -> None:
        """OUT/args.json: the command line of the run, to know later what made the pictures."""
        if self.args is not None:
            with open(os.path.join(self.out, "args.json"), "w") as f:
                json.dump(vars(self.args), f, indent=1, default=str)
