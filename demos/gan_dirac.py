"""The Dirac-GAN: why gradient play on a GAN circles instead of converging (and what fixes it).

    python demos/gan_dirac.py
    python demos/gan_dirac.py --lr 0.1 --steps 500 --r1 1.0

Data at x = 0, generator a single point theta, linear discriminator D(x) = psi x
(minigen.models.gan.dirac, after Mescheder et al. 2018).  The demo

1. computes the vector field v = (-dL_G/dtheta, -dL_D/dpsi) of simultaneous gradient
   play with the engine's autodiff on the library's losses, and compares it with the
   closed form (psi s(psi theta), -theta s(psi theta) - gamma psi) on a grid;
2. runs gradient play from (1, 1): simultaneous and alternating GD (no penalty), with
   R1, and WGAN-GP, and draws the paths over the field;
3. prints the eigenvalues of the Jacobian of v at the equilibrium (autodiff, second
   order, and closed form): purely imaginary without a penalty (rotation), negative real
   parts with R1 (convergence).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from minigen import viz                                                   # noqa: E402
from minigen.train import (demo_parser, non_negative_float_arg, positive_float_arg,  # noqa: E402
                           positive_int_arg)
from minigen.models.gan.dirac import DiracGAN, closed_form_field, closed_form_jacobian  # noqa: E402


def finite_float_arg(text):
    """``type=`` for a finite number of either sign (a starting point)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"value must be finite, got {text}")
    return value


def build_parser():
    p = demo_parser(__doc__.splitlines()[0], out="out/gan_dirac")
    p.add_argument("--lr", type=positive_float_arg, default=0.2, help="step size h of gradient play")
    p.add_argument("--steps", type=positive_int_arg, default=300)
    p.add_argument("--r1", type=positive_float_arg, default=0.5, help="gamma of the R1 runs")
    p.add_argument("--gp-weight", type=non_negative_float_arg, default=1.0,
                   help="lambda of the WGAN-GP run")
    p.add_argument("--start", type=finite_float_arg, nargs=2, default=(1.0, 1.0),
                   metavar=("THETA", "PSI"))
    p.add_argument("--grid", type=positive_int_arg, default=15, help="field arrows per axis")
    p.add_argument("--device", choices=("cpu",), default="cpu",
                   help="(the game is two numbers: it runs on the CPU; --seed is unused, "
                        "the game is deterministic)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    results = {"settings": vars(args)}

    # -- 1. the field: autodiff vs closed form ---------------------------------------------
    ticks = np.linspace(-2, 2, args.grid)
    worst = 0.0
    field = np.zeros((args.grid, args.grid, 2))
    for r1 in (0.0, args.r1):
        game = DiracGAN(r1=r1)
        for i, psi in enumerate(ticks):
            for j, theta in enumerate(ticks):
                v = game.field(theta, psi)
                worst = max(worst, float(np.abs(v - closed_form_field(theta, psi, r1)).max()))
                if r1 == 0.0:
                    field[i, j] = v
    results["field_max_abs_difference"] = worst
    print(f"vector field by autodiff vs closed form, {args.grid}x{args.grid} grid, "
          f"gamma 0 and {args.r1}: max |difference| = {worst:.2e}")

    # -- 2. the Jacobian at the equilibrium --------------------------------------------------
    print("\nJacobian of v at the equilibrium (0, 0) and its eigenvalues:")
    for name, r1 in (("no penalty", 0.0), (f"R1, gamma {args.r1}", args.r1)):
        J = DiracGAN(r1=r1).jacobian(0.0, 0.0)
        eig = np.linalg.eigvals(J)
        eig_closed = np.linalg.eigvals(closed_form_jacobian(r1))
        key = "jacobian_" + ("plain" if r1 == 0 else "r1")
        results[key] = {"autodiff": J.tolist(), "eigenvalues": [str(e) for e in eig],
                        "eigenvalues_closed_form": [str(e) for e in eig_closed],
                        "max_real_part": float(eig.real.max())}
        print(f"  {name:16s} J = {np.array2string(J, precision=3)}  eigenvalues "
              f"{', '.join(f'{e.real:+.3f}{e.imag:+.3f}i' for e in eig)}  "
              f"(closed form {', '.join(f'{e.real:+.3f}{e.imag:+.3f}i' for e in eig_closed)})")
    h = args.lr
    print(f"  simultaneous GD multiplies the distance by |1 + h lambda| = {abs(1 + h * 0.5j):.4f} "
          f"per step near (0, 0) without a penalty (h = {h}): it spirals out")

    # -- 3. gradient play -------------------------------------------------------------------
    runs = {
        "simultaneous GD": (DiracGAN(), "simultaneous"),
        "alternating GD": (DiracGAN(), "alternating"),
        f"simultaneous GD + R1 ({args.r1})": (DiracGAN(r1=args.r1), "simultaneous"),
        f"alternating GD + R1 ({args.r1})": (DiracGAN(r1=args.r1), "alternating"),
        f"WGAN-GP, alternating (lambda {args.gp_weight})": (
            DiracGAN(loss="wgan-gp", gp_weight=args.gp_weight), "alternating"),
    }
    paths, results["runs"] = {}, {}
    print(f"\ngradient play from (theta, psi) = {tuple(args.start)}, h = {h}, {args.steps} steps:")
    for name, (game, mode) in runs.items():
        path = game.trajectory(*args.start, lr=h, steps=args.steps, mode=mode)
        paths[name] = path
        d0, d1 = np.linalg.norm(path[0]), np.linalg.norm(path[-1])
        results["runs"][name] = {"start_distance": d0, "final_distance": float(d1),
                                 "final_point": path[-1].tolist()}
        verdict = "grows" if d1 > 1.05 * d0 else "shrinks" if d1 < 0.5 * d0 else "stays"
        print(f"  {name:34s} distance to (0, 0): {d0:.3f} -> {d1:.3g}  ({verdict}); "
              f"ends at theta {path[-1][0]:+.3f}, psi {path[-1][1]:+.3f}")

    picture = draw(paths, ticks, field, args)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    print(f"\npictures:\n  field      {picture}\n  numbers    {os.path.join(args.out, 'results.json')}")
    return results


def draw(paths, ticks, field, args):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.4))
    tt, pp = np.meshgrid(ticks, ticks)
    colors = plt.get_cmap("tab10")
    for ax, names in zip(axes, (list(paths)[:2], list(paths)[2:])):
        ax.quiver(tt, pp, field[..., 0], field[..., 1], color="0.6", width=0.003)
        for k, name in enumerate(names):
            path = paths[name]
            ax.plot(path[:, 0], path[:, 1], lw=1.2, color=colors(k + 3 * (ax is axes[1])), label=name)
            ax.plot(*path[-1], "o", color=colors(k + 3 * (ax is axes[1])), ms=4)
        ax.plot(0, 0, "k*", ms=12, label="equilibrium (0, 0)")
        ax.plot(*args.start, "ks", ms=5, label="start")
        ax.set_xlabel("theta (the generator's point)")
        ax.set_ylabel("psi (the discriminator's slope)")
        ax.set_xlim(-2.5, 2.5), ax.set_ylim(-2.5, 2.5), ax.set_aspect("equal")
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_title("no penalty: the field rotates; play circles or spirals out", fontsize=9)
    axes[1].set_title("with R1 the game converges; WGAN-GP does not reach (0, 0)", fontsize=9)
    fig.suptitle(f"Dirac-GAN: gradient play, h = {args.lr}, {args.steps} steps "
                 f"(grey: the field of the unpenalised game)")
    return viz.save_figure(fig, os.path.join(args.out, "dirac_field.png"))


if __name__ == "__main__":
    main()
