"""The WGAN-GP penalty on the DCGAN critic (conv, layer norm, LeakyReLU) against PyTorch:
same value and same gradients of the critic's weights (the double backward), float64."""
import numpy as np
import pytest

import minigen as mg
from minigen.models.gan import dcgan_discriminator, dcgan_init_, gradient_penalty, r1_penalty

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("norm", ["layer", "none"])
@pytest.mark.parametrize("penalty", ["gp", "r1"])
def test_penalty_and_its_weight_gradients_match_pytorch(norm, penalty):
    mg.manual_seed(0)
    D = dcgan_init_(dcgan_discriminator(channels=4, norm=norm)).double()
    D_t = dcgan_discriminator(channels=4, norm=norm, nn=torch.nn).double()
    D_t.load_state_dict({k: torch.tensor(np.array(v)) for k, v in D.state_dict().items()})
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((2, 3, 1, 28, 28))
    alpha = rng.uniform(size=3)

    if penalty == "gp":
        ours = gradient_penalty(D, mg.tensor(real), mg.tensor(fake), weight=10.0,
                                alpha=mg.tensor(alpha))
        a = torch.tensor(alpha).reshape(3, 1, 1, 1)
        x = (a * torch.tensor(real) + (1 - a) * torch.tensor(fake)).requires_grad_(True)
    else:
        ours = r1_penalty(D, mg.tensor(real), weight=10.0)
        x = torch.tensor(real).requires_grad_(True)
    (g,) = torch.autograd.grad(D_t(x).sum(), x, create_graph=True)
    sq = g.reshape(3, -1).pow(2).sum(1)
    theirs = 10 * (((sq + 1e-12).sqrt() - 1) ** 2).mean() if penalty == "gp" else 5 * sq.mean()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-10)
    ours.backward()
    theirs.backward()
    for (name, p), p_t in zip(D.named_parameters(), D_t.parameters()):
        # biases that do not move grad_x D (the last one; those before a LeakyReLU, whose
        # slope is piecewise constant) get no gradient on either side (None or zeros)
        ours_g = np.zeros(p.shape) if p.grad is None else p.grad.numpy()
        theirs_g = np.zeros(p.shape) if p_t.grad is None else p_t.grad.numpy()
        np.testing.assert_allclose(ours_g, theirs_g, rtol=1e-7, atol=1e-10, err_msg=name)
    assert all(D[i].weight.grad is not None for i in (0, 2, 5))     # the convolutions
