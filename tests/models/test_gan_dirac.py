"""The Dirac-GAN: the engine's field equals the closed form; simultaneous play spirals out,
R1 makes it converge; the Jacobian's eigenvalues are those of the lecture's argument."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minigen.models.gan.dirac import DiracGAN, closed_form_field, closed_form_jacobian

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("r1", [0.0, 0.7])
def test_autodiff_field_equals_closed_form(r1):
    game = DiracGAN(r1=r1)
    rng = np.random.default_rng(0)
    for theta, psi in rng.uniform(-3, 3, size=(20, 2)):
        np.testing.assert_allclose(game.field(theta, psi), closed_form_field(theta, psi, r1),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("r1", [0.0, 0.3, 2.0])
def test_jacobian_by_second_order_autodiff_equals_closed_form(r1):
    np.testing.assert_allclose(DiracGAN(r1=r1).jacobian(0.0, 0.0), closed_form_jacobian(r1),
                               atol=1e-12)
    eig = np.linalg.eigvals(DiracGAN(r1=r1).jacobian())
    if r1 == 0:
        np.testing.assert_allclose(eig.real, 0, atol=1e-12)       # a pure rotation
        np.testing.assert_allclose(sorted(eig.imag), [-0.5, 0.5])
    else:
        assert np.all(eig.real < 0)


def test_simultaneous_play_spirals_out_and_r1_converges():
    start = np.hypot(1.0, 1.0)
    sim = DiracGAN().trajectory(1.0, 1.0, lr=0.2, steps=200)
    dist = np.linalg.norm(sim, axis=1)
    assert dist[-1] > 1.5 * start and np.all(np.diff(dist) > 0)   # every step moves out
    alt = DiracGAN().trajectory(1.0, 1.0, lr=0.2, steps=200, mode="alternating")
    assert 0.5 * start < np.linalg.norm(alt[-1]) < 1.5 * start    # circles, bounded
    r1 = DiracGAN(r1=0.5).trajectory(1.0, 1.0, lr=0.2, steps=200)
    assert np.linalg.norm(r1[-1]) < 1e-3 * start


def test_bad_mode_and_loss_are_clear_errors():
    with pytest.raises(ValueError, match="simultaneous.*alternating"):
        DiracGAN().trajectory(1, 1, mode="sideways")
    with pytest.raises(ValueError, match="'gan' or 'wgan-gp'"):
        DiracGAN(loss="hinge")


def test_dirac_demo_runs(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "demos", "gan_dirac.py"), "--out",
                        str(tmp_path), "--steps", "60", "--grid", "5"],
                       capture_output=True, text=True, timeout=170, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "eigenvalues" in r.stdout and os.path.getsize(tmp_path / "dirac_field.png") > 10_000
    results = json.load(open(tmp_path / "results.json"))
    assert results["field_max_abs_difference"] < 1e-10
    assert results["jacobian_r1"]["max_real_part"] < 0
    runs = results["runs"]
    assert runs["simultaneous GD"]["final_distance"] > runs["simultaneous GD"]["start_distance"]
