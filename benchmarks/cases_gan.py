"""The GAN rows of benchmarks/run.py: the networks of minigen.models.gan.dcgan, built by
the same builder in both libraries (``nn=torch.nn``), PyTorch loaded with minigen's weights.

* DCGAN step: GANTrainer.step (non-saturating loss, batch 64): a discriminator update on
  real and fake images, then a generator update; Adam(2e-4, betas=(0.5, 0.999));
* WGAN-GP critic step: the critic (layer norm) on real and fake images, the gradient
  penalty at random interpolates (grad with create_graph=True, then backward through it:
  double backward through conv, layer norm and LeakyReLU), Adam(1e-4, betas=(0.5, 0.9)).
"""


def _twins(L, build):
    """build(nn) in minigen and in PyTorch with the same weights."""
    from minigen.models.gan import dcgan_init_
    L.mg.manual_seed(0)
    ours = dcgan_init_(build(L.mnn))
    theirs = build(L.torch.nn)
    theirs.load_state_dict({k: L.torch.tensor(L.np.array(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


def dcgan_trainer_case(L, n=64, nz=100):
    from minigen.models.gan import GANTrainer, dcgan_discriminator, dcgan_generator
    G_m, G_t = _twins(L, lambda nn: dcgan_generator(nz, nn=nn))
    D_m, D_t = _twins(L, lambda nn: dcgan_discriminator(nn=nn))
    adam = dict(lr=2e-4, betas=(0.5, 0.999))
    trainer = GANTrainer(G_m, D_m, L.moptim.Adam(G_m.parameters(), **adam),
                         L.moptim.Adam(D_m.parameters(), **adam), loss="nonsaturating")
    opt_g, opt_d = (L.torch.optim.Adam(G_t.parameters(), **adam),
                    L.torch.optim.Adam(D_t.parameters(), **adam))
    real_m, real_t = L.pair(L.np.tanh(L.randn(n, 1, 28, 28)))
    softplus, torch = L.TF.softplus, L.torch

    def run_t():                                # the same work as GANTrainer.step
        G_t.requires_grad_(False)
        with torch.no_grad():
            fake = G_t(torch.randn(n, nz))
        G_t.requires_grad_(True)
        real_out, fake_out = D_t(real_t), D_t(fake)
        loss = softplus(-real_out).mean() + softplus(fake_out).mean()
        torch.sigmoid(real_out).mean().item(), torch.sigmoid(fake_out).mean().item(), loss.item()
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        D_t.requires_grad_(False)
        loss_g = softplus(-D_t(G_t(torch.randn(n, nz)))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        D_t.requires_grad_(True)
        opt_g.step()
        loss_g.item()
    return (lambda: trainer.step(real_m)), run_t, None


def wgan_gp_critic_case(L, n=64, nz=100, weight=10.0):
    from minigen.models.gan import dcgan_discriminator, gradient_penalty, wgan_critic_loss
    D_m, D_t = _twins(L, lambda nn: dcgan_discriminator(norm="layer", nn=nn))
    adam = dict(lr=1e-4, betas=(0.5, 0.9))
    opt_m, opt_t = L.moptim.Adam(D_m.parameters(), **adam), L.torch.optim.Adam(D_t.parameters(), **adam)
    real_m, real_t = L.pair(L.np.tanh(L.randn(n, 1, 28, 28)))
    fake_m, fake_t = L.pair(L.np.tanh(L.randn(n, 1, 28, 28)))
    torch = L.torch

    def run_m():
        loss = wgan_critic_loss(D_m(real_m), D_m(fake_m)) + gradient_penalty(D_m, real_m, fake_m, weight)
        opt_m.zero_grad()
        loss.backward()
        opt_m.step()

    def run_t():
        alpha = torch.rand(n, 1, 1, 1)
        x_hat = (alpha * real_t + (1 - alpha) * fake_t).requires_grad_(True)
        (g,) = torch.autograd.grad(D_t(x_hat).sum(), x_hat, create_graph=True)
        norm = (g.reshape(n, -1).pow(2).sum(1) + 1e-12).sqrt()
        loss = D_t(fake_t).mean() - D_t(real_t).mean() + weight * ((norm - 1) ** 2).mean()
        opt_t.zero_grad()
        loss.backward()
        opt_t.step()
    return run_m, run_t, None


def gan_cases(L):
    """(name, group, goal, builder) rows for run.py's table."""
    return [
        ("GANTrainer DCGAN step b64 (D+G)", "gan", 1.5, lambda: dcgan_trainer_case(L)),
        ("WGAN-GP critic step b64 (double bwd)", "gan", 1.5, lambda: wgan_gp_critic_case(L)),
    ]
