"""Vanishing gradients: why G maximises log D(G(z)) instead of minimising log(1 - D(G(z))).

    python demos/gan_saturation.py
    python demos/gan_saturation.py --data 25gaussians --d-steps 1000

The lecture's argument, measured (L6.4, "vanishing gradients: if the discriminator gets
too good too quickly"):

1. G is a freshly initialised toy MLP generator (its samples are a blob near the origin);
   D is trained *ahead* of it -- G frozen -- on real toy data against G's samples;
2. every few D steps, with the same batch of z, the norm of G's gradient
   ||dL_G/d(theta_G)|| is computed by backward for both generator objectives:
       minimax         L_G = log(1 - D(G(z)))      d/dlogit = -D(G(z))      -> 0 as D wins
       non-saturating  L_G = -log D(G(z))          d/dlogit = -(1 - D(G(z))) -> -1
   and drawn against D's confidence on the fakes, 1 - mean D(G(z));
3. a second panel draws both losses (and their slopes in the logit) as functions of
   D(G(z)) in (0, 1).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                     # noqa: E402
from minigen import viz                                                  # noqa: E402
from minigen.data import TOY_2D_NAMES, toy_2d                            # noqa: E402
from minigen.models.gan import (ToyDiscriminator, ToyGenerator, d_loss, frozen,   # noqa: E402
                                g_loss_minimax, g_loss_nonsaturating)
from minigen.train import arg_parser, positive_int_arg                   # noqa: E402

OBJECTIVES = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating}


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], steps=400, batch_size=256, lr=1e-3,
                   out="out/gan_saturation")
    p.add_argument("--data", choices=TOY_2D_NAMES, default="8gaussians")
    p.add_argument("--hidden", type=positive_int_arg, default=128)
    p.add_argument("--measure-every", type=positive_int_arg, default=10, help="D steps between measurements")
    return p


def grad_norm(G, D, z, objective):
    """||dL_G/dtheta_G||_2 over all of G's parameters, D frozen."""
    G.zero_grad()
    with frozen(D):
        OBJECTIVES[objective](D(G(z))).backward()
    total = sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in G.parameters())
    G.zero_grad()
    return total ** 0.5


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    mg.manual_seed(args.seed)
    dist = toy_2d(args.data)
    G = ToyGenerator(hidden=args.hidden).to(args.device)
    D = ToyDiscriminator(hidden=args.hidden).to(args.device)
    opt_d = mg.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    z_probe = mg.randn(args.batch_size, G.latent_dim, device=args.device)   # one z for every measurement
    rng = np.random.default_rng(args.seed)
    rows = []
    print(f"training D ahead of a frozen G on {args.data}, {args.steps} steps, Adam {args.lr}:")
    for step in range(args.steps + 1):
        if step % args.measure_every == 0:
            with mg.no_grad():
                d_fake = float(mg.sigmoid(D(G(z_probe))).mean().item())
            row = {"d_step": step, "d_fake": d_fake,
                   **{f"grad_{k}": grad_norm(G, D, z_probe, k) for k in OBJECTIVES}}
            rows.append(row)
        if step == args.steps:
            break
        real = mg.tensor(dist.sample(args.batch_size, rng=rng), device=args.device)
        with frozen(G), mg.no_grad():
            fake = G(mg.randn(args.batch_size, G.latent_dim, device=args.device))
        loss = d_loss(D(real), D(fake))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()

    shown = rows[:: max(1, len(rows) // 8)]
    for row in shown + ([rows[-1]] if shown[-1] is not rows[-1] else []):
        print(f"  D step {row['d_step']:5d}  mean D(G(z)) {row['d_fake']:.2e}   |grad G|: minimax "
              f"{row['grad_minimax']:.2e}, non-saturating {row['grad_nonsaturating']:.2e}")
    first, last = rows[0], rows[-1]
    ratio = lambda r: r["grad_minimax"] / r["grad_nonsaturating"]
    print(f"minimax / non-saturating gradient norm: {ratio(first):.3f} at the start "
          f"(D(G(z)) = {first['d_fake']:.2f}), {ratio(last):.2e} at the end "
          f"(D(G(z)) = {last['d_fake']:.1e})")
    results = {"settings": vars(args), "measurements": rows,
               "ratio_start": ratio(first), "ratio_end": ratio(last),
               "d_fake_end": last["d_fake"]}
    path = draw(rows, args)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    print(f"\npictures:\n  saturation {path}\n  numbers    {os.path.join(args.out, 'results.json')}")
    return results


def draw(rows, args):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    conf = np.array([1 - r["d_fake"] for r in rows])
    ax = axes[0]
    for k, label in (("minimax", "minimax  log(1 - D(G(z)))"),
                     ("nonsaturating", "non-saturating  -log D(G(z))")):
        ax.plot(conf, [r[f"grad_{k}"] for r in rows], "o-", ms=3, label=label)
    ax.set_xscale("logit")
    ax.set_yscale("log")
    ax.set_xlabel("D's confidence on the fakes, 1 - mean D(G(z))   (D trained ahead, G fixed)")
    ax.set_ylabel("||dL_G / d theta_G||")
    ax.set_title("G's gradient as D gets better", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[1]
    d = np.linspace(1e-3, 1 - 1e-3, 500)
    ax.plot(d, np.log(1 - d), label="minimax  log(1 - D)")
    ax.plot(d, -np.log(d), label="non-saturating  -log D")
    ax.plot(d, -d, "--", color="tab:blue", lw=1, label="slope in the logit: -D")
    ax.plot(d, -(1 - d), "--", color="tab:orange", lw=1, label="slope in the logit: -(1 - D)")
    ax.axvspan(0, 0.1, color="0.9")
    ax.text(0.02, 2.5, "early training:\nD rejects fakes", fontsize=8)
    ax.set_xlabel("D(G(z))")
    ax.set_ylabel("generator loss")
    ax.set_ylim(-4, 4)
    ax.set_title("both objectives: same fixed point, different slopes where D wins", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return viz.save_figure(fig, os.path.join(args.out, "saturation.png"))


if __name__ == "__main__":
    main()
