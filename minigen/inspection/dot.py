"""to_dot(output): draw the graph as Graphviz DOT (and a PNG when `dot` is installed).

    g = inspect.to_dot(loss, "out/graph", names=model)   # writes out/graph.dot (+ .png)
    g = inspect.to_dot(loss, "out/grads", backward=True) # + the graph of the gradients
    print(g.source)                                      # the DOT text itself

What is drawn:

    blue box       a node of the forward graph (op, output shape, line that made it)
    orange box     a node built by a backward pass with create_graph=True; the boxes a
                   backward rule built are grouped in a dashed frame "backward of Op"
    green ellipse  a leaf that requires grad (a parameter, named when you pass names=)
    grey ellipse   a constant: data, a target, a number like 2.0
    red octagon    (backward=True) the gradient dL/dw of each leaf w
    arrows         tensors, labelled with their shape, from producer to consumer

`backward=True` first differentiates `output` with respect to every leaf, with
create_graph=True (the user's .grad are left alone and the graph is kept), then draws
the forward graph together with the graph that backward built: that is what a
gradient of a gradient (a gradient penalty, an HVP) differentiates through.

Which nodes a backward built is known when they were made inside
`minigen.inspection.record()`; `to_dot(..., backward=True)` records its own differentiation.
The DOT file is always written; the PNG needs the Graphviz program `dot`
(`apt-get install graphviz`), and the message says when it was not found.
"""
import os
import shutil
import subprocess

from minigen import autograd
from minigen.inspection.origin import origin_of, record
from minigen.inspection.trace import backward_order, describe, leaves_of, name_map, shape_text

_FORWARD = 'shape=box, style="rounded,filled", fillcolor="#dbe9f6"'
_BACKWARD = 'shape=box, style="rounded,filled", fillcolor="#fde0c5"'
_PARAM = 'shape=ellipse, style=filled, fillcolor="#d5f0d0"'
_CONST = 'shape=ellipse, style=filled, fillcolor="#eeeeee", fontcolor="#555555"'
_OUTPUT = 'shape=ellipse, style="bold,filled", fillcolor="#ffffff"'
_GRAD = 'shape=octagon, style=filled, fillcolor="#f9c0c0"'


def quote(text):
    """A DOT string literal: backslashes and quotes escaped, newlines as \\n."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class DotGraph:
    """The DOT text of a graph, and where it was written / rendered."""

    def __init__(self, source, op_names):
        self.source = source
        self.op_names = op_names          # every op drawn (used by the tests)
        self.dot_path = None
        self.png_path = None
        self.message = "not saved"

    def save(self, path, render=True):
        """Write `path`.dot and, when the `dot` program exists, render `path`.png."""
        base = os.path.splitext(path)[0] if path.endswith((".dot", ".png", ".gv")) else path
        os.makedirs(os.path.dirname(os.path.abspath(base)), exist_ok=True)
        self.dot_path = base + ".dot"
        with open(self.dot_path, "w") as f:
            f.write(self.source)
        self.png_path = None
        if not render:
            self.message = f"wrote {self.dot_path} (PNG not requested)"
        else:
            self.png_path, why = render_png(self.dot_path, base + ".png")
            self.message = (f"wrote {self.dot_path} and {self.png_path}" if self.png_path
                            else f"wrote {self.dot_path}; no PNG rendered: {why}")
        return self

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<DotGraph: {len(self.op_names)} ops; {self.message}>"


def render_png(dot_path, png_path, timeout=60):
    """Run Graphviz `dot -Tpng`; returns (png_path, None) or (None, why it did not)."""
    program = shutil.which("dot")
    if program is None:
        return None, ("the Graphviz program `dot` is not installed "
                      "(apt-get install graphviz; or paste the .dot file into an online viewer)")
    try:
        done = subprocess.run([program, "-Tpng", dot_path, "-o", png_path],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"`dot` took longer than {timeout} s (draw fewer nodes: max_nodes=...)"
    if done.returncode != 0:
        return None, f"`dot` failed: {done.stderr.strip()[:300]}"
    return png_path, None


# ------------------------------------------------------------------ building the DOT text
class _Builder:
    """Collects DOT statements; gives each node and leaf tensor a short id."""

    def __init__(self, names):
        self.names = names
        self.ids = {}                       # id(node or tensor) -> 'n3' / 't7'
        self.count = 0
        self.plain, self.clusters = [], {}  # statements; cluster key -> (label, statements)
        self.edges = []
        self.op_names = []

    def new_id(self, prefix):
        self.count += 1
        return f"{prefix}{self.count}"

    def node_id(self, node):
        return self.ids[id(node)]

    def add_node(self, node):
        key = self.ids[id(node)] = self.new_id("n")
        origin = origin_of(node)
        shapes = ", ".join(shape_text(s) for s, _ in node.output_meta)
        label = f"{describe(node)}\n-> {shapes}"
        if origin is not None:
            label += f"\n{origin.short_line}"
        made_by = origin.backward_of if origin is not None else None
        statement = f"    {key} [label={quote(label)}, {_BACKWARD if made_by else _FORWARD}];"
        self.op_names.append(node.name)
        if made_by is None:
            self.plain.append(statement)
        else:
            # group the nodes one backward rule built, under that rule's name
            shapes_of = ", ".join(shape_text(s) for s in made_by.output_shapes)
            label = f"backward of {made_by.name} -> {shapes_of}"
            cluster = self.clusters.setdefault(id(made_by), [label, []])
            cluster[1].append(statement)

    def tensor_source(self, tensor):
        """The DOT id an arrow carrying `tensor` starts from (a node, or a leaf ellipse)."""
        if tensor.creator is not None:
            return self.ids.get(id(tensor.creator))        # None when not drawn (max_nodes)
        key = self.ids.get(id(tensor))
        if key is None:
            key = self.ids[id(tensor)] = self.new_id("t")
            if tensor.requires_grad:
                name = self.names.get(id(tensor)) or tensor.name or "leaf"
                label, style = f"{name}\n{shape_text(tensor.shape)}", _PARAM
            elif tensor.numel() == 1:
                label, style = f"{tensor.item():.4g}", _CONST
            else:
                label, style = f"{tensor.name or 'const'}\n{shape_text(tensor.shape)}", _CONST
            self.plain.append(f"    {key} [label={quote(label)}, {style}];")
        return key

    def add_edges(self, node):
        for i, x in enumerate(node.inputs):
            source = self.tensor_source(x)
            if source is None:
                continue
            label = shape_text(x.shape)
            if x.creator is not None and len(x.creator.output_meta) > 1:
                index = next(k for k, ref in enumerate(x.creator.outputs) if ref() is x)
                label = f"[{index}] {label}"
            self.edges.append(f"    {source} -> {self.node_id(node)} [label={quote(label)}];")

    def add_result(self, tensor, label, style):
        """An ellipse for an output (or a gradient) and the arrow into it."""
        key = self.new_id("r")
        self.plain.append(f"    {key} [label={quote(label)}, {style}];")
        source = self.tensor_source(tensor)
        if source is not None:
            self.edges.append(f"    {source} -> {key};")

    def text(self, title, note):
        lines = ["digraph minigen {",
                 '    graph [fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.35'
                 + (f", label={quote(title)}, labelloc=t" if title else "") + "];",
                 '    node [fontname="Helvetica", fontsize=10];',
                 '    edge [fontname="Helvetica", fontsize=8, color="#666666"];']
        lines += self.plain
        for k, (label, statements) in enumerate(self.clusters.values()):
            lines.append(f"    subgraph cluster_{k} {{")
            lines.append(f'        label={quote(label)}; style=dashed; color="#c07030"; fontsize=9;')
            lines += ["    " + s for s in statements]
            lines.append("    }")
        if note:
            lines.append(f"    note [label={quote(note)}, shape=note];")
        lines += self.edges
        lines.append("}")
        return "\n".join(lines) + "\n"


def _differentiate(roots, leaves):
    """d(roots)/d(leaves) with create_graph=True, recorded so backward nodes are known."""
    from minigen.creation import ones_like
    grad_outputs = [ones_like(r) for r in roots]
    try:
        with record():
            return autograd.grad(roots, leaves, grad_outputs=grad_outputs, retain_graph=True,
                                 create_graph=True, allow_unused=True)
    except autograd.GraphFreedError as exc:
        raise autograd.GraphFreedError(
            "to_dot(..., backward=True) differentiates the graph, which an earlier backward "
            "freed: call to_dot before loss.backward() (or backward(retain_graph=True))") from exc


def to_dot(output, path=None, backward=False, names=None, max_nodes=400, title=None,
           render=True, verbose=True, grads=None):
    """Graphviz DOT of the graph that made `output` (see the module docstring).

    path: write path.dot (and path.png when `dot` exists) and print where (verbose).
    backward: also build and draw the graph of the gradients (create_graph=True).
    names: a Module or dict name -> Tensor, to label parameters.
    max_nodes: draw at most this many nodes, those nearest the output first.
    grads: another name for `backward` (the design notes call it that).
    Returns a DotGraph (.source, .dot_path, .png_path, .message).
    """
    backward = backward if grads is None else grads
    roots = list(output) if isinstance(output, (list, tuple)) else [output]
    known = name_map(names)
    drawn_roots = [(r, f"output\n{shape_text(r.shape)}", _OUTPUT) for r in roots]
    if backward:
        leaves = leaves_of(backward_order(roots))
        grads = _differentiate(roots, leaves)
        for leaf, g in zip(leaves, grads):
            if g is not None:
                name = known.get(id(leaf)) or leaf.name or "leaf"
                drawn_roots.append((g, f"dL/d {name}\n{shape_text(g.shape)}", _GRAD))
    order = backward_order([r for r, _, _ in drawn_roots])
    shown, hidden = order[:max_nodes], len(order) - min(len(order), max_nodes)

    builder = _Builder(known)
    for node in shown:
        builder.add_node(node)
    for node in shown:
        builder.add_edges(node)
    for tensor, label, style in drawn_roots:
        builder.add_result(tensor, label, style)
    note = f"{hidden} more nodes not drawn (max_nodes={max_nodes})" if hidden else None
    graph = DotGraph(builder.text(title, note), builder.op_names)
    if path is not None:
        graph.save(path, render=render)
        if verbose:
            print(graph.message)
    return graph
