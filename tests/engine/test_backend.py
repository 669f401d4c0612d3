"""Backend: constructors, seeding, dtypes, devices; the GPU path where a GPU exists."""
import subprocess
import sys

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
import minigen.functional as F
from minigen import backend


def test_get_array_module_is_numpy_for_cpu_data():
    assert mg.get_array_module(np.ones(2)) is np
    assert mg.randn(2).device == "cpu"


def test_manual_seed_repeats_random_draws_bit_for_bit():
    mg.manual_seed(123)
    a = [mg.randn(3, 4).data, mg.rand(5).data, mg.randint(0, 10, size=(6,)).data, mg.normal(2.0, 3.0, (2,)).data]
    mg.manual_seed(123)
    b = [mg.randn(3, 4).data, mg.rand(5).data, mg.randint(0, 10, size=(6,)).data, mg.normal(2.0, 3.0, (2,)).data]
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    mg.manual_seed(124)
    assert not np.array_equal(mg.randn(3, 4).data, a[0])


def test_rng_state_round_trip():
    mg.manual_seed(5)
    mg.randn(10)
    state = mg.get_rng_state()
    first = mg.randn(4).data
    mg.set_rng_state(state)
    assert np.array_equal(mg.randn(4).data, first)


def test_constructors_dtypes_and_shapes():
    assert mg.zeros(2, 3).dtype == np.float32 and mg.zeros((2, 3)).shape == (2, 3)
    assert mg.ones(4, dtype=np.float64).dtype == np.float64
    assert mg.randn(2, dtype=np.float64).dtype == np.float64
    assert mg.rand(3).data.min() >= 0 and mg.rand(3).data.max() < 1
    assert mg.randint(5, size=(100,)).data.max() < 5
    assert mg.tensor([1.5, 2.5]).dtype == np.float32          # Python floats -> float32
    assert mg.tensor(np.array([1.5])).dtype == np.float64      # arrays keep their dtype
    assert mg.tensor([1, 2]).dtype.kind == "i"
    x = mg.randn(2, 3)
    for like in (mg.zeros_like(x), mg.ones_like(x), mg.randn_like(x), mg.rand_like(x), mg.normal_like(x)):
        assert like.shape == x.shape and like.dtype == x.dtype
    assert mg.randint_like(x, 3).shape == x.shape


def test_tensor_facts_and_conversions():
    x = mg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    assert (x.shape, x.ndim, x.numel(), x.dtype, x.device) == ((2, 3), 2, 6, np.float32, "cpu")
    assert x.sum().item() == 15.0
    assert isinstance(x.numpy(), np.ndarray)
    assert len(x) == 2
    assert "requires_grad=True" in repr(x)
    assert x.double().dtype == np.float64 and x.to(dtype=np.float64).dtype == np.float64
    y = x.double().sum()
    y.backward()
    assert x.grad.dtype == np.float32


def test_seeded_training_is_reproducible_bit_for_bit():
    def train():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))
        opt = mg.optim.Adam(model.parameters(), lr=1e-2)
        x = mg.randn(32, 4)
        for _ in range(5):
            loss = F.mse_loss(model(x), mg.ones(32, 1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [p.data.copy() for p in model.parameters()]
    for a, b in zip(train(), train()):
        assert np.array_equal(a, b)


def test_importing_minigen_sets_the_passive_openmp_wait_policy():
    out = subprocess.run([sys.executable, "-c", "import os, minigen; print(os.environ['OMP_WAIT_POLICY'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "passive"


@pytest.mark.gpu
def test_same_model_code_runs_on_the_gpu():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                          nn.Flatten(), nn.Linear(4 * 8 * 8, 1))
    x = mg.randn(2, 1, 8, 8)
    cpu_out = model(x).numpy()
    model.to("cuda")
    gpu_x = x.to("cuda")
    out = model(gpu_x)
    assert out.device == "cuda"
    np.testing.assert_allclose(out.numpy(), cpu_out, rtol=1e-4, atol=1e-5)
    out.sum().backward()
    assert model[0].weight.grad.device == "cuda"
