"""What the stale-tensor checksums cost: their share of an Adam training step.

    python benchmarks/engine_checks.py

Times `minigen.versions.checksum` (the fingerprint each Function records of the leaves
it reads, and backward compares) inside training steps of small ReLU MLPs, and prints
its share of the step time. See the README, "Engine guarantees".
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # this checkout's minigen

import numpy as np  # noqa: E402

import minigen as mg  # noqa: E402
import minigen.nn as nn  # noqa: E402
import minigen.versions as versions  # noqa: E402

CASES = [((2, 64, 64, 1), 256, 200), ((784, 400, 20), 128, 30), ((784, 400, 400, 784), 64, 20)]


def main():
    real, spent = versions.checksum, [0.0]

    def timed(array):
        start = time.perf_counter()
        result = real(array)
        spent[0] += time.perf_counter() - start
        return result

    versions.checksum = timed
    try:
        for sizes, batch, steps in CASES:
            mg.manual_seed(0)
            layers = []
            for a, b in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            model = nn.Sequential(*layers[:-1])
            opt = mg.optim.Adam(model.parameters(), lr=1e-3)
            x = mg.tensor(np.random.default_rng(0).standard_normal((batch, sizes[0])).astype(np.float32))

            def step():
                opt.zero_grad()
                (model(x) ** 2.0).mean().backward()
                opt.step()

            for _ in range(3):
                step()
            spent[0], start = 0.0, time.perf_counter()
            for _ in range(steps):
                step()
            total = time.perf_counter() - start
            print(f"MLP {'-'.join(map(str, sizes))}, batch {batch}: {total / steps * 1e3:.2f} ms/step, "
                  f"checksums {spent[0] / steps * 1e3:.3f} ms/step ({spent[0] / total * 100:.1f} %)")
    finally:
        versions.checksum = real


if __name__ == "__main__":
    main()
