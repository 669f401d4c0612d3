"""Module: registration, tree walking, modes, state dicts, to(), repr, containers."""
from collections import OrderedDict

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
from minigen.nn import Parameter


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = Parameter(mg.ones(4))
        self.register_buffer("count", np.zeros((), dtype=np.int64))
        self.register_buffer("scratch", np.zeros(2, dtype=np.float32), persistent=False)
        self.plain = mg.zeros(2)          # a plain Tensor attribute: not registered

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))
        self.bn = nn.BatchNorm1d(2)

    def forward(self, x):
        return self.bn(self.head(self.block(x)))


def test_registration_names_and_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "head.1.weight",
                     "head.1.bias", "bn.weight", "bn.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "block.count", "block.scratch", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["block", "head", "bn"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "head", "head.0",
                                                   "head.1", "bn"]
    assert len(list(net.modules())) == 7 and len(list(net.children())) == 3
    assert all(isinstance(p, Parameter) and p.requires_grad for p in net.parameters())
    assert "plain" not in dict(net.block.named_parameters())
    assert [n for n, _ in net.named_parameters(recurse=False)] == []


def test_shared_parameter_listed_once_and_reassignment():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    block = Block()
    block.fc = nn.Linear(3, 5)                  # replacing a sub-module
    assert block.fc.out_features == 5
    block.scale = None                          # a parameter may become None ...
    assert "scale" not in dict(block.named_parameters())
    with pytest.raises(TypeError, match="expected nn.Parameter or None"):
        block.scale = mg.ones(4)                # ... but not a plain Tensor
    del block.fc
    assert "fc" not in dict(block.named_children())
    with pytest.raises(AttributeError, match="no attribute 'fc'"):
        block.fc


def test_forgetting_super_init_is_named():
    class Bad(nn.Module):
        def __init__(self):
            self.w = Parameter(mg.ones(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_train_eval_recursive_and_zero_grad():
    net = Net()
    assert net.training and net.bn.training
    assert net.eval() is net and not net.training and not net.head[1].training
    net.train()
    assert all(m.training for m in net.modules())
    net(mg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_state_dict_holds_copies_of_params_and_persistent_buffers():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["block.scale", "block.count", "block.fc.weight", "block.fc.bias",
                        "head.1.weight", "head.1.bias", "bn.weight", "bn.bias",
                        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert sd["bn.num_batches_tracked"].dtype == np.int64
    before = sd["block.fc.weight"].copy()
    net.block.fc.weight.data += 1.0             # later changes do not reach the saved copy
    assert np.array_equal(sd["block.fc.weight"], before)
    kept = net.state_dict(keep_vars=True)
    assert kept["block.fc.weight"] is net.block.fc.weight


def test_state_dict_round_trip_gives_identical_outputs():
    mg.manual_seed(1)
    a = Net()
    a.train()
    a(mg.randn(8, 3))                           # moves the BatchNorm running statistics
    mg.manual_seed(2)
    b = Net()
    weight = b.block.fc.weight
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.block.fc.weight is weight          # parameters keep their identity
    x = mg.randn(6, 3)
    a.eval(), b.eval()
    assert np.array_equal(a(x).data, b(x).data)
    assert int(b.bn.num_batches_tracked) == 1
    assert b.block.fc.weight.data is not a.block.fc.weight.data   # copied, not shared


def test_strict_load_names_missing_unexpected_and_misshaped_keys():
    net = Net()
    sd = net.state_dict()
    del sd["head.1.bias"]
    sd["head.2.weight"] = np.zeros((2, 2), np.float32)
    sd["block.fc.weight"] = np.zeros((5, 3), np.float32)
    original = net.block.scale.data.copy()
    sd["block.scale"] = np.full(4, 7.0, np.float32)
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert "missing keys" in message and "head.1.bias" in message
    assert "unexpected keys" in message and "head.2.weight" in message
    assert "wrong shape" in message and "block.fc.weight" in message
    assert "(5, 3)" in message and "(4, 3)" in message
    assert np.array_equal(net.block.scale.data, original)   # nothing was loaded

    # non-strict: missing/unexpected are reported, but shapes must still fit
    with pytest.raises(nn.StateDictError, match="block.fc.weight"):
        net.load_state_dict(sd, strict=False)
    sd["block.fc.weight"] = np.zeros((4, 3), np.float32)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.1.bias"] and result.unexpected_keys == ["head.2.weight"]
    assert np.array_equal(net.block.scale.data, np.full(4, 7.0, np.float32))


def test_load_casts_to_the_module_dtype_and_accepts_tensors():
    lin = nn.Linear(2, 2)
    sd = {"weight": mg.tensor(np.ones((2, 2))), "bias": np.zeros(2, dtype=np.float64)}
    lin.load_state_dict(sd)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    assert np.array_equal(lin.weight.data, np.ones((2, 2), np.float32))


def test_to_dtype_keeps_parameter_identity_and_integer_buffers():
    net = Net()
    params = list(net.parameters())
    net(mg.randn(4, 3)).sum().backward()
    assert net.to(np.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64 and net.block.count.dtype == np.int64
    assert net(mg.randn(4, 3, dtype=np.float64)).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.to("cpu")                                # already there: a no-op
    with pytest.raises(TypeError, match="floating point"):
        net.to(np.int32)


def test_to_cuda_without_a_gpu_raises_a_clear_error():
    if mg.cupy_available():
        pytest.skip("a GPU is present")
    net = Net()
    before = net.block.fc.weight.data
    with pytest.raises(RuntimeError, match="cuda"):
        net.to("cuda")
    assert net.block.fc.weight.data is before and net.block.fc.weight.device == "cpu"


def test_repr_is_a_tree_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(),
                          nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "    (1): BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  )\n"
        ")")
    assert repr(Parameter(mg.ones(1))).startswith("Parameter containing:\ntensor(")


def test_sequential_indexing_slicing_and_iteration():
    layers = [nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    x = mg.randn(5, 2)
    assert np.allclose(seq(x).data, layers[2](layers[1](layers[0](x))).data)
    with pytest.raises(IndexError):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and "3.weight" not in seq.state_dict()
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Sigmoid"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"] and named.enc is named[0]


def test_module_list_and_module_dict():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(blocks) == 3 and len(list(blocks.parameters())) == 6
    blocks.append(nn.Linear(2, 2))
    blocks.insert(0, nn.Identity())
    assert isinstance(blocks[0], nn.Identity) and len(blocks) == 5
    del blocks[0]
    assert list(blocks.state_dict())[:2] == ["0.weight", "0.bias"]
    assert isinstance(blocks[1:], nn.ModuleList) and len(blocks[1:]) == 3
    blocks += [nn.ReLU()]
    assert isinstance(blocks[-1], nn.ReLU)

    heads = nn.ModuleDict({"mean": nn.Linear(2, 1), "logvar": nn.Linear(2, 1)})
    assert list(heads) == ["mean", "logvar"] and "mean" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["mean.weight", "mean.bias", "logvar.weight", "logvar.bias"]
    heads["extra"] = nn.Linear(2, 3)
    assert heads.pop("extra").out_features == 3 and list(heads.keys()) == ["mean", "logvar"]


def test_apply_and_forward_hooks():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))

    def init_zero(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(init_zero)
    assert all(not m.weight.data.any() for m in model if isinstance(m, nn.Linear))
    seen = []
    handle = model[1].register_forward_hook(lambda m, inputs, out: seen.append(out.shape))
    model(mg.randn(3, 2))
    handle.remove()
    model(mg.randn(3, 2))
    assert seen == [(3, 2)]


def test_register_buffer_and_parameter_checks():
    m = nn.Module()
    with pytest.raises(TypeError, match="expected an array"):
        m.register_buffer("b", [1, 2])
    with pytest.raises(KeyError, match="no '.'"):
        m.register_buffer("a.b", np.zeros(1))
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("w", mg.ones(2))
    m.register_buffer("b", np.zeros(2))
    m.b = np.ones(2)
    assert np.array_equal(m.state_dict()["b"], np.ones(2))
    with pytest.raises(TypeError, match="forward"):
        m(1)


def test_deepcopy_gives_an_independent_model():
    import copy
    model = Net()
    twin = copy.deepcopy(model)
    assert list(twin.state_dict()) == list(model.state_dict())
    assert twin.block.fc.weight is not model.block.fc.weight
    assert np.array_equal(twin.block.fc.weight.data, model.block.fc.weight.data)
    twin.bn.running_mean[...] = 5.0
    assert not model.bn.running_mean.any()
