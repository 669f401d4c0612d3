"""The small training loop every demo shares.

A demo keeps its training step in plain sight and lets :class:`Loop` do the chores::

    args = arg_parser("VAE on Fashion-MNIST", steps=3000, lr=1e-3).parse_args()
    mg.manual_seed(args.seed)
    model = ...; opt = mg.optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(x_train, args.batch_size, seed=args.seed, device=args.device)

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
  same random numbers, the same parameters, bit for bit, as a run never stopped;
* Ctrl-C finishes the current step, saves a checkpoint, and exits (press it twice to
  stop at once without saving).  Saving only between steps keeps the checkpoint
  consistent: never an optimizer half-way through its update.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sys
import threading
import time

__all__ = ["arg_parser", "Loop", "CHECKPOINT_NAME", "LOG_NAME"]

CHECKPOINT_NAME = "checkpoint.npz"
LOG_NAME = "log.csv"


def arg_parser(description: str, *, steps: int | None = None, epochs: int | None = None,
               batch_size: int = 128, lr: float = 1e-3, seed: int = 0, out: str = "out",
               checkpoint_every: int = 1000) -> argparse.ArgumentParser:
    """The command line all demos share; a demo passes its own defaults and may add flags.

    ``--steps N`` or ``--epochs N`` (one of them), ``--batch-size``, ``--lr``, ``--seed``,
    ``--device cpu|cuda``, ``--out DIR``, ``--resume``, ``--checkpoint-every``.
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give the demo's default length as exactly one of steps= or epochs=")
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=steps, help="optimizer steps to train")
    length.add_argument("--epochs", type=int, default=epochs, help="passes over the data")
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr, help="learning rate")
    p.add_argument("--seed", type=int, default=seed)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--out", default=out, help="folder for pictures, log.csv and checkpoint.npz")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--checkpoint-every", type=int, default=checkpoint_every, metavar="N")
    return p


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
        self.total_steps = int(steps) if steps is not None else int(epochs) * len(loader)
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
        missing = set(self.state) - set(checkpoint["state"])
        if missing:
            raise KeyError(f"{path} has no state for {sorted(missing)}")
        for name, obj in self.state.items():
            obj.load_state_dict(checkpoint["state"][name])
        mg.set_rng_state(str(checkpoint["rng"]))
        self.loader.load_state_dict(checkpoint["loader"])
        self.step = int(checkpoint["step"])
        self.history = [row for row in self._read_csv() if row["step"] <= self.step]
        print(f"minigen: resumed from {path} at step {self.step}", file=sys.stderr)
        return True

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
