"""The U-Net ε_θ: shapes, float32 kept, gradients (float64 gradcheck at a tiny size)."""
import numpy as np
import pytest

import minigen as mg
from minigen.models.diffusion import make_schedule, ddpm_loss
from minigen.models.diffusion.unet import UNet


def tiny(attention=True):
    mg.manual_seed(0)
    return UNet(channels=4, mults=(1, 2), blocks=1, attention=attention, groups=2).double()


def test_unet_output_gradcheck():
    net = tiny()
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 1, 4, 4)), requires_grad=True)
    t = np.array([3, 40])
    named = dict(net.named_parameters())
    # one small parameter on every path (all of them would take minutes of finite differences)
    params = [named[k] for k in ("inp.bias", "down.0.conv1.bias", "down.0.time.bias",
                                 "attn.qkv.bias", "attn.norm.weight", "up.0.skip.bias",
                                 "upsample.0.bias", "out.bias", "time.0.bias")]
    assert mg.gradcheck(lambda *_: net(x, t), [x] + params).ok


@pytest.mark.slow
def test_unet_ddpm_loss_gradcheck_and_second_order():
    net = tiny(attention=False)
    rng = np.random.default_rng(1)
    x0 = mg.tensor(rng.standard_normal((2, 1, 4, 4)), requires_grad=True)
    eps = mg.tensor(rng.standard_normal((2, 1, 4, 4)))
    s = make_schedule("cosine", 50)
    loss = lambda *_: ddpm_loss(net, s, x0, t=np.array([0, 49]), eps=eps)
    assert mg.gradcheck(loss, [x0, net.out.weight]).ok
    assert mg.gradgradcheck(loss, [x0]).ok


def test_unet_shapes_dtype_and_errors():
    mg.manual_seed(0)
    net = UNet(channels=8, mults=(1, 2, 2), attention=True)
    x = mg.randn(3, 1, 28, 28)
    y = net(x, np.array([0, 500, 999]))
    assert y.shape == (3, 1, 28, 28) and y.dtype == np.float32
    y.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    with pytest.raises(ValueError, match="multiples of 4"):
        net(mg.randn(1, 1, 30, 30), np.array([0]))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        net(mg.randn(1, 3, 28, 28), np.array([0]))


def test_the_benchmark_twin_in_pytorch_computes_the_same_unet():
    """benchmarks/cases_diffusion.py times a PyTorch copy: it must be the same network."""
    torch = pytest.importorskip("torch")
    import importlib.util
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec = importlib.util.spec_from_file_location("cases_diffusion", os.path.join(root, "benchmarks", "cases_diffusion.py"))
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    mg.manual_seed(0)
    ours = UNet(channels=8, attention=True)
    theirs = cases._torch_unet(torch, channels=8)
    theirs.load_state_dict({k: torch.tensor(np.array(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    t = np.array([5, 900])
    a = ours(mg.tensor(x), t).numpy()
    b = theirs(torch.tensor(x), torch.tensor(t)).detach().numpy()
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
