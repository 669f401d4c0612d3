"""Every family on one bench: one table and one figure of the L6.3 taxonomy on the same data.

    python demos/compare.py                     # embedded subset, each model trained briefly
    python demos/compare.py --full              # the 60,000 training images
    python demos/compare.py --from out          # measure saved demo outputs, train nothing
    MINIGEN_TINY=1 python demos/compare.py      # seconds (the suite's size)

Each model below is trained here with its plain training step (a few hundred steps by
default: a bench of the families' *behaviour*, not of their best numbers), then handed to
``minigen.compare.measure_row``, the one function that computes every row: parameters,
training time, sampling time per image, likelihood (exact / bound / IS estimate), FD, KID,
precision, recall, class coverage, in-painting MSE on the three masks of the VAE demo,
anomaly AUROC of a held-out class and the linear-probe accuracy of the latent.
Families not on the bench get a row marked "not built".

With ``--from DIR``: DIR/<key>/samples.npy (and results.json) written by the family demos
(keys: patches pca fa vae iwae fvsbn made pixelcnn realnvp dcgan wgan_gp stylegan ddpm; e.g. ``python demos/dcgan.py --out
DIR/dcgan``) are measured for sample quality and sampling is not timed again; parameters
and training time come from that results.json where it recorded them; the columns that
need the model itself (likelihood, in-painting, anomaly, probe) say "—".
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                     # noqa: E402
from minigen import compare                                              # noqa: E402
from minigen.compare import Candidate, conditional_gaussian_fill, not_built   # noqa: E402
from minigen.config import size                                          # noqa: E402
from minigen.train import demo_parser, out_dir_arg, positive_int_arg, write_results   # noqa: E402

EXACT, APPROX, IMPLICIT = "explicit tractable", "explicit approximate", "implicit"
TAXONOMY = {"classic": "explicit tractable (linear Gaussian)", "vae": APPROX, "diffusion": APPROX,
            "autoregressive": EXACT, "flows": EXACT, "gan": IMPLICIT}
CLASS_OF_KEY = {"patches": EXACT}
NOT_MEASURED = "not measured"       # the one classic model that is not a linear Gaussian


def build_parser():
    p = demo_parser(__doc__.splitlines()[0], out="out/compare")
    p.add_argument("--full", action="store_true", help="the 60k training images (installed files)")
    p.add_argument("--from", dest="from_dir", type=out_dir_arg, default=None,
                   help="measure DIR/<model>/samples.npy of earlier demo runs; train nothing")
    p.add_argument("--steps", type=positive_int_arg, default=None,
                   help="training steps per model (default 400; 3 under MINIGEN_TINY)")
    p.add_argument("--batch-size", type=positive_int_arg, default=64)
    p.add_argument("--n-train", type=positive_int_arg, default=None,
                   help="training images used (default all; 300 under MINIGEN_TINY)")
    p.add_argument("--n-test", type=positive_int_arg, default=None,
                   help="test images used (default all; 200 under MINIGEN_TINY)")
    p.add_argument("--n-samples", type=positive_int_arg, default=None,
                   help="samples per model for FD/KID (default 1000; 40 under MINIGEN_TINY)")
    p.add_argument("--n-inpaint", type=positive_int_arg, default=None,
                   help="test images per in-painting mask (default 100; 6 under MINIGEN_TINY)")
    p.add_argument("--only", nargs="+", metavar="KEY", default=None,
                   help="measure only these models (keys as for --from: patches pca ... ddpm); "
                        "the other rows say 'not measured in this run'")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    return p


# ------------------------------------------------------------------------ training, plainly
def _batches(x, steps, batch_size, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        yield x[rng.integers(0, len(x), batch_size)]


def _adam_train(model, loss_of, x, args, lr=1e-3):
    """steps of Adam on loss_of(batch); returns seconds."""
    opt = mg.optim.Adam(model.parameters(), lr=lr)
    started = time.time()
    for batch in _batches(x, args.steps, args.batch_size, args.seed):
        loss = loss_of(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.time() - started


def _count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def _binary(batch, rng=np.random.default_rng(0)):
    return (rng.random(batch.shape) < batch).astype(np.float32)


def _tensor(x, args, shape=None):
    x = np.asarray(x, dtype=np.float32)
    return mg.tensor(x if shape is None else x.reshape(shape), device=args.device)


def build_pca(bench, args):
    from minigen.models.classic import PCA
    from minigen.compare import dequantise
    started = time.time()
    model = PCA(n_components=32).fit(dequantise(bench.x_train, 1).astype(np.float64))
    seconds = time.time() - started
    d, k = 784, model.n_components_
    rng = np.random.default_rng(args.seed)
    return Candidate(
        "PCA (PPCA, 32)", "classic", "explicit tractable (linear Gaussian)", d * k + d + 1, seconds,
        sample=lambda n: model.sample(n, random_state=rng), nll=lambda x: -model.score_samples(x),
        nll_kind="exact", nll_space="dequantised",
        inpaint=lambda x, o: conditional_gaussian_fill(x, o, model.mean_, model.get_covariance()),
        inpaint_method="conditional Gaussian",
        anomaly_score=lambda x: -model.score_samples(x), anomaly_method="-log p(x)",
        latent=model.transform, model=model)


def build_fa(bench, args):
    from minigen.models.classic import FactorAnalysis
    from minigen.compare import dequantise
    started = time.time()
    model = FactorAnalysis(n_components=16, max_iter=size(50, 5)).fit(
        dequantise(bench.x_train, 1).astype(np.float64))
    seconds = time.time() - started
    rng = np.random.default_rng(args.seed)
    return Candidate(
        "Factor analysis (16)", "classic", "explicit tractable (linear Gaussian)", 784 * 16 + 2 * 784,
        seconds, sample=lambda n: model.sample(n, random_state=rng),
        nll=lambda x: -model.score_samples(x), nll_kind="exact", nll_space="dequantised",
        inpaint=lambda x, o: conditional_gaussian_fill(x, o, model.mean_, model.get_covariance()),
        inpaint_method="conditional Gaussian",
        anomaly_score=lambda x: -model.score_samples(x), anomaly_method="-log p(x)",
        latent=model.transform, model=model)


def build_vae(bench, args, objective="elbo"):
    from minigen.models.vae import VAE
    from minigen.models.vae.inpainting import pseudo_gibbs
    mg.manual_seed(args.seed)
    model = VAE.mlp(latent_dim=20, hidden=size(400, 32)).to(args.device)
    k = 5 if objective == "iwae" else 1
    loss_of = (lambda b: model.elbo(_tensor(_binary(b), args)).loss) if objective == "elbo" else \
        (lambda b: -model.iwae_bound(_tensor(_binary(b), args), k).mean())
    seconds = _adam_train(model, loss_of, bench.x_train, args)
    eval_k = size(200, 5)
    nll = lambda x: -np.asarray(model.log_likelihood(x, k=eval_k))
    return Candidate(
        "VAE" if objective == "elbo" else "IWAE (k=5)", "vae", APPROX, _count(model), seconds,
        sample=lambda n: model.generate(n).numpy(), nll=nll, nll_kind=f"IS estimate (k={eval_k})",
        inpaint=lambda x, o: pseudo_gibbs(model, _binary(x), o, steps=size(50, 4), burn_in=size(10, 1)),
        inpaint_method="pseudo-Gibbs", anomaly_score=nll, anomaly_method="-log p(x) (IS)",
        anomaly_input="binary",
        latent=lambda x: np.asarray(model.latent_means(x)), model=model)


def _autoregressive(name, model, bench, args, image=False):
    shape = (-1, 1, 28, 28) if image else (-1, 784)          # PixelCNN takes images
    seconds = _adam_train(model, lambda b: model.loss(_binary(b).reshape(shape)), bench.x_train, args)
    model.eval()
    nll = lambda x: np.concatenate([-model.log_prob(x[i:i + 500].reshape(shape)).numpy()
                                    for i in range(0, len(x), 500)])

    def nll_no_grad(x):
        with mg.no_grad():
            return nll(x)
    return Candidate(
        name, "autoregressive", EXACT, _count(model), seconds,
        sample=lambda n: model.sample(n).reshape(n, -1),
        nll=nll_no_grad, nll_kind="exact",
        # the exact conditional exists only when the observed pixels come first in the
        # order (the bottom half missing); none of the VAE demo's three masks is such
        inpaint=None, inpaint_method="exact conditional: only for a missing bottom half",
        anomaly_score=nll_no_grad, anomaly_method="-log p(x)", anomaly_input="binary",
        model=model)


def build_fvsbn(bench, args):
    from minigen.models.autoregressive import FVSBN
    mg.manual_seed(args.seed)
    return _autoregressive("FVSBN", FVSBN((784,)).to(args.device), bench, args)


def build_made(bench, args):
    from minigen.models.autoregressive import MADE
    mg.manual_seed(args.seed)
    return _autoregressive("MADE", MADE(784, hidden=(size(500, 32),)).to(args.device), bench, args)


def build_pixelcnn(bench, args):
    from minigen.models.autoregressive import PixelCNN
    mg.manual_seed(args.seed)
    model = PixelCNN(28, channels=size(32, 8), num_blocks=size(4, 1)).to(args.device)
    return _autoregressive("PixelCNN", model, bench, args, image=True)


def build_realnvp(bench, args):
    from minigen.models.flows import realnvp_image
    mg.manual_seed(args.seed)
    flow = realnvp_image(28, hidden=size(32, 8), num_checkerboard=size(4, 1),
                         num_channel=size(4, 1)).to(args.device)
    rng = np.random.default_rng(args.seed)
    seconds = _adam_train(flow, lambda b: flow.loss(_tensor(
        (b * 255 + rng.random(b.shape)) / 256, args, (-1, 1, 28, 28))), bench.x_train, args)
    flow.eval()

    def nll(x):
        with mg.no_grad():
            return np.concatenate([-flow.log_prob(_tensor(x[i:i + 200], args, (-1, 1, 28, 28))).numpy()
                                   for i in range(0, len(x), 200)])
    return Candidate(
        "RealNVP", "flows", EXACT, _count(flow), seconds,
        sample=lambda n: flow.sample(n).reshape(n, -1), nll=nll, nll_kind="exact",
        nll_space="dequantised", inpaint=None, inpaint_method="none natural (not built)",
        anomaly_score=lambda x: nll(compare.dequantise(x, 2)), anomaly_method="-log p(x)",
        model=flow)


def _latent_search(G, args, noise_of=None):
    """The GAN's in-painting: optimise z so that G(z) matches the observed pixels."""
    from minigen.compare import latent_search_inpaint
    from minigen.models.gan import frozen

    def inpaint(x, observed):
        was_training = G.training
        G.eval()
        noise = noise_of(len(x)) if noise_of else None        # StyleGAN: hold its noise still
        generate = (lambda z: (G(z) + 1) / 2) if noise is None else (lambda z: (G(z, noise=noise) + 1) / 2)
        try:
            with frozen(G):
                return latent_search_inpaint(generate, G.latent_dim, x, observed,
                                             steps=size(200, 3), lr=0.05, seed=args.seed,
                                             device=args.device)
        finally:
            G.train(was_training)
    return inpaint


def _gan_candidate(name, G, D, trainer, bench, args, score_name, noise_of=None, copies=1):
    """copies > 1: D has a minibatch-stddev layer (groups of ``copies``, sample i with
    i + N, i + 2N, ...); each image is scored in a group of its own copies, so its score
    depends on it alone and not on which images share its batch."""
    started = time.time()
    for batch in _batches(bench.x_train, args.steps, trainer.loader_batch_size(args.batch_size), args.seed):
        trainer.step(_tensor(batch * 2 - 1, args, (-1, 1, 28, 28)))
    seconds = time.time() - started

    def realness(x):                       # -D(x): low D logit / critic score = "fake" = anomalous
        D.eval()
        scores = []
        with mg.no_grad():
            for i in range(0, len(x), 500):
                chunk = np.tile(x[i:i + 500], (copies, 1))
                scores.append(-D(_tensor(chunk * 2 - 1, args, (-1, 1, 28, 28))).numpy().reshape(-1)[:len(chunk) // copies])
        return np.concatenate(scores)
    return Candidate(
        name, "gan", IMPLICIT, _count(G, D), seconds,
        sample=lambda n: (trainer.generate(n, seed=args.seed + 1).reshape(n, -1) + 1) / 2,
        inpaint=_latent_search(G, args, noise_of), inpaint_method="latent search (Adam on z)",
        anomaly_score=realness, anomaly_method=score_name, model=G)


def build_dcgan(bench, args, loss="nonsaturating"):
    """DCGAN (non-saturating, batch norm) or, with ``loss="wgan-gp"``, the same networks as a
    WGAN-GP: critic with layer norm, lambda 10, n_critic 5, Adam 1e-4 (0.5, 0.9), as demos/dcgan.py."""
    from minigen.models.gan import GANTrainer, dcgan_discriminator, dcgan_generator, dcgan_init_
    mg.manual_seed(args.seed)
    c = size(64, 8)
    gp = loss == "wgan-gp"
    G = dcgan_init_(dcgan_generator(size(100, 16), c)).to(args.device)
    D = dcgan_init_(dcgan_discriminator(c, norm="layer" if gp else "batch")).to(args.device)
    lr, betas = (1e-4, (0.5, 0.9)) if gp else (2e-4, (0.5, 0.999))
    adam = lambda m: mg.optim.Adam(m.parameters(), lr=lr, betas=betas)
    trainer = GANTrainer(G, D, adam(G), adam(D), loss=loss, n_critic=5 if gp else 1, gp_weight=10.0)
    return _gan_candidate("WGAN-GP" if gp else "DCGAN", G, D, trainer, bench, args,
                          "-critic(x)" if gp else "-D(x)")


def build_stylegan(bench, args):
    """StyleGAN-lite of demos/stylegan.py: mapping network, constant input, AdaIN, noise;
    ProGAN's discriminator at 28x28, non-saturating loss with R1 (gamma 1), Adam (0, 0.99)."""
    from minigen.models.gan import GANTrainer
    from minigen.models.gan.progan import ProDiscriminator
    from minigen.models.gan.style import StyleGenerator
    mg.manual_seed(args.seed)
    channels = (size(64, 8), size(32, 8), size(16, 8))
    G = StyleGenerator(32, 32, channels, 4).to(args.device)
    D = ProDiscriminator(channels).to(args.device)
    adam = lambda m: mg.optim.Adam(m.parameters(), lr=1e-3, betas=(0.0, 0.99), eps=1e-8)
    trainer = GANTrainer(G, D, adam(G), adam(D), loss="nonsaturating", r1_weight=1.0)
    return _gan_candidate("StyleGAN-lite", G, D, trainer, bench, args, "-D(x) (stddev group: copies of x)",
                          noise_of=lambda n: G.make_noise(n, device=args.device), copies=4)


def build_patch_table(bench, args):
    """The L6.1 joint table as an image model: 49 independent 4x4 blocks, a 2^16-state
    table at each block position (minigen.compare.PatchTables)."""
    from minigen.compare import PatchTables
    started = time.time()
    model = PatchTables().fit(_binary(bench.x_train, np.random.default_rng(args.seed)))
    seconds = time.time() - started
    rng = np.random.default_rng(args.seed)
    nll = lambda x: -model.log_prob(x)
    return Candidate(
        "joint 4x4-patch table", "classic", EXACT, model.parameters, seconds,
        sample=lambda n: model.sample(n, rng), nll=nll, nll_kind="exact",
        inpaint=lambda x, o: model.inpaint_mean(_binary(x, np.random.default_rng(args.seed + 2)), o),
        inpaint_method="exact conditional (per block)",
        anomaly_score=nll, anomaly_method="-log p(x)", anomaly_input="binary", model=model)


def build_ddpm(bench, args):
    from minigen.models.diffusion import UNet, ddim_sample, ddpm_loss, make_schedule, repaint, vlb_per_image
    mg.manual_seed(args.seed)
    schedule = make_schedule("linear", size(1000, 20))
    net = UNet(channels=size(32, 8), blocks=1, attention=not size(False, True)).to(args.device)
    seconds = _adam_train(net, lambda b: ddpm_loss(net, schedule, _tensor(b * 2 - 1, args, (-1, 1, 28, 28))),
                          bench.x_train, args, lr=2e-4)
    net.eval()
    S = size(50, 4)

    def sample(n):
        with mg.no_grad():
            return (ddim_sample(net, schedule, (n, 1, 28, 28), S=S, device=args.device, clip_x0=1.0)
                    .numpy().reshape(n, -1) + 1) / 2

    def inpaint(x, observed):
        with mg.no_grad():
            out = repaint(net, schedule, _tensor(x * 2 - 1, args, (-1, 1, 28, 28)),
                          observed.reshape(-1, 1, 28, 28), S=S, jump_length=size(10, 2),
                          resample=size(5, 2), clip_x0=1.0)
        return (out.numpy().reshape(len(x), -1) + 1) / 2

    vlb_steps = size(20, 2)

    def vlb(x):                              # L_vlb per image, nats of the 8-bit image (a bound)
        return sum(vlb_per_image(net, schedule, x.reshape(-1, 1, 28, 28), steps=vlb_steps, seed=args.seed))

    def denoising_error(x, t_frac=0.1):      # per-image ‖ε − ε_θ(x_t, t)‖² at a fixed small t
        rng = np.random.default_rng(3)
        x0 = _tensor(x * 2 - 1, args, (-1, 1, 28, 28))
        t = np.full(len(x), int(t_frac * schedule.T))
        eps = _tensor(rng.standard_normal(x0.shape), args)
        with mg.no_grad():
            r = eps - net(schedule.q_sample(x0, t, eps), t)
            return (r * r).numpy().reshape(len(x), -1).mean(axis=1)
    return Candidate(
        "DDPM (DDIM sampling)", "diffusion", APPROX, _count(net), seconds, sample=sample,
        nll=vlb, nll_space="discrete",
        nll_kind=f"bound (L_vlb; {vlb_steps} of {schedule.T - 1} terms sampled)",
        inpaint=inpaint, inpaint_method="RePaint", anomaly_score=denoising_error,
        anomaly_method="denoising error", model=net)


BUILDERS = [          # (row name, family package, folder name under --from DIR, builder)
    ("joint 4x4-patch table", "classic", "patches", build_patch_table),
    ("PCA (PPCA, 32)", "classic", "pca", build_pca),
    ("Factor analysis (16)", "classic", "fa", build_fa),
    ("VAE", "vae", "vae", build_vae),
    ("IWAE (k=5)", "vae", "iwae", lambda b, a: build_vae(b, a, "iwae")),
    ("FVSBN", "autoregressive", "fvsbn", build_fvsbn),
    ("MADE", "autoregressive", "made", build_made),
    ("PixelCNN", "autoregressive", "pixelcnn", build_pixelcnn),
    ("RealNVP", "flows", "realnvp", build_realnvp),
    ("DCGAN", "gan", "dcgan", build_dcgan),
    ("WGAN-GP", "gan", "wgan_gp", lambda b, a: build_dcgan(b, a, "wgan-gp")),
    ("StyleGAN-lite", "gan", "stylegan", build_stylegan),
    ("DDPM (DDIM sampling)", "diffusion", "ddpm", build_ddpm),
]
# in the list but not on this bench (yet): their rows say so
NOT_ON_BENCH = []


def _loaded_candidate(name, family, taxonomy, folder, n_needed):
    samples = np.load(os.path.join(folder, "samples.npy")).astype(np.float32)
    recorded = {}
    if os.path.exists(os.path.join(folder, "results.json")):
        with open(os.path.join(folder, "results.json")) as f:
            recorded = json.load(f)
    samples = samples.reshape(len(samples), -1)
    if len(samples) < n_needed:
        raise ValueError(f"{folder}/samples.npy has {len(samples)} samples, the bench needs {n_needed}")
    params = recorded.get("parameters", recorded.get("n_parameters", 0))
    seconds = recorded.get("train_seconds", recorded.get("train_and_eval_seconds", float("nan")))
    return Candidate(name, family, taxonomy, params or 0, seconds,
                     sample=lambda n: samples[:n])


def _family_available(family):
    import importlib
    try:
        importlib.import_module(f"minigen.models.{family}")
        return True
    except ImportError:
        return False


def figure(pictures, out):
    """Row 1: samples of every model; then each mask's in-painting of four test images."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(pictures)
    masks = ("centre", "left", "random")
    n_cols = 4 * (1 + len(masks))
    fig, axes = plt.subplots(len(names), n_cols, figsize=(n_cols * 0.6, len(names) * 0.75 + 0.4))
    axes = np.atleast_2d(axes)
    for r, name in enumerate(names):
        samples, filled = pictures[name]["samples"], pictures[name]["inpainted"]
        tiles = [samples[i] if i < len(samples) else None for i in range(4)]
        for kind in masks:
            tiles += [filled[kind][i] if kind in filled and i < len(filled[kind]) else None
                      for i in range(4)]
        for c, tile in enumerate(tiles):
            ax = axes[r, c]
            ax.axis("off")
            if tile is not None:
                ax.imshow(tile.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[r, 0].text(-4, 14, name, ha="right", va="center", fontsize=7)
    for c, title in enumerate(["samples"] + [f"in-paint: {m}" for m in masks]):
        axes[0, 4 * c].set_title(title, fontsize=7, loc="left")
    fig.subplots_adjust(left=0.2, wspace=0.05, hspace=0.1)
    path = os.path.join(out, "compare.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _write_table(rows, out):
    table = compare.markdown_table(rows)
    tmp = os.path.join(out, ".table.md.tmp")
    with open(tmp, "w") as f:
        f.write(table + "\n")
    os.replace(tmp, os.path.join(out, "table.md"))
    return table


def main(argv=None):
    from minigen.models.vae import load_fashion_mnist
    args = build_parser().parse_args(argv)
    keys = [key for _, _, key, _ in BUILDERS]
    unknown = sorted(set(args.only or []) - set(keys))
    if unknown:
        raise SystemExit(f"compare.py: --only {' '.join(unknown)}: unknown; the keys are {' '.join(keys)}")
    args.steps = args.steps or size(400, 3)
    os.makedirs(args.out, exist_ok=True)
    data = load_fashion_mnist(full=args.full, verbose=False)
    n_train = args.n_train or size(len(data.x_train), 300)
    n_test = args.n_test or size(len(data.x_test), 200)
    bench = compare.make_bench(data.x_train[:n_train], data.y_train[:n_train],
                               data.x_test[:n_test], data.y_test[:n_test],
                               n_samples=args.n_samples or size(1000, 40),
                               n_inpaint=args.n_inpaint or size(100, 6), seed=args.seed)
    print(f"bench: {len(bench.x_train)} training / {len(bench.x_test)} normal test images, "
          f"class {bench.anomaly_class} held out ({len(bench.x_anomaly)} test images); "
          f"{bench.n_samples} samples per model ({data.source})")
    rows, pictures = [], {}
    from tqdm import tqdm
    for name, family, key, build in tqdm(BUILDERS, desc="compare"):
        taxonomy = CLASS_OF_KEY.get(key, TAXONOMY[family])
        if args.only is not None and key not in args.only:
            rows.append(not_built(name, family, taxonomy, "not measured in this run (--only)") |
                        {"status": NOT_MEASURED, **{k: NOT_MEASURED for k in compare.COLUMNS}})
            continue
        if not _family_available(family):
            rows.append(not_built(name, family, taxonomy, f"minigen.models.{family} is not on main"))
            continue
        if args.from_dir is not None:
            folder = os.path.join(args.from_dir, key)
            if not os.path.exists(os.path.join(folder, "samples.npy")):
                rows.append(not_built(name, family, taxonomy, f"no {folder}/samples.npy"))
                continue
            candidate = _loaded_candidate(name, family, taxonomy, folder, bench.n_samples)
        else:
            candidate = build(bench, args)
        row, pics = compare.measure_row(candidate, bench)
        if args.from_dir is not None:        # slicing a saved array is no sampling time
            row["sample_ms_per_image"] = compare.NONE
        rows.append(row)
        pictures[name] = pics
        _write_table(rows, args.out)         # after every row: a long run killed early keeps its rows
    rows += [not_built(*entry) for entry in NOT_ON_BENCH]

    table = _write_table(rows, args.out)
    print(table)
    plain_rows = json.loads(json.dumps(rows, default=float))      # NumPy scalars -> floats
    paths = {"figure": figure(pictures, args.out)} if pictures else {}
    write_results(args.out, {"settings": vars(args), "data": data.source, "rows": plain_rows},
                  paths, files={"table": "table.md"})
    return rows


if __name__ == "__main__":
    main()
