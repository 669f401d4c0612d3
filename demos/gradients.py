"""A tour of the gradients of a small network: every one printed, checked, and drawn.

    python demos/gradients.py                       # pictures and graphs in out/gradients
    python demos/gradients.py --out /tmp/g --seed 1 --steps 500
    python demos/gradients.py --quick               # a few steps of everything (tests)

1. a two-layer network on a toy 2-D set: 8 clusters on a circle, alternating classes
2. its graph, as Graphviz DOT (and a PNG when the `dot` program is installed), and
   the graph that backward builds for its gradients
3. trace: every node of the graph in the order backward visits it, with the line
   that made it and the gradient flowing through it
4. every node's and every parameter's gradient next to a finite-difference estimate
   (float64, computed by replaying the graph with one entry nudged)
5. training: the loss going down, and the gradient norm of each layer over the steps
6. vanishing gradients: a deep sigmoid network against a deep ReLU + batch-norm one
7. a gradient of a gradient: the WGAN-GP gradient penalty, checked numerically, with
   the graph that its double backward runs through

Runs on the CPU, offline, in seconds. Everything it draws is listed at the end.
"""
import copy
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
import minigen.functional as F                                          # noqa: E402
import minigen.nn as nn                                                 # noqa: E402
from minigen import inspection, viz                                        # noqa: E402
from minigen.data import eight_gaussians                                # noqa: E402
from minigen.tensor import Tensor                                       # noqa: E402
from minigen.train import demo_parser, positive_int_arg, write_results  # noqa: E402


def section(title):
    print(f"\n{'=' * 88}\n{title}\n{'=' * 88}")


# ---------------------------------------------------------------------- the data
def toy_data(n, seed):
    """Points around 8 clusters on a circle; the label is the cluster's number mod 2.

    Neighbouring clusters belong to different classes, so no straight line separates
    them: the hidden layer is needed.
    """
    ring = eight_gaussians(radius=2.0, std=0.25)
    x = ring.sample(n, seed=seed)
    nearest = np.argmin(((x[:, None, :] - ring.modes[None]) ** 2).sum(-1), axis=1)
    y = (nearest % 2).astype(np.float32)[:, None]
    return mg.tensor(x), mg.tensor(y)


def two_layer_net():
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))


# ---------------------------------------------------------------------- 4. the checks
def check_every_gradient(model, x, y):
    """Every node's and every parameter's gradient beside its finite-difference estimate.

    On a float64 copy of the network (differences need the digits) and 32 examples;
    the rows are numbered like the trace above. check_graph nudges each entry of each
    tensor by +-1e-6 and replays the rest of the graph: no backward rule is trusted.
    """
    model64 = copy.deepcopy(model).double()
    with inspection.record():
        loss = F.binary_cross_entropy_with_logits(model64(x.double()), y.double())
    return inspection.check_graph(loss, names=model64, max_entries=1024)   # every entry


# ---------------------------------------------------------------------- 5. training
def train(model, x, y, steps, lr=0.05):
    """Adam on the full set; records the loss and the accuracy, and the gradient flow."""
    opt = mg.optim.Adam(model.parameters(), lr=lr)
    flow = inspection.grad_flow(model)
    history = {"loss": [], "accuracy": []}
    for _ in range(steps):
        logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history["loss"].append(loss.item())
        history["accuracy"].append(float(((logits.data > 0) == (y.data > 0.5)).mean()))
    flow.remove()
    return history, flow


# ---------------------------------------------------------------------- 6. vanishing
def deep_mlp(kind, depth=10, width=32):
    """`depth` hidden layers: Linear + Sigmoid, or Linear + BatchNorm + ReLU."""
    layers, fan_in = [], 2
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        layers += [nn.Sigmoid()] if kind == "sigmoid" else [nn.BatchNorm1d(width), nn.ReLU()]
        fan_in = width
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def vanishing_contrast(x, y, steps, out):
    flows = {}
    for label, kind in (("10 x (Linear, Sigmoid)", "sigmoid"),
                        ("10 x (Linear, BatchNorm, ReLU)", "relu")):
        model = deep_mlp(kind)
        opt = mg.optim.SGD(model.parameters(), lr=0.1)
        with inspection.grad_flow(model) as flow:
            for _ in range(steps):
                loss = F.binary_cross_entropy_with_logits(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        medians = flow.medians()
        linear = [name for name, kind_ in flow.layers if kind_ == "Linear"]
        print(f"\n{label}: gradient norm of the first Linear layer {medians[linear[0]]:.1e}, "
              f"of the last {medians[linear[-1]]:.1e} (median over {steps} steps)")
        problems = flow.warnings()
        for text in problems or ["no warnings: the gradient reaches every layer"]:
            print(f"  - {text}")
        flows[label] = flow
    return inspection.compare(flows, os.path.join(out, "vanishing_gradients.png"), only="Linear",
                           title="gradient norm per Linear layer: sigmoid vanishes, ReLU + BN does not")


# ---------------------------------------------------------------------- 7. gradient penalty
def numerical_grad(f, x, eps=1e-6):
    """d f / d x by central differences, one element at a time (f: Tensor -> float).

    Slow (two evaluations of f per element) but independent of any backward rule:
    exactly what a backward rule must agree with.
    """
    grad = np.zeros(x.shape)
    flat = grad.reshape(-1)
    for i in range(x.numel()):
        plus, minus = x.data.copy(), x.data.copy()
        plus.reshape(-1)[i] += eps
        minus.reshape(-1)[i] -= eps
        flat[i] = (f(Tensor(plus)) - f(Tensor(minus))) / (2 * eps)
    return grad


def side_by_side(name, analytic, numerical):
    """One row: the first entries of both gradients and the largest difference."""
    a, n = analytic.reshape(-1), numerical.reshape(-1)

    def first(v):
        return " ".join(f"{e:+.5f}" for e in v[:3]) + (" ..." if v.size > 3 else "")

    error = np.abs(a - n).max()
    print(f"  {name:<22} {str(analytic.shape):<9} {first(a):<31} {first(n):<31} {error:9.1e}"
          f"  {'ok' if error < 1e-6 else 'CHECK'}")
    return error


def critic():
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))


def gradient_penalty(D, real, fake, eps):
    """WGAN-GP: mean over x_hat of (|dD(x_hat)/dx_hat| - 1)^2, x_hat between real and fake.

    The gradient dD/dx_hat is computed with create_graph=True, so the penalty is itself
    a graph that backward can differentiate once more (a gradient of a gradient).
    """
    x_hat = eps * real + (1.0 - eps) * fake
    x_hat.requires_grad_(True)
    x_hat.name = "x_hat"
    grad_x, = mg.grad(D(x_hat).sum(), x_hat, create_graph=True)
    norm = ((grad_x * grad_x).sum(axis=1) + 1e-12).sqrt()
    return ((norm - 1.0) ** 2).mean()


def gradient_penalty_tour(x, seed, out):
    rng = np.random.default_rng(seed)
    real = Tensor(x.data[:16].astype(np.float64))
    fake = Tensor(rng.standard_normal((16, 2)))
    eps = Tensor(rng.uniform(0, 1, (16, 1)))
    D = critic().double()

    with inspection.record():                # tag the nodes the first backward builds
        penalty = gradient_penalty(D, real, fake, eps)
    print(f"penalty = {penalty.item():.6f}; its graph holds the forward of D *and* the "
          "backward of D (ops marked *):")
    graph = inspection.to_dot(penalty, os.path.join(out, "gp_graph"), names=D,
                           title="gradient penalty: forward of D (blue), backward of D (orange)")
    double = inspection.to_dot(penalty, os.path.join(out, "gp_double_backward"), names=D,
                            backward=True, max_nodes=300,
                            title="d penalty / d parameters: the double-backward graph")
    inspection.trace(penalty, names=D, backward=True, limit=30)

    print("\nd penalty / d parameters (double backward) against finite differences:")
    print(f"  {'gradient of penalty':<22} {'shape':<9} {'analytic (backward)':<31} "
          f"{'numerical (differences)':<31} {'max |diff|':>9}")
    worst = 0.0
    for name, p in D.named_parameters():
        def f(value, p=p):
            saved, p.data = p.data, value.data
            try:
                return gradient_penalty(D, real, fake, eps).item()
            finally:
                p.data = saved
        analytic = p.grad.data if p.grad is not None else np.zeros(p.shape)  # no effect: 0
        worst = max(worst, side_by_side(f"d/d[{name}]", analytic, numerical_grad(f, p)))
    print("  (the last bias has no effect on dD/dx, so its gradient is exactly 0)")
    print(f"  the gradient of the gradient agrees with finite differences to {worst:.1e}")
    return [graph, double], worst


# ---------------------------------------------------------------------- the tour
def build_parser():
    p = demo_parser(__doc__.split("\n")[0], out=os.path.join("out", "gradients"))
    p.add_argument("--steps", type=positive_int_arg, default=300,
                   help="training steps of the two-layer net")
    p.add_argument("--deep-steps", type=positive_int_arg, default=20,
                   help="steps of each deep network")
    p.add_argument("--quick", action="store_true", help="a few steps of everything (tests)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.quick:
        args.steps, args.deep_steps = 15, 2
    start = time.time()
    mg.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    pictures, graphs = [], []

    section("1. a two-layer network on a toy set: 8 clusters on a circle, alternating classes")
    x, y = toy_data(512, args.seed)
    model = two_layer_net()
    print(model)
    print(f"data: x {x.shape}, labels {y.shape}; {int(y.data.sum())} of {len(y)} in class 1")

    section("2. the graph of the loss, and the graph backward builds for its gradients")
    with inspection.record():                # remember the line that made each node
        loss = F.binary_cross_entropy_with_logits(model(x), y)
    graphs.append(inspection.to_dot(loss, os.path.join(args.out, "graph"), names=model,
                                 title="two-layer network: forward graph of the loss"))
    graphs.append(inspection.to_dot(loss, os.path.join(args.out, "graph_backward"), names=model,
                                 backward=True, title="forward graph + the graph backward builds"))

    section("3. trace: every node in the order backward visits it, and the gradient through it")
    inspection.trace(loss, names=model, backward=True)

    section("4. every gradient next to its numerical check (float64, central differences)")
    gradient_report = check_every_gradient(model, x[:32], y[:32])

    section(f"5. training for {args.steps} steps (Adam, lr 0.05)")
    history, flow = train(model, x, y, args.steps)
    print(f"loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.4f}, "
          f"accuracy {history['accuracy'][0]:.1%} -> {history['accuracy'][-1]:.1%}")
    pictures.append(viz.curves(history, os.path.join(args.out, "loss.png"), separate=True,
                               title="two-layer network: the loss going down"))
    flow.report()
    pictures.append(flow.plot(os.path.join(args.out, "grad_flow.png"),
                              title="gradient norm per layer while training"))

    section("6. vanishing gradients: a deep sigmoid network vs a deep ReLU + batch-norm network")
    pictures.append(vanishing_contrast(x[:128], y[:128], args.deep_steps, args.out))

    section("7. a gradient of a gradient: the WGAN-GP gradient penalty")
    gp_graphs, _ = gradient_penalty_tour(x, args.seed, args.out)
    graphs += gp_graphs

    section(f"done in {time.time() - start:.1f} s; pictures")
    for path in pictures + [g.png_path for g in graphs if g.png_path]:
        print(f"  {path}")
    print("graphs (Graphviz DOT):")
    for g in graphs:
        print(f"  {g.dot_path}")
    if not any(g.png_path for g in graphs):
        print("  (no graph PNGs: install Graphviz, e.g. `apt-get install graphviz`, to render them)")
    results = {"settings": vars(args), "loss_first": history["loss"][0], "loss_last": history["loss"][-1],
               "accuracy_first": history["accuracy"][0], "accuracy_last": history["accuracy"][-1],
               "gradient_check_ok": gradient_report.ok,
               "gradient_check_max_abs_error": gradient_report.max_abs_error}
    write_results(args.out, results, started=start)        # the pictures are listed above
    return results


if __name__ == "__main__":
    main()
