"""minigen against PyTorch on the CPU: one process, the same threads, float32.

    python benchmarks/run.py [--threads T] [--out benchmarks/results.json] [--rounds 15]
                             [--only conv,bn] [--keep-openblas-env] [--no-memory]
    python benchmarks/readme_table.py      # the README's table from benchmarks/results.json

Needs the ``bench`` extra (``pip install -e ".[bench]"``: PyTorch CPU).

What is timed (batch 64 unless said; "fwd" under no_grad in both libraries, "fwd+bwd"
is the forward with the graph recorded, then backward of a fixed random gradient into
every input, weight and bias):

    conv2d 1->64, 64->128 (k4 s2 p1), 64->64 (k3 s1 p1); conv_transpose2d 128->64, 64->1
    (k4 s2 p1); batch_norm2d in training mode; an MLP training step (forward, MSE,
    backward, Adam), also at the 2-D toy size 2-128-128-2 (batch 256); one DCGAN training step (discriminator and generator updates);
    and the engine's own overhead: 1,000 elementwise ops on 8-element tensors.

How it is timed. Each case builds a minigen callable and a PyTorch callable that do the
same work on the same data and weights. After a warm-up (compiles Numba kernels, fills
caches, lets Adam allocate its state), the two are timed in alternating *rounds*:
minigen for ~60 ms (or one call if a call is longer), then PyTorch for as long. A load
burst from other processes then hits both sides of a round alike. Each block starts
with one untimed call: the library that ran just before leaves the caches full of its
own arrays (measured: calling the two conv libraries strictly in turn slowed *both*,
PyTorch's conv2d 64->128 fwd+bwd from 7 to 17 ms). Reported: the median
time per call over the rounds, and the ratio minigen/PyTorch as the median of the
per-round ratios, with its interquartile range as the spread.

Also printed: NumPy's sgemm GFLOP/s (1024^3, best of 5) and each conv's GFLOP/s as a
share of it; for the model rows (DCGAN, WGAN-GP, U-Net, PixelCNN) the peak memory of a
step for each library: the growth of the resident set (VmHWM after the peak was reset,
minus VmRSS before) over 3 steps after a warm-up step, each library in a fresh process
that builds the same case.

Threads. Both libraries get T threads (default: all cores): torch.set_num_threads(T),
numba.set_num_threads(T), and OPENBLAS_NUM_THREADS=T for NumPy's BLAS (set before NumPy
is loaded). OpenBLAS reads OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE when it loads; forced
values can pick a slower kernel (measured: NumPy's sgemm ~2x slower). By default the
script re-executes itself once without them, and says so; --keep-openblas-env keeps them.
"""

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases_tractable import cases as tractable_cases          # noqa: E402  (PixelCNN, MADE)
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
REEXEC_MARK = "_MINIGEN_BENCH_UNSET"          # names of the variables the re-exec removed


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads for both libraries (default: all cores, %(default)s here)")
    ap.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results.json"))
    ap.add_argument("--rounds", type=int, default=15, help="timed rounds per case")
    ap.add_argument("--block-ms", type=float, default=60.0,
                    help="time each library runs per round (at least one call)")
    ap.add_argument("--only", default="",
                    help="comma-separated substrings: run only cases whose name contains one")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (default: re-exec without)")
    ap.add_argument("--no-memory", action="store_true",
                    help="skip the peak-memory subprocesses of the model rows")
    ap.add_argument("--memory-child", nargs=2, metavar=("CASE", "LIBRARY"), help=argparse.SUPPRESS)
    return ap.parse_args()


def reexec_without_openblas_vars(args):
    """Start this script again without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (read by
    OpenBLAS only when it loads, so they cannot be changed inside a running process)."""
    present = [k for k in OPENBLAS_VARS if k in os.environ]
    if args.keep_openblas_env or not present:
        return
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
    env[REEXEC_MARK] = ",".join(f"{k}={os.environ[k]}" for k in present)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def set_thread_env(threads):
    """Thread counts that must be in the environment before NumPy/Numba load."""
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[k] = str(threads)


# ---------------------------------------------------------------------------- timing

def time_block(fn, calls, rewarm=False):
    """Seconds per call over ``calls`` calls. With ``rewarm``, one untimed call first: the
    other library has just run and left the caches (and its idle threads) its own way."""
    gc.collect()
    if rewarm:
        fn()
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t) / calls


def quartiles(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return q[0], q[1], q[2]


def compare(fn_mg, fn_torch, rounds, block_s):
    """Alternating rounds of minigen and PyTorch; per-call medians and paired ratios."""
    for fn in (fn_mg, fn_torch):             # warm-up: compile, allocate, fill caches
        t0 = time.perf_counter()
        n = 0
        while n < 3 or (time.perf_counter() - t0 < 0.2 and n < 50):
            fn()
            n += 1
    calls = []
    for fn in (fn_mg, fn_torch):             # calls per block: ~block_s, at least 1
        t = time_block(fn, 1)
        calls.append(max(1, int(block_s / max(t, 1e-9))))
    t_mg, t_torch = [], []
    for _ in range(rounds):
        t_mg.append(time_block(fn_mg, calls[0], rewarm=True))
        t_torch.append(time_block(fn_torch, calls[1], rewarm=True))
    ratios = [a / b for a, b in zip(t_mg, t_torch)]
    r25, r50, r75 = quartiles(ratios)
    return dict(minigen_ms=statistics.median(t_mg) * 1e3, torch_ms=statistics.median(t_torch) * 1e3,
                minigen_min_ms=min(t_mg) * 1e3, torch_min_ms=min(t_torch) * 1e3,
                ratio=r50, ratio_q1=r25, ratio_q3=r75, rounds=rounds,
                calls_per_round=dict(minigen=calls[0], torch=calls[1]))


# ---------------------------------------------------------------------------- cases

class Libs:
    """The two libraries side by side, imported after the thread settings."""

    def __init__(self):
        import numpy as np
        import torch
        import minigen as mg
        import minigen.nn as mnn
        import minigen.optim as moptim
        from minigen import functional as MF
        import torch.nn.functional as TF
        self.np, self.torch, self.mg, self.mnn, self.moptim, self.MF, self.TF = (
            np, torch, mg, mnn, moptim, MF, TF)
        self.rng = np.random.default_rng(0)

    def randn(self, *shape, scale=1.0):
        return (self.rng.standard_normal(shape) * scale).astype(self.np.float32)

    def pair(self, a, requires_grad=False):
        """The same array as a minigen Tensor and a torch tensor (own memory each)."""
        return (self.mg.tensor(a.copy(), requires_grad=requires_grad),
                self.torch.tensor(a.copy(), requires_grad=requires_grad))


def conv_flops(n, c_in, c_out, k, ho, wo):
    """Multiply-adds x2 of one conv forward (the same count for each of the two adjoints)."""
    return 2.0 * n * c_out * ho * wo * c_in * k * k


def conv_case(L, transpose, n, c_in, c_out, hw, k, s, p, backward):
    """conv2d (transpose=False) or conv_transpose2d, with bias; forward or forward+backward."""
    mg, torch = L.mg, L.torch
    x_m, x_t = L.pair(L.randn(n, c_in, hw, hw), requires_grad=backward)
    w_shape = (c_in, c_out, k, k) if transpose else (c_out, c_in, k, k)
    fan_in = (c_out if transpose else c_in) * k * k
    w_m, w_t = L.pair(L.randn(*w_shape, scale=fan_in ** -0.5), requires_grad=backward)
    b_m, b_t = L.pair(L.randn(c_out, scale=0.1), requires_grad=backward)
    f_m = L.MF.conv_transpose2d if transpose else L.MF.conv2d
    f_t = L.TF.conv_transpose2d if transpose else L.TF.conv2d
    with torch.no_grad():
        y_shape = tuple(f_t(x_t, w_t, b_t, stride=s, padding=p).shape)
    gy = L.randn(*y_shape)
    gy_m, gy_t = mg.tensor(gy), torch.tensor(gy)
    leaves_m, leaves_t = (x_m, w_m, b_m), (x_t, w_t, b_t)
    if backward:
        def run_m():
            for t in leaves_m:
                t.grad = None
            f_m(x_m, w_m, b_m, stride=s, padding=p).backward(gy_m)

        def run_t():
            for t in leaves_t:
                t.grad = None
            f_t(x_t, w_t, b_t, stride=s, padding=p).backward(gy_t)
    else:
        def run_m():
            with mg.no_grad():
                f_m(x_m, w_m, b_m, stride=s, padding=p)

        def run_t():
            with torch.no_grad():
                f_t(x_t, w_t, b_t, stride=s, padding=p)
    # FLOPs of the convolution proper; a transposed conv costs what the conv it is the
    # adjoint of costs (that conv maps c_out channels to c_in, on the output grid = x's).
    if transpose:
        flops = conv_flops(n, c_out, c_in, k, hw, hw)
    else:
        flops = conv_flops(n, c_in, c_out, k, y_shape[2], y_shape[3])
    flops *= 3 if backward else 1               # backward: grad-input and grad-weight
    return run_m, run_t, flops


def bn_case(L, n, c, hw, backward):
    """batch_norm2d in training mode (batch statistics, running stats updated)."""
    mg, torch = L.mg, L.torch
    x_m, x_t = L.pair(L.randn(n, c, hw, hw) * 2 + 1, requires_grad=backward)
    g_m, g_t = L.pair(1 + L.randn(c, scale=0.1), requires_grad=backward)
    b_m, b_t = L.pair(L.randn(c, scale=0.1), requires_grad=backward)
    rm_m, rv_m = L.np.zeros(c, L.np.float32), L.np.ones(c, L.np.float32)
    rm_t, rv_t = torch.zeros(c), torch.ones(c)
    gy = L.randn(n, c, hw, hw)
    gy_m, gy_t = mg.tensor(gy), torch.tensor(gy)
    leaves_m, leaves_t = (x_m, g_m, b_m), (x_t, g_t, b_t)

    def call_m():
        return L.MF.batch_norm(x_m, rm_m, rv_m, g_m, b_m, training=True)

    def call_t():
        return L.TF.batch_norm(x_t, rm_t, rv_t, g_t, b_t, training=True)

    if backward:
        def run_m():
            for t in leaves_m:
                t.grad = None
            call_m().backward(gy_m)

        def run_t():
            for t in leaves_t:
                t.grad = None
            call_t().backward(gy_t)
    else:
        def run_m():
            with mg.no_grad():
                call_m()

        def run_t():
            with torch.no_grad():
                call_t()
    return run_m, run_t, None


def conv_bn_act_case(L, fused, n=64, c_in=64, c_out=128, hw=14):
    """conv2d 64->128 k4s2p1 (no bias) -> batch_norm2d (training) -> LeakyReLU(0.2), fwd+bwd:
    the DCGAN discriminator's middle block. fused=True uses minigen.ops.fused's
    batch_norm_leaky_relu (the activation inside the batch-norm kernel's pass)."""
    from minigen.ops.fused import batch_norm_leaky_relu
    mg, torch, MF, TF = L.mg, L.torch, L.MF, L.TF
    x_m, x_t = L.pair(L.randn(n, c_in, hw, hw), requires_grad=True)
    w_m, w_t = L.pair(L.randn(c_out, c_in, 4, 4, scale=(c_in * 16) ** -0.5), requires_grad=True)
    g_m, g_t = L.pair(1 + L.randn(c_out, scale=0.1), requires_grad=True)
    b_m, b_t = L.pair(L.randn(c_out, scale=0.1), requires_grad=True)
    gy = L.randn(n, c_out, hw // 2, hw // 2)
    gy_m, gy_t = mg.tensor(gy), torch.tensor(gy)

    def run_m():
        for t in (x_m, w_m, g_m, b_m):
            t.grad = None
        h = MF.conv2d(x_m, w_m, None, stride=2, padding=1)
        if fused:
            y = batch_norm_leaky_relu(h, None, None, g_m, b_m, training=True, negative_slope=0.2)
        else:
            y = MF.leaky_relu(MF.batch_norm(h, None, None, g_m, b_m, training=True), 0.2)
        y.backward(gy_m)

    def run_t():
        for t in (x_t, w_t, g_t, b_t):
            t.grad = None
        h = TF.conv2d(x_t, w_t, None, stride=2, padding=1)
        TF.leaky_relu(TF.batch_norm(h, None, None, g_t, b_t, training=True), 0.2).backward(gy_t)
    return run_m, run_t, 3 * conv_flops(n, c_in, c_out, 4, hw // 2, hw // 2)


def build_same(L, factory):
    """factory(nn namespace) built by both libraries, PyTorch loaded with minigen's weights."""
    L.mg.manual_seed(0)
    ours, theirs = factory(L.mnn), factory(L.torch.nn)
    theirs.load_state_dict({k: L.torch.tensor(L.np.array(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


def mlp_step_case(L, sizes, batch):
    """An MLP of Linear layers of `sizes` with ReLUs between them; MSE to a target;
    backward; Adam step: the same step timed in both libraries."""
    def factory(nn):
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1])

    ours, theirs = build_same(L, factory)
    x_m, x_t = L.pair(L.randn(batch, sizes[0]))
    y_m, y_t = L.pair(L.randn(batch, sizes[-1]))
    opt_m = L.moptim.Adam(ours.parameters(), lr=1e-3)
    opt_t = L.torch.optim.Adam(theirs.parameters(), lr=1e-3)

    def run_m():
        opt_m.zero_grad()
        L.MF.mse_loss(ours(x_m), y_m).backward()
        opt_m.step()

    def run_t():
        opt_t.zero_grad()
        L.TF.mse_loss(theirs(x_t), y_t).backward()
        opt_t.step()
    return run_m, run_t, None


def mlp_case(L):
    """Linear 784->512, ReLU, Linear 512->784 (batch 128): mostly matrix products."""
    return mlp_step_case(L, (784, 512, 784), 128)


def mlp_toy_case(L):
    """The 2-D toy size: 2->128->128->2 with ReLUs (batch 256). Mostly per-op cost, little
    arithmetic."""
    return mlp_step_case(L, (2, 128, 128, 2), 256)


def dcgan_case(L, n=64, nz=100):
    """One DCGAN step on 28x28 images: a discriminator update on real and fake images,
    then a generator update; BCE-with-logits; Adam(2e-4, betas=(0.5, 0.999)) for both."""
    def generator(nn):
        return nn.Sequential(
            nn.Unflatten(1, (nz, 1, 1)),
            nn.ConvTranspose2d(nz, 128, 7, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(),  # 7x7
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),   # 14x14
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())                                      # 28x28

    def discriminator(nn):
        return nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),                                      # 14x14
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),   # 7x7
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1))

    G_m, G_t = build_same(L, generator)
    D_m, D_t = build_same(L, discriminator)
    real_m, real_t = L.pair(L.np.tanh(L.randn(n, 1, 28, 28)))
    z_m, z_t = L.pair(L.randn(n, nz))
    ones_m, ones_t = L.pair(L.np.ones((n, 1), L.np.float32))
    zeros_m, zeros_t = L.pair(L.np.zeros((n, 1), L.np.float32))

    def step(G, D, opt_g, opt_d, bce, real, z, ones, zeros):
        fake = G(z)
        opt_d.zero_grad()
        loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(D(fake), ones)
        loss_g.backward()
        opt_g.step()

    adam = dict(lr=2e-4, betas=(0.5, 0.999))
    args_m = (G_m, D_m, L.moptim.Adam(G_m.parameters(), **adam),
              L.moptim.Adam(D_m.parameters(), **adam), L.MF.binary_cross_entropy_with_logits,
              real_m, z_m, ones_m, zeros_m)
    args_t = (G_t, D_t, L.torch.optim.Adam(G_t.parameters(), **adam),
              L.torch.optim.Adam(D_t.parameters(), **adam), L.TF.binary_cross_entropy_with_logits,
              real_t, z_t, ones_t, zeros_t)
    return (lambda: step(*args_m)), (lambda: step(*args_t)), None


def engine_case(L, n_ops=1000):
    """1,000 elementwise ops (mul, add, tanh, sub, cycling) on 8-element tensors, a sum,
    and backward: what each op costs in Python bookkeeping, not in arithmetic."""
    x_m, x_t = L.pair(L.randn(8), requires_grad=True)
    c_m, c_t = L.pair(1 + L.randn(8, scale=0.01))

    def chain(x, c, tanh):
        y = x
        for i in range(n_ops // 4):
            y = tanh(((y * c) + c) - c)
        return y.sum()

    def run_m():
        x_m.grad = None
        chain(x_m, c_m, L.mg.tanh).backward()

    def run_t():
        x_t.grad = None
        chain(x_t, c_t, L.torch.tanh).backward()
    return run_m, run_t, None


def cases(L):
    """(name, group, goal, builder) for every row of the table; each model family's rows
    live in its own file (cases_gan.py, cases_diffusion.py, cases_tractable.py)."""
    from cases_gan import gan_cases
    conv = lambda *a: (lambda: conv_case(L, *a))            # noqa: E731
    bn = lambda *a: (lambda: bn_case(L, *a))                 # noqa: E731
    from cases_diffusion import diffusion_cases
    return [
        ("conv2d 1->64 k4s2p1 28x28 fwd", "conv", None, conv(False, 64, 1, 64, 28, 4, 2, 1, False)),
        ("conv2d 1->64 k4s2p1 28x28 fwd+bwd", "conv", 1.5, conv(False, 64, 1, 64, 28, 4, 2, 1, True)),
        ("conv2d 64->128 k4s2p1 14x14 fwd", "conv", None, conv(False, 64, 64, 128, 14, 4, 2, 1, False)),
        ("conv2d 64->128 k4s2p1 14x14 fwd+bwd", "conv", 1.5, conv(False, 64, 64, 128, 14, 4, 2, 1, True)),
        ("conv2d 64->64 k3s1p1 14x14 fwd+bwd", "conv", 1.5, conv(False, 64, 64, 64, 14, 3, 1, 1, True)),
        ("convT 128->64 k4s2p1 7x7 fwd+bwd", "conv", 1.5, conv(True, 64, 128, 64, 7, 4, 2, 1, True)),
        ("convT 64->1 k4s2p1 14x14 fwd+bwd", "conv", 1.5, conv(True, 64, 64, 1, 14, 4, 2, 1, True)),
        ("batchnorm2d 64x14x14 train fwd", "bn", 1.5, bn(64, 64, 14, False)),
        ("batchnorm2d 64x14x14 train fwd+bwd", "bn", 1.5, bn(64, 64, 14, True)),
        ("batchnorm2d 128x7x7 train fwd", "bn", 1.5, bn(64, 128, 7, False)),
        ("batchnorm2d 128x7x7 train fwd+bwd", "bn", 1.5, bn(64, 128, 7, True)),
        ("conv64->128+BN+LReLU fwd+bwd", "fused", None, lambda: conv_bn_act_case(L, False)),
        ("conv64->128+BN+LReLU fused fwd+bwd", "fused", None, lambda: conv_bn_act_case(L, True)),
        ("MLP 784-512-784 b128 step (Adam)", "mlp", 1.3, lambda: mlp_case(L)),
        ("MLP 2-128-128-2 b256 step (Adam)", "mlp-toy", 1.5, lambda: mlp_toy_case(L)),
        ("DCGAN 28x28 b64 train step (D+G)", "dcgan", 1.5, lambda: dcgan_case(L)),
        ("engine: 1000 ops on 8 elems fwd+bwd", "engine", 1.5, lambda: engine_case(L)),
    ] + _with_goals(gan_cases(L) + diffusion_cases(L) + tractable_cases(L))


# The "must reach" ratios of issue 16 for the model rows (the case files' own goals
# are older): the DCGAN step 1.5, the WGAN-GP critic step with its double backward 2.0,
# the U-Net training step 1.5, the PixelCNN step 1.5.
ISSUE_GOALS = {"GANTrainer DCGAN": 1.5, "WGAN-GP": 2.0, "U-Net C16 28x28 b64 train": 1.5,
               "PixelCNN": 1.5}

# Rows whose peak memory per step is measured (each library in a subprocess of its own).
MEMORY_ROWS = ("DCGAN 28x28", "GANTrainer DCGAN", "WGAN-GP", "U-Net C16 28x28 b64 train", "PixelCNN")


def _with_goals(rows):
    out = []
    for name, group, goal, build in rows:
        goal = next((g for key, g in ISSUE_GOALS.items() if name.startswith(key)), goal)
        out.append((name, group, goal, build))
    return out


# ---------------------------------------------------------------------------- memory

def _vm_kb(field):
    """A field of /proc/self/status in kB (VmRSS: resident now, VmHWM: its peak)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def memory_child(case_name, library, steps=3):
    """Run in a subprocess: build the case (both libraries' models, as the timing does),
    call one library's step once (compiles, allocates optimiser state), then reset the
    resident-set peak (Linux: write 5 to /proc/self/clear_refs) and run `steps` more
    steps. Prints the peak growth over the resident set before them, in MB."""
    L = Libs()
    build = next(b for name, _, _, b in cases(L) if name == case_name)
    run_m, run_t, _ = build()
    fn = run_m if library == "minigen" else run_t
    fn()
    import gc
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = _vm_kb("VmRSS")
    for _ in range(steps):
        fn()
    print(json.dumps(dict(peak_growth_mb=(_vm_kb("VmHWM") - before) / 1024.0)))


def measure_memory(case_name, threads):
    """Peak resident-set growth of one step, per library, each in a fresh process."""
    import subprocess
    out = {}
    for library in ("minigen", "torch"):
        try:
            res = subprocess.run([sys.executable, os.path.abspath(__file__), "--threads", str(threads),
                                  "--memory-child", case_name, library],
                                 capture_output=True, text=True, timeout=600, env=dict(os.environ))
            out[library] = json.loads(res.stdout.strip().splitlines()[-1])["peak_growth_mb"]
        except Exception as exc:              # facts only: never fail the benchmark here
            out[library] = None
            out[f"{library}_error"] = str(exc)[:200]
    return out


# ---------------------------------------------------------------------------- machine facts

def openblas_facts(np):
    """NumPy's BLAS: name, version, core type and threads (threadpoolctl if installed)."""
    try:
        from threadpoolctl import threadpool_info
        return [dict(user_api=i.get("user_api"), internal_api=i.get("internal_api"),
                     version=i.get("version"), architecture=i.get("architecture"),
                     threads=i.get("num_threads"), prefix=i.get("prefix"))
                for i in threadpool_info()]
    except ImportError:
        pass
    facts = {"threadpoolctl": "not installed"}
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        facts.update(name=cfg.get("name"), version=cfg.get("version"))
    except Exception:
        pass
    try:                                      # ask the loaded OpenBLAS itself via ctypes
        import ctypes
        with open("/proc/self/maps") as fh:
            libs = {line.split()[-1] for line in fh if "openblas" in line and "numpy" in line}
        for path in libs:
            lib = ctypes.CDLL(path)
            for suffix in ("64_", "", "_64"):
                for prefix in ("scipy_", ""):
                    name = f"{prefix}openblas_get_corename{suffix}"
                    if hasattr(lib, name):
                        getattr(lib, name).restype = ctypes.c_char_p
                        facts["corename"] = getattr(lib, name)().decode()
                        facts["threads"] = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}")()
                        break
    except Exception as exc:                  # facts only: never fail the benchmark here
        facts["ctypes_probe"] = f"failed: {exc}"
    return facts


def sgemm_gflops(L, size=1024, reps=5):
    """Large float32 matmul throughput of NumPy's BLAS and of PyTorch: the machine's peak."""
    torch = L.torch
    a, b = L.randn(size, size), L.randn(size, size)
    ta, tb = torch.tensor(a), torch.tensor(b)
    out = {}
    for name, fn in (("numpy", lambda: a @ b), ("torch", lambda: ta @ tb)):
        fn()
        best = min(time_block(fn, 1) for _ in range(reps))
        out[name] = 2.0 * size ** 3 / best / 1e9
    return out


def machine_facts(L, threads, unset):
    import numba
    import kernels
    np, torch = L.np, L.torch
    kernels.batchnorm_forward_train(L.randn(64, 64, 8, 8), None, None)  # start Numba's threads
    # (a call above kernels.cpu.PARALLEL_MIN_WORK: smaller ones run on the calling thread)
    facts = dict(
        python=platform.python_version(), machine=platform.machine(), processor=_cpu_name(),
        cores=os.cpu_count(), threads=threads,
        torch=torch.__version__, torch_threads=torch.get_num_threads(),
        torch_interop_threads=torch.get_num_interop_threads(),
        numpy=np.__version__, numba=numba.__version__, numba_threads=numba.get_num_threads(),
        numba_threading_layer=numba.threading_layer(),
        numpy_blas=openblas_facts(np),
        omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
        minigen_kernels=kernels.backend_for(np.zeros(1)).__name__,
        openblas_env_unset=os.environ.get(REEXEC_MARK) or None,
        openblas_env_present={k: os.environ[k] for k in OPENBLAS_VARS if k in os.environ},
        load_average=os.getloadavg() if hasattr(os, "getloadavg") else None,
    )
    facts["sgemm_1024_gflops"] = sgemm_gflops(L)
    return facts


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# ---------------------------------------------------------------------------- main

def main():
    args = parse_args()
    reexec_without_openblas_vars(args)
    set_thread_env(args.threads)
    sys.path.insert(0, REPO)
    import torch                              # before kernels: PyTorch keeps its own OpenMP defaults
    torch.set_num_threads(args.threads)
    # minigen's kernels next: with PyTorch's OpenMP runtime loaded they pick Numba's
    # workqueue layer, which numba.set_num_threads below would otherwise fix to omp
    # (then Numba's and PyTorch's OpenMP workers spin against each other: conv 64->128
    # fwd+bwd took 120 ms instead of 17 ms here at 2 threads).
    import kernels  # noqa: F401
    import numba
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    torch.manual_seed(0)
    if args.memory_child:
        return memory_child(*args.memory_child)
    L = Libs()

    unset = os.environ.get(REEXEC_MARK)
    facts = machine_facts(L, args.threads, unset)
    print("minigen vs PyTorch (CPU, float32, one process)")
    print(f"  cpu: {facts['processor']}, {facts['cores']} cores; threads: torch "
          f"{facts['torch_threads']}, numba {facts['numba_threads']} "
          f"({facts['numba_threading_layer']} layer), OpenBLAS {args.threads} requested")
    print(f"  numpy BLAS: {facts['numpy_blas']}")
    print(f"  torch {facts['torch']}, numpy {facts['numpy']}, numba {facts['numba']}, "
          f"minigen kernels: {facts['minigen_kernels']}, OMP_WAIT_POLICY={facts['omp_wait_policy']}")
    if unset:
        print(f"  NOTE: re-executed without {unset} (they slow NumPy's BLAS); "
              f"--keep-openblas-env keeps them")
    elif facts["openblas_env_present"]:
        print(f"  NOTE: running WITH {facts['openblas_env_present']} (--keep-openblas-env)")
    else:
        print("  OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: not set")
    sg = facts["sgemm_1024_gflops"]
    print(f"  sgemm 1024^3 peak: numpy {sg['numpy']:.0f} GFLOP/s, torch {sg['torch']:.0f} GFLOP/s; "
          f"load average {facts['load_average']}")
    print(f"  timing: {args.rounds} alternating rounds of ~{args.block_ms:.0f} ms per library; "
          f"median ms per call; ratio = median of per-round ratios [IQR]")
    print()

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    header = (f"{'case':<38} {'minigen ms':>10} {'torch ms':>9} {'ratio':>6} {'[IQR]':>12} "
              f"{'goal':>5} {'met?':>4}  {'GFLOP/s mg/torch':>16} {'%sgemm':>7}  {'peak MB mg/torch':>16}")
    print(header)
    print("-" * len(header))
    rows = []
    for name, group, goal, build in cases(L):
        if only and not any(s in name or s == group for s in only):
            continue
        run_m, run_t, flops = build()
        r = compare(run_m, run_t, args.rounds, args.block_ms / 1e3)
        r.update(case=name, group=group, goal=goal,
                 met=None if goal is None else bool(r["ratio"] <= goal))
        gf = share = mem = ""
        if flops:
            r["gflops_minigen"] = flops / (r["minigen_ms"] / 1e3) / 1e9
            r["gflops_torch"] = flops / (r["torch_ms"] / 1e3) / 1e9
            # the conv's throughput as a share of NumPy's sgemm peak measured above
            r["sgemm_share_minigen"] = r["gflops_minigen"] / facts["sgemm_1024_gflops"]["numpy"]
            gf = f"{r['gflops_minigen']:7.1f}/{r['gflops_torch']:<7.1f}"
            share = f"{100 * r['sgemm_share_minigen']:6.0f}%"
        if not args.no_memory and name.startswith(MEMORY_ROWS):
            r["peak_memory_mb"] = measure_memory(name, args.threads)
            m = r["peak_memory_mb"]
            if m.get("minigen") is not None and m.get("torch") is not None:
                mem = f"{m['minigen']:7.1f}/{m['torch']:<7.1f}"
        rows.append(r)
        met = "-" if goal is None else ("yes" if r["met"] else "NO")
        print(f"{name:<38} {r['minigen_ms']:10.3f} {r['torch_ms']:9.3f} {r['ratio']:6.2f} "
              f"[{r['ratio_q1']:4.2f}-{r['ratio_q3']:4.2f}] {goal if goal else '':>5} {met:>4}  "
              f"{gf:>16} {share:>7}  {mem}", flush=True)
    met = [r for r in rows if r["goal"] is not None]
    print(f"\ngoals met: {sum(r['met'] for r in met)}/{len(met)}")
    facts["load_average_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    import datetime
    out = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               command="python benchmarks/run.py " + " ".join(
                   f"'{a}'" if " " in a else a for a in sys.argv[1:]),
               settings=dict(threads=args.threads, rounds=args.rounds, block_ms=args.block_ms,
                             dtype="float32", statistic="median per call; ratio = median of "
                             "per-round ratios, IQR as spread",
                             openblas_env_unset=unset or None,
                             openblas_env_kept=facts["openblas_env_present"] or None),
               machine=facts, results=rows)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=1, default=str)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
