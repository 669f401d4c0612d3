"""Normalizing flows (RealNVP, with Glow's ActNorm and 1x1 convolution): exact densities of 2-D toys and of dequantised images.

    python demos/flows.py --data moons               # 2-D: density heat map, data -> z, z -> x
    python demos/flows.py --data checkerboard --invconv --couplings 12
    python demos/flows.py --images                   # dequantised Fashion-MNIST: test bits/dim

What it does (lecture L6.3, tractable densities):
1. trains x -> z = f(x) by maximum likelihood, log p(x) = log N(f(x); 0, I) + log|det J_f(x)|,
   with engine ops and one backward() per step;
2. 2-D data (``--data``, from minigen.data.toy_2d): the test NLL in nats per point, the
   learned density as a heat map, samples x = f^{-1}(z), and one figure with the test
   points pushed to z layer by layer (top row) and base samples pushed back (bottom row);
3. images (``--images``): pixels dequantised y = (255 x + u) / 256, then the logit
   transform (its Jacobian counted in the likelihood); the test NLL as bits per dimension
   of the 8-bit images: (-log p(y) + 784 log 256) / (784 ln 2); samples.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.data import DataLoader, TOY_2D_NAMES, toy_2d               # noqa: E402
from minigen.metrics import bits_per_dim, dequantized_nll               # noqa: E402
from minigen.models.flows import AffineCoupling, realnvp_2d, realnvp_image   # noqa: E402
from minigen.models.vae import load_fashion_mnist, make_loader, prepare_test  # noqa: E402
from minigen.train import Loop, arg_parser, positive_int_arg, write_results              # noqa: E402

DEFAULTS = {"toy": dict(steps=3000, batch_size=256, lr=1e-3),
            "images": dict(steps=300, batch_size=64, lr=1e-3)}


def build_parser(images=False):
    kind = "images" if images else "toy"
    p = arg_parser(__doc__.splitlines()[0], out=f"out/flows_{kind}", **DEFAULTS[kind])
    p.add_argument("--data", choices=TOY_2D_NAMES, default="moons", help="2-D toy distribution")
    p.add_argument("--images", action="store_true", help="dequantised Fashion-MNIST instead of a toy")
    p.add_argument("--full", action="store_true", help="full Fashion-MNIST files (with --images)")
    p.add_argument("--couplings", type=positive_int_arg, default=None,
                   help="coupling layers (default 8 for toys; with --images 4 checkerboard + 4 channel)")
    p.add_argument("--hidden", type=positive_int_arg, default=None, help="width of the s, t networks (default 64 / 32)")
    p.add_argument("--invconv", action="store_true", help="toys: a learned 1x1 conv (2x2 mixing) before each coupling")
    p.add_argument("--no-actnorm", action="store_true")
    p.add_argument("--scale", choices=("tanh", "soft_clamp"), default="tanh")
    p.add_argument("--n-train", type=positive_int_arg, default=20000, help="toy training points")
    p.add_argument("--n-test", type=positive_int_arg, default=5000, help="toy test points")
    p.add_argument("--n-samples", type=positive_int_arg, default=None, help="samples drawn (default 2000 / 64)")
    return p


def parse(argv):
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--images", action="store_true")
    known, _ = first.parse_known_args(argv)
    return build_parser(known.images).parse_args(argv)


def train(flow, loader, args, desc):
    opt = mg.optim.Adam(flow.parameters(), lr=args.lr)
    loop = Loop(loader, args, state={"model": flow, "optimizer": opt}, desc=desc)
    for x in loop:
        loss = flow.loss(x)                      # -mean [log N(f(x)) + log|det J|]
        opt.zero_grad()
        loss.backward()
        opt.step()
        loop.log(nll=loss)
    return loop


def main(argv=None):
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    results = run_images(args) if args.images else run_toy(args)
    write_results(args.out, results, results["paths"],
                  files={"samples array": "samples.npy"})
    return results


# ------------------------------------------------------------------------------------- toys
def run_toy(args):
    started = time.time()
    dist = toy_2d(args.data)
    x_train = dist.sample(args.n_train, seed=args.seed)
    x_test = dist.sample(args.n_test, seed=args.seed + 1000)
    mg.manual_seed(args.seed)
    flow = realnvp_2d(num_couplings=args.couplings or 8, hidden=args.hidden or 64,
                      actnorm=not args.no_actnorm, invconv=args.invconv, scale=args.scale)
    flow.to(args.device)
    print(f"data: {args.data}, {len(x_train)} training / {len(x_test)} test points; flow: "
          f"{sum(isinstance(l, AffineCoupling) for l in flow.layers)} couplings, "
          f"{sum(p.numel() for p in flow.parameters()):,} parameters")
    loader = DataLoader(x_train, args.batch_size, seed=args.seed, device=args.device)
    loop = train(flow, loader, args, desc=f"flow {args.data}")
    flow.eval()
    nll = flow.evaluate_nll(x_test)
    print(f"\ntest NLL: {nll:.3f} nats per point ({len(x_test)} points)")

    lim = float(np.abs(x_test).max()) * 1.15
    mg.manual_seed(args.seed)
    n = args.n_samples or 2000
    samples = flow.sample(n)
    np.save(os.path.join(args.out, "samples.npy"), samples.astype(np.float32))
    log_prob = lambda pts: flow.log_prob(pts.astype(np.float32)).numpy()    # noqa: E731
    paths = {
        "density": viz.density_grid(lambda pts: _chunked(log_prob, pts), os.path.join(args.out, "density.png"),
                                    lim=lim, n=200, title=f"learned density p(x), {args.data}"),
        "samples": viz.scatter_2d(samples, os.path.join(args.out, "samples.png"), real=x_test[:n],
                                  lim=lim, title="samples x = f^-1(z), z ~ N(0, I)"),
        "layers": layer_by_layer(flow, x_test[:2000], samples[:2000], args.out, lim),
    }
    return {"settings": vars(args), "data": args.data, "test_nll": nll, "steps": loop.step,
            "seconds": round(time.time() - started, 1), "paths": paths}


def _chunked(fn, points, size=20000):
    with mg.no_grad():
        return np.concatenate([fn(points[i:i + size]) for i in range(0, len(points), size)])


def layer_by_layer(flow, x, z_samples, out, lim, columns=5):
    """Top row: test points (coloured by their angle around the data's centre) after
    0, ..., K layers on the way to z.  Bottom row: z ~ N(0, I) pushed back to x."""
    import matplotlib.pyplot as plt
    forward = flow.trajectory(x)
    z = np.random.default_rng(0).standard_normal((len(z_samples), 2)).astype(np.float32)
    backward = flow.inverse_trajectory(z)
    picks = np.unique(np.linspace(0, len(forward) - 1, columns).round().astype(int))
    colour = np.arctan2(x[:, 1] - x[:, 1].mean(), x[:, 0] - x[:, 0].mean())
    fig, axes = plt.subplots(2, len(picks), figsize=(3 * len(picks), 6.2), squeeze=False)
    for j, k in enumerate(picks):
        axes[0, j].scatter(forward[k][:, 0], forward[k][:, 1], s=1, c=colour, cmap="hsv")
        axes[0, j].set_title("data x" if k == 0 else ("z" if k == len(forward) - 1 else f"after layer {k}"),
                             fontsize=9)
        b = backward[k]
        axes[1, j].scatter(b[:, 0], b[:, 1], s=1, c=np.arctan2(z[:, 1], z[:, 0]), cmap="hsv")
        axes[1, j].set_title("z ~ N(0, I)" if k == 0 else ("x = f^-1(z)" if k == len(backward) - 1
                                                           else f"{k} inverse layers"), fontsize=9)
    for ax in axes.flat:
        ax.set_xlim(-max(lim, 4), max(lim, 4))
        ax.set_ylim(-max(lim, 4), max(lim, 4))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("layer by layer: data -> z (top), z -> data (bottom)")
    return viz.save_figure(fig, os.path.join(out, "layers.png"))


# ----------------------------------------------------------------------------------- images
def run_images(args):
    started = time.time()
    data = load_fashion_mnist(full=args.full)
    y_test = prepare_test(data.x_test, "gaussian").reshape(-1, 1, 28, 28)   # dequantised once, seed 0
    mg.manual_seed(args.seed)
    half = (args.couplings or 8) // 2
    flow = realnvp_image(28, hidden=args.hidden or 32, num_checkerboard=half, num_channel=half,
                         actnorm=not args.no_actnorm, scale=args.scale)
    flow.to(args.device)
    print(f"data: {len(data.x_train)} training / {len(data.x_test)} test images ({data.source}), "
          f"dequantised; flow: logit transform, {half} checkerboard + {half} channel couplings, "
          f"{sum(p.numel() for p in flow.parameters()):,} parameters")
    base = make_loader(data.x_train, args.batch_size, args.seed, "gaussian", args.device)
    loader = _Reshaped(base, (1, 28, 28))
    loop = train(flow, loader, args, desc="flow images")
    flow.eval()
    nll = flow.evaluate_nll(y_test)                       # nats per image, density of y
    nll_discrete = dequantized_nll(nll, 784)              # + 784 log 256: P of the 8-bit image
    bpd = bits_per_dim(nll_discrete, 784)
    print(f"\ntest ({len(y_test)} images, dequantised once, seed 0): -log p(y) = {nll:.1f} nats; "
          f"as 8-bit images {nll_discrete:.1f} nats = {bpd:.3f} bits/dim")
    mg.manual_seed(args.seed)
    n = args.n_samples or 64
    samples = np.clip(flow.sample(n), 0, 1).astype(np.float32)
    np.save(os.path.join(args.out, "samples.npy"), samples)
    paths = {"samples": viz.image_grid(samples[:, 0], os.path.join(args.out, "samples.png"),
                                       value_range=(0, 1), title="RealNVP samples (clipped to [0, 1])")}
    rows = viz.read_csv_log(loop.log_path)
    if "nll" in rows and len(rows["nll"]) > 1:
        paths["curves"] = viz.curves(loop.log_path, os.path.join(args.out, "curves.png"), keys=["nll"],
                                     smooth=10, title="training NLL of y (nats per image)")
    return {"settings": vars(args), "test_nll_continuous": nll, "test_nll_discrete": nll_discrete,
            "bits_per_dim": bpd, "steps": loop.step, "seconds": round(time.time() - started, 1),
            "paths": paths}


class _Reshaped:
    """A loader whose batches (N, 784) come out as (N, *shape) -- the Loop saves and
    resumes the underlying loader's position."""

    def __init__(self, loader, shape):
        self.loader, self.shape = loader, tuple(shape)

    def __len__(self):
        return len(self.loader)

    def forever(self):
        for x in self.loader.forever():
            yield x.reshape((len(x),) + self.shape)

    def state_dict(self):
        return self.loader.state_dict()

    def load_state_dict(self, state):
        self.loader.load_state_dict(state)


if __name__ == "__main__":
    main()
