"""The device plumbing every PyTorch program carries: mg.device, is_cuda, mg.cuda, to()."""
import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn


def test_device_objects_compare_with_strings_and_each_other():
    cpu = mg.device("cpu")
    assert cpu == "cpu" and cpu == mg.device("cpu") and cpu != "cuda" and cpu.type == "cpu"
    assert cpu.index is None and repr(cpu) == "device(type='cpu')"
    gpu = mg.device("cuda", 0)
    assert gpu.type == "cuda" and gpu.index == 0 and str(gpu) == "cuda:0"
    assert gpu == mg.device("cuda:0") and gpu == "cuda" and gpu != "cpu"
    assert mg.device("cuda:0") != mg.device("cuda:1")
    assert mg.device(cpu) is cpu
    assert {cpu: 1}["cpu"] == 1                   # usable as a dict key like the plain name


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        mg.device("tpu")
    with pytest.raises(ValueError, match="already names an index"):
        mg.device("cuda:0", 1)


def test_tensor_device_and_is_cuda():
    x = mg.zeros(2)
    assert x.device == "cpu" and x.device == mg.device("cpu") and isinstance(x.device, mg.device)
    assert x.is_cuda is False
    assert "device" not in repr(x)              # the CPU is not named in the repr


def test_cuda_namespace_answers_like_torch_cuda():
    assert mg.cuda.is_available() == mg.cupy_available()
    assert mg.cuda.device_count() == (1 if mg.cuda.is_available() else 0)
    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")
    assert mg.zeros(3).to(device).device == device


def test_manual_seed_repeats_random_draws():
    mg.manual_seed(5)
    a = mg.randn(4).numpy()
    mg.manual_seed(5)
    assert np.array_equal(a, mg.randn(4).numpy())
    mg.cuda.manual_seed(5)                        # seeds only the GPU's generator
    mg.cuda.manual_seed_all(5)


@pytest.mark.parametrize("target", [mg.device("cpu"), "cpu", np.float64, mg.float64])
def test_tensor_to_accepts_device_objects_strings_and_dtypes(target):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(target)
    assert y.device == "cpu"
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.grad.dtype == np.float32


def test_tensor_to_device_and_dtype_and_other_tensor():
    x = mg.tensor([1.0, 2.0])
    assert x.to(mg.device("cpu"), mg.float64).dtype == np.float64
    assert x.to(dtype=mg.float64, non_blocking=True).dtype == np.float64
    other = mg.zeros(1, dtype=np.float64)
    assert x.to(other).dtype == np.float64
    assert x.to("cpu") is x                       # nothing to change: the same tensor


def test_module_to_accepts_device_objects():
    model = nn.Linear(3, 2)
    assert model.to(mg.device("cpu")) is model
    model.to(mg.device("cpu"), mg.float64)
    assert all(p.dtype == np.float64 and p.device == mg.device("cpu") for p in model.parameters())
    model.to(dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_dtype_names_of_torch():
    assert mg.float32 is np.float32 and mg.float64 is np.float64 and mg.long is np.int64
    assert mg.zeros(2, dtype=mg.long).dtype == np.int64
    assert getattr(mg, "float") is np.float32 and getattr(mg, "bool") is np.bool_


@pytest.mark.gpu
def test_tensor_on_the_gpu_says_so():
    if not mg.cuda.is_available():
        pytest.skip("no CUDA GPU")
    x = mg.zeros(2).to(mg.device("cuda"))
    assert x.is_cuda and x.device == "cuda" and x.device == mg.device("cuda:0")
    model = nn.Linear(2, 2).to(mg.device("cuda:0"))
    assert all(p.is_cuda for p in model.parameters())
    assert model(x).device == "cuda"
