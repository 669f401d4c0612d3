"""`mg.cuda`: the few torch.cuda calls a PyTorch program makes before choosing a device.

    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")
"""
from minigen import backend


def is_available():
    """True when CuPy imports and a CUDA GPU answers."""
    return backend.cupy_available()


def device_count():
    """How many GPUs minigen can use: 1 (the current one) when CUDA is available, else 0."""
    return 1 if is_available() else 0


def manual_seed(seed):
    """Seed the GPU's generator only (mg.manual_seed seeds every device)."""
    backend._generators.pop("cuda", None)          # made again, from this seed, when next used
    backend._generators["_cuda_seed"] = int(seed)


manual_seed_all = manual_seed
