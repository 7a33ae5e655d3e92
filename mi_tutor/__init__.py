"""mi-tutor: an autograded course in mechanistic interpretability.

The package holds the reference implementation of every technique the lessons
teach, the data generators and model zoo, the checks that lesson cells call and
the course tooling behind the ``mi-tutor`` command.
"""

from .device import get_device, model_device, seed_everything
from .hooks import ActivationCache, list_layers, run_with_cache, run_with_hooks
from .validation import ShapeError

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "get_device",
    "model_device",
    "seed_everything",
    "ActivationCache",
    "list_layers",
    "run_with_cache",
    "run_with_hooks",
    "ShapeError",
]
