"""End to end: an MLP and a small CNN with batch norm learn toy tasks (fixed seeds)."""
import numpy as np

import minigen as mg
import minigen.functional as F
import minigen.nn as nn
import minigen.optim as optim


def _accuracy(logits, labels):
    return float((logits.data.argmax(axis=1) == labels).mean())


def test_mlp_learns_two_circles():
    rng = np.random.default_rng(0)
    n = 256
    radius = np.where(np.arange(n) % 2 == 0, 0.5, 1.0) + 0.08 * rng.standard_normal(n)
    angle = rng.uniform(0, 2 * np.pi, n)
    x = mg.tensor(np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1), dtype=np.float32)
    labels = np.arange(n) % 2

    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(200):
        loss = F.cross_entropy(model(x), labels)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 0.6                     # ~log 2 at the start
    assert loss.item() < 0.1
    assert _accuracy(model(x), labels) >= 0.98


def _bars(rng, n):
    """8x8 images with a horizontal bar (class 0), a vertical bar (1) or a diagonal (2), plus noise."""
    images = 0.3 * rng.standard_normal((n, 1, 8, 8))
    labels = rng.integers(0, 3, n)
    where = rng.integers(0, 8, n)
    for i in range(n):
        if labels[i] == 0:
            images[i, 0, where[i], :] += 1.0
        elif labels[i] == 1:
            images[i, 0, :, where[i]] += 1.0
        else:
            images[i, 0] += np.eye(8)[:, ::(1 if where[i] % 2 else -1)]
    return images.astype(np.float32), labels


def test_cnn_with_batchnorm_learns_bars_and_evaluates_with_running_stats():
    rng = np.random.default_rng(1)
    train_x, train_y = _bars(rng, 512)
    test_x, test_y = _bars(rng, 256)

    mg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 3))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for step in range(60):
        idx = rng.integers(0, len(train_x), 32)
        loss = F.cross_entropy(model(mg.tensor(train_x[idx])), train_y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert int(model[1].num_batches_tracked) == 60
    model.eval()
    with mg.no_grad():
        logits = model(mg.tensor(test_x))
    assert _accuracy(logits, test_y) >= 0.95
    # eval mode really uses the running statistics: one image alone gives the same logits
    with mg.no_grad():
        single = model(mg.tensor(test_x[:1]))
    assert np.allclose(single.data, logits.data[:1], atol=1e-5)
