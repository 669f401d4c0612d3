import os
import sys

# Make ``kernel_cases`` importable from the test files in this folder.
sys.path.insert(0, os.path.dirname(__file__))
