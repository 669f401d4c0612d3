"""grad_flow(model): per-layer gradient norms over training, plotted, with warnings in words.

    flow = inspect.grad_flow(model)
    for step in range(steps):
        loss = ...; opt.zero_grad(); loss.backward(); opt.step()
    flow.report()                       # a table per layer, then what looks wrong
    flow.plot("out/grad_flow.png")      # norms over steps, per layer, dead ReLU units
    flow.remove()                       # take the hooks away (or use `with grad_flow(m) as flow:`)

A *layer* is a module that owns parameters itself (a Linear, a Conv2d, a BatchNorm);
its gradient norm is the norm of all of its parameters' gradients together. The norms
are caught by hooks on the parameters (`Tensor.register_hook`), so the training code
does not change. Every backward pass is one step of the record (call `flow.step()`
yourself to mark steps when one step runs several backward passes).

Forward hooks on the `nn.ReLU` modules count dead units: a unit (a feature, or a
channel of an image) is dead on a batch when its output is 0 for every example of the
batch; it then passes no gradient back, and if it stays dead it never learns again.
(Only ReLU *modules* are seen; F.relu inside a custom forward is not.)

What is flagged (thresholds are arguments of grad_flow):
    vanishing    a layer whose gradient norm stayed below `vanish` (1e-7) in every step,
                 or whose median norm is below `relative` (1e-3) times the largest
                 layer's: the gradient dies on its way back to the input
    exploding    a norm above `explode` (1e3), or a NaN/Inf
    dead ReLU    more than `dead` (50%) of a ReLU's units never active on the last batch
    unused       a layer that never received a gradient
"""
import sys

import numpy as np

from minigen import backend
from minigen.autograd import is_grad_enabled


def _square_norm(array):
    a = backend.to_device(array, "cpu").astype(np.float64, copy=False)
    return float(np.sum(a * a))


def _unit_axes(ndim):
    """Axes to reduce to get one value per unit: all but axis 1 (features / channels)."""
    return (0,) + tuple(range(2, ndim)) if ndim >= 2 else None


class GradFlow:
    """Records gradient norms per layer and dead ReLU units per step (see the module doc)."""

    def __init__(self, model, vanish=1e-7, explode=1e3, relative=1e-3, dead=0.5):
        self.vanish, self.explode, self.relative, self.dead_threshold = vanish, explode, relative, dead
        self.layers = []                  # [(name, type name)] in the model's order
        self.relus = []                   # [(name, number of units once seen)]
        self.steps = []                   # [{'norms': {layer: norm}, 'dead': {relu: fraction}}]
        self._pending, self._fired, self._alive = {}, set(), {}
        self._ever_alive = {}             # relu -> bool per unit, over all steps
        self._handles = []
        self._install(model)

    # ------------------------------------------------------------ hooks
    def _install(self, model):
        from minigen.nn import ReLU
        for name, module in model.named_modules():
            name = name or type(module).__name__          # the model itself owns parameters
            params = [(pname, p) for pname, p in module.named_parameters(recurse=False)
                      if p.requires_grad]
            if params:
                self.layers.append((name, type(module).__name__))
                for pname, p in params:
                    self._handles.append(p.register_hook(self._param_hook(name, f"{name}.{pname}")))
            if isinstance(module, ReLU):
                self.relus.append(name)
                self._handles.append(module.register_forward_hook(self._relu_hook(name)))
        if not self.layers:
            raise ValueError("grad_flow: the model has no parameters that require grad")

    def _param_hook(self, layer, key):
        def hook(g):
            if key in self._fired:        # this parameter again: a new backward pass began
                self.step()
            self._fired.add(key)
            self._pending[layer] = self._pending.get(layer, 0.0) + _square_norm(g.data)
        return hook

    def _relu_hook(self, name):
        def hook(module, inputs, output):
            if not (is_grad_enabled() and output.requires_grad):
                return                    # an evaluation pass, not a training step
            if self._fired:               # a forward after a backward: a new step began
                self.step()
            alive = backend.to_device((output.data > 0).any(axis=_unit_axes(output.ndim)), "cpu")
            previous = self._alive.get(name)
            self._alive[name] = alive if previous is None else (previous | alive)
        return hook

    def step(self):
        """Close the current step (automatic when a parameter's gradient arrives twice)."""
        if not self._pending and not self._alive:
            return
        dead = {}
        for name, alive in self._alive.items():
            dead[name] = 1.0 - float(np.mean(alive))
            ever = self._ever_alive.get(name)
            self._ever_alive[name] = alive.copy() if ever is None or ever.shape != alive.shape \
                else ever | alive
        self.steps.append({"norms": {k: float(np.sqrt(v)) for k, v in self._pending.items()},
                           "dead": dead})
        self._pending, self._fired, self._alive = {}, set(), {}

    def remove(self):
        """Take every hook off the model (the record stays)."""
        self.step()
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    # ------------------------------------------------------------ the record
    @property
    def norms(self):
        """layer name -> array of gradient norms, one per step (NaN: no gradient that step)."""
        self.step()
        return {name: np.array([s["norms"].get(name, np.nan) for s in self.steps])
                for name, _ in self.layers}

    @property
    def dead(self):
        """ReLU name -> array of dead-unit fractions, one per step (NaN: not run that step)."""
        self.step()
        return {name: np.array([s["dead"].get(name, np.nan) for s in self.steps]) for name in self.relus}

    def medians(self):
        """layer name -> median gradient norm over the steps (NaN if it never had one)."""
        return {name: float(np.median(a[~np.isnan(a)])) if (~np.isnan(a)).any() else np.nan
                for name, a in self.norms.items()}

    # ------------------------------------------------------------ the diagnosis
    def warnings(self):
        """What looks wrong, one sentence per kind of problem (empty when all looks healthy).

        Layers with the same problem share one sentence, so a 50-layer network whose
        gradient vanishes gives one warning, not fifty.
        """
        if not self.steps:
            return ["no steps recorded yet: run a backward pass with the model first"]
        groups = {}                       # kind of problem -> [(layer, detail)]
        for name, _ in self.layers:
            kind, detail = self._diagnose(self.norms[name])
            if kind is not None:
                groups.setdefault(kind, []).append((name, detail))
        flagged = {name for members in groups.values() for name, _ in members}
        relative = self._relatively_small(flagged)
        if relative:
            groups["relative"] = relative
        found = [self._sentence(kind, members) for kind, members in groups.items()]
        return found + self._dead_warnings()

    def _diagnose(self, norms):
        """(kind of problem, a number worth quoting) for one layer's norms, or (None, None)."""
        seen = norms[~np.isnan(norms)]
        if seen.size == 0:
            return "unused", None
        if not np.isfinite(seen).all():
            return "nonfinite", int((~np.isfinite(seen)).sum())
        if seen.max() > self.explode:
            return "exploding", seen.max()
        if seen.max() == 0.0:
            return "zero", None
        if seen.max() < self.vanish:
            return "vanishing", seen.max()
        return None, None

    def _relatively_small(self, flagged):
        """Layers whose median norm is below `relative` times the largest layer's median."""
        medians = {k: v for k, v in self.medians().items() if np.isfinite(v) and v > 0}
        if len(medians) < 2:
            return []
        self._top = top = max(medians, key=medians.get)
        return [(name, value / medians[top]) for name, value in medians.items()
                if name not in flagged and value < self.relative * medians[top]]

    def _sentence(self, kind, members):
        names = ", ".join(f"'{name}'" for name, _ in members)
        layers = f"layer{'s' * (len(members) > 1)} {names}"
        steps = len(self.steps)
        if kind == "unused":
            return (f"unused: {layers} never received a gradient (not part of the loss, or cut "
                    "off by detach() / no_grad)")
        if kind == "nonfinite":
            return (f"exploding: {layers} received NaN/Inf gradients (in up to "
                    f"{max(d for _, d in members)} of {steps} steps); find the op that made "
                    "them with detect_anomaly()")
        if kind == "exploding":
            return (f"exploding: {layers} had gradient norms up to {max(d for _, d in members):.3g} "
                    f"(above {self.explode:g}); lower the learning rate, clip gradients "
                    "(nn.utils.clip_grad_norm_) or normalise activations")
        if kind == "zero":
            return (f"vanishing: {layers} received an all-zero gradient in every one of {steps} "
                    "steps: nothing flows back to it (dead ReLUs or a zero weight between it and "
                    "the loss?), so it cannot learn")
        if kind == "vanishing":
            return (f"vanishing: {layers} had gradient norms below {self.vanish:g} in every one of "
                    f"{steps} steps (largest {max(d for _, d in members):.1e}): they barely learn")
        ratios = [d for _, d in members]
        return (f"vanishing: {layers} get gradients only {min(ratios):.0e} to {max(ratios):.0e} "
                f"times as large as layer '{self._top}' (median norms): the gradient shrinks on "
                "its way back toward the input (saturating sigmoid/tanh? try ReLU, "
                "normalisation, residual connections or a better initialisation)")

    def _dead_warnings(self):
        found = []
        dead = self.dead
        for name in self.relus:
            a = dead[name]
            seen = a[~np.isnan(a)]
            if seen.size == 0 or seen[-1] <= self.dead_threshold:
                continue
            ever = self._ever_alive[name]
            never = int((~ever).sum())
            found.append(
                f"dead ReLU: '{name}' had {seen[-1]:.0%} of its {ever.size} units inactive on "
                f"every example of the last batch, and {never} never fired in any of the "
                f"{seen.size} steps; dead units pass no gradient back (a too-large learning rate, "
                "a very negative bias or a bad initialisation; LeakyReLU cannot die)")
        return found

    def format(self):
        """The per-layer table and the warnings, as text."""
        norms = self.norms
        kinds = dict(self.layers)
        lines = [f"gradient flow over {len(self.steps)} step{'s' * (len(self.steps) != 1)} "
                 "(norm of each layer's parameter gradients; input side first)",
                 f"  {'layer':<22} {'type':<14} {'first':>10} {'last':>10} {'median':>10} {'max':>10}"]
        for name, _ in self.layers:
            a = norms[name]
            seen = a[~np.isnan(a)]
            if seen.size:
                values = (seen[0], seen[-1], np.median(seen), seen.max())
                lines.append(f"  {name:<22} {kinds[name]:<14} " + " ".join(f"{v:10.2e}" for v in values))
            else:
                lines.append(f"  {name:<22} {kinds[name]:<14} {'(no gradient)':>10}")
        dead = self.dead
        for name in self.relus:
            seen = dead[name][~np.isnan(dead[name])]
            if seen.size:
                lines.append(f"  {name:<22} {'ReLU':<14} dead units: last {seen[-1]:.0%}, "
                             f"mean {seen.mean():.0%}")
        problems = self.warnings()
        lines.append("warnings:" if problems else "no warnings: gradients reach every layer "
                     "at a healthy scale")
        lines += [f"  - {text}" for text in problems]
        return "\n".join(lines)

    def report(self, file=None):
        """Print `format()`; returns the list of warnings."""
        print(self.format(), file=file or sys.stdout)
        return self.warnings()

    def __repr__(self):
        return f"<GradFlow: {len(self.layers)} layers, {len(self.steps)} steps>"

    # ------------------------------------------------------------ pictures
    def plot(self, path, title=None):
        """Norms over steps per layer, the per-layer summary, and dead ReLU fractions."""
        import matplotlib.pyplot as plt
        from minigen.viz import save_figure

        norms, dead = self.norms, self.dead
        panels = 3 if self.relus else 2
        fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.8))
        colours = plt.cm.viridis(np.linspace(0, 0.9, len(self.layers)))
        for (name, kind), colour in zip(self.layers, colours):
            a = norms[name]
            axes[0].plot(np.arange(1, len(a) + 1), _positive(a), color=colour, label=f"{name} {kind}")
        axes[0].set(yscale="log", xlabel="step", ylabel="gradient norm", title="per layer, over steps")
        if len(self.layers) <= 12:
            axes[0].legend(fontsize=7)
        _layer_bars(axes[1], self.layers, norms)
        if self.relus:
            for name in self.relus:
                axes[2].plot(np.arange(1, len(dead[name]) + 1), dead[name], label=name)
            axes[2].set(ylim=(-0.02, 1.02), xlabel="step", ylabel="fraction of units",
                        title="dead ReLU units (never active on the batch)")
            axes[2].legend(fontsize=7)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return save_figure(fig, path)


def _positive(a):
    """Zeros cannot be drawn on a log axis: show them as gaps."""
    return np.where(a > 0, a, np.nan)


def _layer_bars(ax, layers, norms):
    """The classic gradient-flow plot: median norm per layer, min..max as a whisker."""
    x = np.arange(len(layers))
    stats = []
    for name, _ in layers:
        seen = norms[name][~np.isnan(norms[name])]
        stats.append((np.median(seen), seen.min(), seen.max()) if seen.size else (np.nan,) * 3)
    med, lo, hi = (np.array(v) for v in zip(*stats))
    ax.bar(x, _positive(med), color="#4c78a8", alpha=0.8)
    ax.vlines(x, _positive(lo), _positive(hi), color="black", lw=1)
    ax.set_xticks(x, [name for name, _ in layers], rotation=60, fontsize=7)
    ax.set(yscale="log", ylabel="gradient norm (median, min..max)",
           title="per layer (input side on the left)")


def compare(flows, path, title="gradient norm per layer", only=None):
    """One picture, several models: median gradient norm against depth (log scale).

    flows: dict label -> GradFlow. The plot of a deep sigmoid network against a ReLU
    network with batch norm: one line falls by orders of magnitude toward the input,
    the other stays flat.
    only: a layer type name (or tuple of them), e.g. "Linear", to compare like with like.
    """
    only = (only,) if isinstance(only, str) else only
    import matplotlib.pyplot as plt
    from minigen.viz import save_figure

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, flow in flows.items():
        medians = flow.medians()
        values = np.array([medians[name] for name, kind in flow.layers
                           if only is None or kind in only])
        ax.plot(np.arange(1, len(values) + 1), _positive(values), "o-", label=label)
    which = " / ".join(only) + " layer" if only else "layer"
    ax.set(yscale="log", xlabel=f"{which} (1 = next to the input)", ylabel="median gradient norm",
           title=title)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return save_figure(fig, path)


def grad_flow(model, **thresholds):
    """Start recording `model`'s per-layer gradient norms (returns a GradFlow).

    thresholds: vanish=1e-7, explode=1e3, relative=1e-3, dead=0.5 (see the module doc).
    """
    return GradFlow(model, **thresholds)
