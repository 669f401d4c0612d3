"""The explicit joint table over binary pixels, and why it collapses as the grid grows (L6.1).

    python demos/classic_joint_table.py [--out out/classic/joint_table] [--seed 0]

1. Fits the full 16-state table of 2x2 binarised Fashion-MNIST patches by counting, prints
   it, its marginals and an exact in-painting conditional.
2. Prints the parameter count and the data a table needs for 2x2, 3x3, 4x4 and 28x28 grids,
   and measures how many held-out patches were *never seen* in training (the table can only
   give them the smoothing mass).
3. Fits the 65,536-state table of 4x4 patches: held-out log-likelihood against independent
   pixels, samples, and in-painting of the bottom half of patches by exact conditionals.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from classic_common import (load_fashion, parser, plt, positive_int_arg, report,  # noqa: E402
                            save_figure, show_grid, with_hidden)

from minigen.models.classic import BinaryJointTable, n_parameters  # noqa: E402
from minigen.models.classic.joint_table import states_to_index  # noqa: E402


def random_patches(images: np.ndarray, size: int, n: int, rng) -> np.ndarray:
    """``n`` random ``size x size`` patches of binary images ``(N, 28, 28)``, flattened."""
    N, H, W = images.shape
    i = rng.integers(0, N, n)
    r = rng.integers(0, H - size + 1, n)
    c = rng.integers(0, W - size + 1, n)
    offsets = np.arange(size)
    rows = r[:, None, None] + offsets[None, :, None]
    cols = c[:, None, None] + offsets[None, None, :]
    return images[i[:, None, None], rows, cols].reshape(n, -1).astype(np.float64)


def independent_log_prob(p: np.ndarray, X: np.ndarray) -> np.ndarray:
    """log-likelihood under independent pixels: ``sum_j x_j log p_j + (1 - x_j) log(1 - p_j)``."""
    return X @ np.log(p) + (1 - X) @ np.log1p(-p)


def draw(state) -> str:
    """A 2x2 binary state as two text rows, '#' for on and '.' for off."""
    s = ["#" if v else "." for v in state]
    return f"{s[0]}{s[1]}/{s[2]}{s[3]}"


def part1_two_by_two(train, test, rng, out):
    X = random_patches(train, 2, 100_000, rng)
    table = BinaryJointTable((2, 2), alpha=1.0).fit(X)
    print("\n== 1. the 2x2 joint table (100,000 binarised patches; '#' = pixel on, rows top/bottom) ==")
    print(f"{'state':>6} {'count':>7} {'p(x)':>8}   {'indep.':>8}")
    p_pix = table.pixel_marginals()
    indep = np.exp(independent_log_prob(p_pix, table.states))
    for s, state in enumerate(table.states):
        print(f"{draw(state):>6} {int(table.counts_[s]):7d} {table.probs_[s]:8.4f}   {indep[s]:8.4f}")
    print("pixel marginals p(x_j = 1):", np.round(p_pix, 3))
    missing, cond = table.conditional([1, 1, np.nan, np.nan])
    print("in-painting: given the top row is on (##), the bottom row is")
    for a in (0, 1):
        for b in (0, 1):
            print(f"   {'#' if a else '.'}{'#' if b else '.'}  with probability {cond[a, b]:.3f}")
    print(f"   (independent pixels would say p(bottom = ##) = {p_pix[2] * p_pix[3]:.3f})")
    X_test = random_patches(test, 2, 20_000, rng)
    print(f"held-out log-likelihood per patch: table {table.score(X_test):.4f} nats, "
          f"independent pixels {independent_log_prob(p_pix, X_test).mean():.4f} nats")

    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.bar(np.arange(16) - 0.2, table.probs_, width=0.4, label="joint table")
    ax.bar(np.arange(16) + 0.2, indep, width=0.4, label="independent pixels")
    ax.set_xticks(range(16), [draw(s) for s in table.states], rotation=60, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("p(x)")
    ax.set_title("2x2 binary patches of Fashion-MNIST: the full joint table (16 states)")
    ax.legend()
    return [save_figure(fig, os.path.join(out, "table_2x2.png"))]


def part2_scaling(train, test, rng, out, max_patches):
    print("\n== 2. the table does not scale ==")
    print(f"{'grid':>6} {'pixels':>6} {'free parameters':>22} {'data for ~10 per state':>24}")
    for s in (2, 3, 4, 5, 28):
        d = s * s
        k = n_parameters(d)
        kstr = f"{k:,}" if d <= 25 else f"2^{d} - 1 ~ 1e{len(str(k)) - 1}"
        need = 10 * (k + 1)
        nstr = f"{need:,}" if d <= 25 else f"~1e{len(str(need)) - 1}"
        print(f"{s}x{s:<4} {d:6d} {kstr:>22} {nstr:>24}")
    print("(the observable universe has ~1e80 atoms; Fashion-MNIST has 6e4 images)")

    # how often does a held-out patch hit a state that training never showed?
    sizes = np.unique(np.logspace(2, np.log10(max_patches), 13).astype(int))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    print("\nfraction of 20,000 held-out patches whose exact state never occurred in training:")
    for s in (2, 3, 4, 5):
        train_idx = states_to_index(random_patches(train, s, sizes[-1], rng))
        test_idx = states_to_index(random_patches(test, s, 20_000, rng))
        unseen = [np.mean(~np.isin(test_idx, train_idx[:n])) for n in sizes]
        axes[1].plot(sizes, unseen, "o-", ms=3, label=f"{s}x{s} ({2 ** (s * s):,} states)")
        print(f"  {s}x{s}: " + ", ".join(f"{n:,} patches -> {u:.3f}" for n, u in zip(sizes[::4], unseen[::4])))
    d = np.arange(1, 50)
    axes[0].semilogy(d, 2.0 ** d - 1)
    for s in (2, 3, 4, 5):
        axes[0].semilogy(s * s, 2.0 ** (s * s) - 1, "o")
        axes[0].annotate(f"{s}x{s}", (s * s, 2.0 ** (s * s)), textcoords="offset points", xytext=(-10, 6))
    axes[0].axhline(6e4, ls="--", c="gray")
    axes[0].text(28, 1.5e3, "60,000 = size of Fashion-MNIST", color="gray")
    axes[0].set(xlabel="number of binary pixels d", ylabel="free parameters 2^d - 1",
                title="parameters of the joint table (28x28: 2^784)")
    axes[1].set(xscale="log", xlabel="training patches", ylabel="held-out patches never seen",
                title="data needed to fill the table")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return [save_figure(fig, os.path.join(out, "scaling.png"))]


def part3_four_by_four(train, test, rng, out, n_patches):
    print(f"\n== 3. a 4x4 patch model: 65,536 states from {n_patches:,} patches ==")
    X = random_patches(train, 4, n_patches, rng)
    X_test = random_patches(test, 4, 20_000, rng)
    table = BinaryJointTable((4, 4), alpha=0.1).fit(X)
    p_pix = np.clip(X.mean(0), 1e-4, 1 - 1e-4)
    print(f"states seen in training: {int((table.counts_ > 0).sum()):,} of 65,536")
    print(f"held-out log-likelihood per patch: table {table.score(X_test):.3f} nats, "
          f"independent pixels {independent_log_prob(p_pix, X_test).mean():.3f} nats")

    # samples: real patches, the table, independent pixels
    n = 48
    samples = table.sample(n, random_state=rng).reshape(n, 4, 4)
    indep = (rng.random((n, 16)) < p_pix).reshape(n, 4, 4)
    real = X_test[:n].reshape(n, 4, 4)
    paths = []
    fig, axes = plt.subplots(1, 3, figsize=(13, 3))
    for ax, imgs, title in zip(axes, (real, samples, indep),
                               ("held-out patches", "samples from the joint table",
                                "samples, independent pixels")):
        show_grid(ax, imgs, nrow=12, title=title)
    paths.append(save_figure(fig, os.path.join(out, "samples_4x4.png")))

    # in-painting: hide the bottom two rows of held-out patches with some structure
    keep = (X_test.sum(1) > 2) & (X_test.sum(1) < 14)
    Xi = X_test[keep][:2000]
    mask = np.ones(16, bool)
    mask[8:] = False
    masks = np.tile(mask, (len(Xi), 1))
    t0 = time.time()
    map_fill = table.inpaint(Xi, masks, method="map")
    mean_fill = table.inpaint(Xi[:12], masks[:12], method="mean")
    acc_table = np.mean(map_fill[:, 8:] == Xi[:, 8:])
    acc_indep = np.mean((p_pix[8:] > 0.5) == Xi[:, 8:])
    acc_copy = np.mean(np.tile(Xi[:, 4:8], 2) == Xi[:, 8:])
    print(f"in-painting the bottom half of {len(Xi)} held-out patches ({time.time() - t0:.1f}s):")
    print(f"  pixel accuracy: exact conditional (MAP) {acc_table:.3f}, independent pixels "
          f"{acc_indep:.3f}, copy the row above {acc_copy:.3f}")
    hidden = with_hidden(Xi[:12].reshape(-1, 4, 4), masks[:12].reshape(-1, 4, 4))
    rows = [("held-out patch (white = on)", Xi[:12]), ("bottom half hidden (red)", hidden),
            ("MAP completion", map_fill[:12]), ("p(pixel on | top half)", mean_fill)]
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 5.5))
    for ax, (title, imgs) in zip(axes, rows):
        show_grid(ax, imgs.reshape(12, 4, 4, -1), nrow=12, title=title)
    fig.suptitle("in-painting 4x4 patches with the exact conditional of the joint table")
    paths.append(save_figure(fig, os.path.join(out, "inpainting_4x4.png")))
    return paths


def build_parser():
    p = parser(__doc__.splitlines()[0], out="out/classic/joint_table")
    p.add_argument("--n-images", type=positive_int_arg, default=3000, help="training images to cut patches from")
    p.add_argument("--n-patches", type=positive_int_arg, default=300_000, help="4x4 training patches")
    p.add_argument("--max-patches", type=positive_int_arg, default=1_000_000,
                   help="largest training set in the never-seen-states experiment")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    X, _, X_test, _ = load_fashion(args.n_images, 1000, seed=args.seed)
    train = (X > 0.5).reshape(-1, 28, 28)                    # binarise once
    test = (X_test > 0.5).reshape(-1, 28, 28)
    paths = part1_two_by_two(train, test, rng, args.out)
    paths += part2_scaling(train, test, rng, args.out, args.max_patches)
    paths += part3_four_by_four(train, test, rng, args.out, args.n_patches)
    report(args.out, {"settings": vars(args)}, paths)
    print(f"done in {time.time() - t0:.1f}s")
    return paths


if __name__ == "__main__":
    main()
