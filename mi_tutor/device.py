"""Device choice and seeding: CUDA when present, else CPU; never MPS by default."""

from __future__ import annotations

import contextlib
import itertools
import os
import random
from collections.abc import Iterator

import numpy as np
import torch

__all__ = ["get_device", "model_device", "seed_everything", "cpu_cores", "thread_share", "torch_threads"]


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the device the course runs on.

    CUDA is used when it is available, otherwise the CPU. Apple's MPS backend
    is never chosen by default (several ops the course uses behave differently
    there); ask for it explicitly with ``prefer="mps"`` or ``MI_TUTOR_DEVICE``.

    Args:
        prefer: An explicit device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``,
            ``"mps"``). Overrides the environment variable ``MI_TUTOR_DEVICE``.

    Returns:
        The chosen ``torch.device``.

    Examples:
        >>> get_device("cpu")
        device(type='cpu')
    """
    choice = prefer or os.environ.get("MI_TUTOR_DEVICE")
    if choice:
        return torch.device(choice)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of ``model``: that of its first parameter (or buffer); the CPU if it has neither.

    Library functions move their inputs to this device, so they follow the model.

    Examples:
        >>> model_device(torch.nn.Linear(2, 2))
        device(type='cpu')
        >>> model_device(torch.nn.ReLU())   # no parameters
        device(type='cpu')
    """
    tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) so a lesson is reproducible.

    Args:
        seed: The seed.

    Returns:
        A CPU ``torch.Generator`` seeded with ``seed``, for code that wants its
        own stream of random numbers.

    Examples:
        >>> _ = seed_everything(0); a = torch.rand(2)
        >>> _ = seed_everything(0); torch.equal(a, torch.rand(2))
        True
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def cpu_cores() -> int:
    """The number of CPU cores this process may use (its affinity where the OS tells, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def thread_share(jobs: int, cores: int | None = None) -> int:
    """torch threads each of ``jobs`` parallel kernels gets: the cores split evenly, at least 1.

    The one thread policy of the course: ``mi-tutor build`` gives each lesson kernel its share, the
    grader each submission's kernel (the kernel reads it from ``OMP_NUM_THREADS``, see
    :func:`mi_tutor.course.setup.setup_lesson`).

    Examples:
        >>> thread_share(2, cores=2), thread_share(1, cores=8), thread_share(3, cores=8)
        (1, 8, 2)
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    return max(1, (cores or cpu_cores()) // jobs)


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, restoring the previous number afterwards.

    Training the course's tiny models, one thread is fastest on a shared CPU; ``None`` (or 0) leaves the
    number as it is.

    Examples:
        >>> before = torch.get_num_threads()
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)
