"""grad_flow(): per-layer norms by hooks, plots, and warnings on dead/vanishing/exploding."""
import numpy as np

import minigen as mg
import minigen.nn as nn
import minigen.functional as F
from minigen.inspection import grad_flow, compare


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:] > 0).astype(np.float32)
    return mg.tensor(x), mg.tensor(y)


def train(model, steps, lr=0.05, scale=1.0):
    x, y = data()
    opt = mg.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(x), y) * scale
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_norms_are_the_norms_of_each_layers_parameter_gradients():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    flow = grad_flow(model)
    x, y = data()
    expected = []
    for _ in range(3):
        model.zero_grad()
        F.binary_cross_entropy_with_logits(model(x), y).backward()
        expected.append({name: np.sqrt(sum(float((p.grad.data.astype(np.float64) ** 2).sum())
                                           for p in layer.parameters()))
                         for name, layer in (("0", model[0]), ("2", model[2]))})
    norms = flow.norms
    assert len(flow.steps) == 3
    for name in ("0", "2"):
        np.testing.assert_allclose(norms[name], [e[name] for e in expected], rtol=1e-6)


def test_a_planted_dead_layer_is_flagged():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    model[2].bias.data[:] = -100.0            # the second ReLU never fires: a dead layer
    with grad_flow(model) as flow:
        train(model, steps=4)
    problems = flow.warnings()
    text = "\n".join(problems)
    assert any(p.startswith("dead ReLU: '3'") and "100%" in p for p in problems), text
    assert any(p.startswith("vanishing: layers '0', '2'") and "all-zero" in p for p in problems), text
    assert not any("'1'" in p and "dead ReLU" in p for p in problems), "the first ReLU is alive"
    assert flow.dead["3"][-1] == 1.0 and flow.dead["1"][-1] < 0.5


def test_a_deep_sigmoid_network_is_flagged_as_vanishing_and_a_healthy_net_is_not():
    mg.manual_seed(0)
    layers = []
    for i in range(8):
        layers += [nn.Linear(2 if i == 0 else 16, 16), nn.Sigmoid()]
    deep = nn.Sequential(*layers, nn.Linear(16, 1))
    with grad_flow(deep) as deep_flow:
        train(deep, steps=2)
    assert any(p.startswith("vanishing") and "'0'" in p for p in deep_flow.warnings())

    shallow = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    with grad_flow(shallow) as flow:
        train(shallow, steps=3)
    assert flow.warnings() == []
    assert "no warnings" in flow.format()


def test_exploding_and_unused_layers_are_flagged():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    spare = nn.Linear(3, 3)
    holder = nn.ModuleDict({"net": model, "spare": spare})
    with grad_flow(holder) as flow:
        train(model, steps=2, lr=0.0, scale=1e6)
    text = "\n".join(flow.warnings())
    assert "exploding: layers 'net.0', 'net.2'" in text
    assert "unused: layer 'spare'" in text


def test_hooks_are_removed_and_pictures_are_written(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    flow = grad_flow(model)
    train(model, steps=3)
    flow.remove()
    assert all(not p._hooks for p in model.parameters())
    assert not model[1]._forward_hooks
    train(model, steps=2)                      # no longer recorded
    assert len(flow.steps) == 3
    path = flow.plot(str(tmp_path / "flow.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    path = compare({"relu": flow, "relu again": flow}, str(tmp_path / "cmp.png"), only="Linear")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_evaluation_passes_are_not_counted():
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    with grad_flow(model) as flow:
        train(model, steps=2)
        with mg.no_grad():
            model(data()[0])
    assert len(flow.steps) == 2
