"""What the locked setup cell of every lesson runs."""

from __future__ import annotations

import logging
import os
import warnings

import torch

from ..device import get_device, seed_everything

__all__ = ["setup_lesson"]


def setup_lesson(seed: int = 0, threads: int | None = None) -> torch.device:
    """Prepare a lesson's kernel: quiet, seeded, offline, with the right device.

    nbgrader gives zero points to a test cell that writes anything to stderr,
    so warnings are silenced here once for the whole notebook; matplotlib is
    switched to inline, non-interactive figures; nothing may reach a network.

    Args:
        seed: Seeds Python, NumPy and torch.
        threads: torch CPU threads (default: ``$OMP_NUM_THREADS`` when set, as by a parallel
            ``mi-tutor build``, else 1). One thread is the default because the course's models
            are tiny: a second thread buys little and, on a machine where anything else holds a
            core, costs a lot (on the 2-core CI-like machine, with a test run alongside, lesson 2 took
            69 s at 1 thread and 137 s at 2, lesson 12 64 s and 93 s:
            ``python bench/lesson_threads.py 02 12``, ``bench/results/lesson_threads.json``).

    Returns:
        The device the lesson runs on (CUDA when present, else CPU).
    """
    warnings.filterwarnings("ignore")
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    env_threads = os.environ.get("OMP_NUM_THREADS", "")
    torch.set_num_threads(threads or (int(env_threads) if env_threads.isdigit() and int(env_threads) > 0 else 1))
    try:  # inside a notebook: inline figures at a size that reads well on the site
        import matplotlib.pyplot as plt

        plt.rcParams.update({"figure.figsize": (7, 3.5), "figure.dpi": 90, "axes.grid": False})
    except ImportError:  # pragma: no cover
        pass
    seed_everything(seed)
    return get_device()
