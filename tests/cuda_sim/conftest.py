import os
import sys

# Make the shared test helpers (tests/kernels/kernel_cases.py) importable.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "kernels"))
