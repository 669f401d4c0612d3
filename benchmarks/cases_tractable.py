"""The tractable-density rows of benchmarks/run.py: one PixelCNN and one MADE training step,
minigen against the same network in PyTorch (same weights, same masks, same data).

    python benchmarks/run.py --only pixelcnn,made

A masked layer in PyTorch is written the same way as in minigen: the weight times a fixed
0/1 mask buffer, then the ordinary conv2d / linear.  Each step: the exact NLL (binary
cross-entropy with logits summed over pixels, averaged over images), backward, Adam.
"""


def _torch_masked_layers(torch):
    F = torch.nn.functional

    class MaskedConv2d(torch.nn.Conv2d):
        def __init__(self, c_in, c_out, k, mask_type="B"):
            super().__init__(c_in, c_out, k, padding=k // 2)
            self.register_buffer("mask", torch.ones_like(self.weight))

        def forward(self, x):
            return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)

    class MaskedLinear(torch.nn.Linear):
        def __init__(self, a, b):
            super().__init__(a, b)
            self.register_buffer("mask", torch.ones_like(self.weight))

        def forward(self, x):
            return F.linear(x, self.weight * self.mask, self.bias)

    return MaskedConv2d, MaskedLinear


def _torch_pixelcnn(torch, channels, num_blocks, kernel_size=7):
    MaskedConv2d, _ = _torch_masked_layers(torch)
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            half = channels // 2
            self.reduce = nn.Conv2d(channels, half, 1)
            self.conv = MaskedConv2d(half, half, 3)
            self.expand = nn.Conv2d(half, channels, 1)

        def forward(self, h):
            r = torch.relu
            return h + self.expand(r(self.conv(r(self.reduce(r(h))))))

    class PixelCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_conv = MaskedConv2d(1, channels, kernel_size)
            self.blocks = nn.ModuleList([Block() for _ in range(num_blocks)])
            self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                      nn.Conv2d(channels, 1, 1))

        def forward(self, x):
            h = self.input_conv(x)
            for block in self.blocks:
                h = block(h)
            return self.head(h)

    return PixelCNN()


def _torch_made(torch, d, hidden):
    _, MaskedLinear = _torch_masked_layers(torch)

    class MADE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            widths = (d,) + tuple(hidden) + (d,)
            self.layers = torch.nn.ModuleList([MaskedLinear(a, b) for a, b in zip(widths[:-1], widths[1:])])

        def forward(self, x):
            for i, layer in enumerate(self.layers):
                x = layer(x)
                if i < len(self.layers) - 1:
                    x = torch.relu(x)
            return x

    return MADE()


def _copy_into(L, ours, theirs):
    """Load minigen's parameters and masks into the PyTorch twin (same names)."""
    state = ours.state_dict()
    theirs.load_state_dict({k: L.torch.tensor(L.np.array(state[k])) for k in theirs.state_dict()})


def _step_pair(L, ours, theirs, x_np, lr=1e-3):
    """One training step each: logits, summed BCE per image averaged, backward, Adam."""
    x_m, x_t = L.pair(x_np)
    opt_m = L.moptim.Adam(ours.parameters(), lr=lr)
    opt_t = L.torch.optim.Adam(theirs.parameters(), lr=lr)
    n = len(x_np)

    def run_m():
        opt_m.zero_grad()
        loss = ours.loss(x_m)                       # -mean log p(x), the model's own method
        loss.backward()
        opt_m.step()

    def run_t():
        opt_t.zero_grad()
        logits = theirs(x_t)
        loss = L.TF.binary_cross_entropy_with_logits(logits, x_t, reduction="sum") / n
        loss.backward()
        opt_t.step()
    return run_m, run_t, None


def pixelcnn_case(L, n=64, channels=32, num_blocks=4):
    """PixelCNN (7x7 type A, 4 residual blocks, 32 channels) on 28x28 binary images, batch 64."""
    from minigen.models.autoregressive import PixelCNN
    L.mg.manual_seed(0)
    ours = PixelCNN(28, channels=channels, num_blocks=num_blocks)
    theirs = _torch_pixelcnn(L.torch, channels, num_blocks)
    _copy_into(L, ours, theirs)
    x = (L.rng.random((n, 1, 28, 28)) < 0.3).astype(L.np.float32)
    return _step_pair(L, ours, theirs, x)


def made_case(L, n=128, hidden=(500,)):
    """MADE 784-500-784 (one mask), batch 128."""
    from minigen.models.autoregressive import MADE
    L.mg.manual_seed(0)
    ours = MADE(784, hidden=hidden)
    theirs = _torch_made(L.torch, 784, hidden)
    _copy_into(L, ours, theirs)
    x = (L.rng.random((n, 784)) < 0.3).astype(L.np.float32)
    return _step_pair(L, ours, theirs, x)


def cases(L):
    """(name, group, goal, builder) rows, as in benchmarks/run.py."""
    return [
        ("PixelCNN 32ch 4 blocks b64 step (Adam)", "pixelcnn", 2.0, lambda: pixelcnn_case(L)),
        ("MADE 784-500-784 b128 step (Adam)", "made", 1.3, lambda: made_case(L)),
    ]
