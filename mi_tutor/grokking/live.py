"""The live run of lesson 10: an embedding-sum MLP that groks (a + b) mod 53 in about 1000 steps.

Examples:
    >>> LIVE_TRAIN.steps, LIVE_TRAIN.weight_decay, LIVE_MLP.d_hidden
    (1000, 3.0, 256)
"""

from __future__ import annotations

from ..device import torch_threads
from .data import ModularData, modular_addition
from .models import EmbedMLP, MLPConfig
from .train import GrokConfig, GrokLog, train_grokking

__all__ = ["LIVE_MLP", "LIVE_TRAIN", "LIVE_TRAIN_FRAC", "grokking_phases", "train_live"]

#: The live model: p = 53, two 64-d embeddings summed, 256 ReLU units.
LIVE_MLP = MLPConfig(p=53, d_embed=64, d_hidden=256, seed=0)
#: Half of the 53^2 pairs for training.
LIVE_TRAIN_FRAC = 0.5
#: AdamW lr 3e-3 with weight decay 3 (weight decay 1 groks too, in ~1.5-2x the steps).
LIVE_TRAIN = GrokConfig(steps=1000, lr=3e-3, weight_decay=3.0, betas=(0.9, 0.98), warmup=10, log_every=10,
                        checkpoint_every=100)


def train_live(seed: int = 0, steps: int | None = None, weight_decay: float | None = None, progress: bool = True,
               threads: int | None = 1) -> tuple[EmbedMLP, GrokLog, ModularData]:
    """Train the live model on one torch thread (fastest for a model this small on a shared CPU).

    Args:
        seed: Seeds the initialisation and the train/test split.
        steps: Override :data:`LIVE_TRAIN`'s steps.
        weight_decay: Override its weight decay (0 for the control).
        progress: Show a progress bar.
        threads: Torch threads during training (restored afterwards); ``None`` leaves them.

    Returns:
        ``(model, log, data)``.
    """
    cfg = LIVE_TRAIN
    if steps is not None or weight_decay is not None:
        from dataclasses import replace
        cfg = replace(cfg, steps=steps or cfg.steps, weight_decay=cfg.weight_decay if weight_decay is None else weight_decay)
    data = modular_addition(LIVE_MLP.p, LIVE_TRAIN_FRAC, seed)
    model = EmbedMLP(cfg=MLPConfig(LIVE_MLP.p, LIVE_MLP.d_embed, LIVE_MLP.d_hidden, seed))
    with torch_threads(threads):
        model, log = train_grokking(model, data, cfg, progress=progress)
    return model, log, data


def grokking_phases(steps, train_acc, test_acc, memorised: float = 0.99, generalising: float = 0.5,
                    generalised: float = 0.999) -> dict[str, tuple[int, int]]:
    """The three phases of Nanda et al. located on the accuracy curves.

    * memorisation: from step 0 until train accuracy first reaches ``memorised``;
    * circuit formation: from there until test accuracy first reaches ``generalising``;
    * clean-up: from there until test accuracy first reaches ``generalised``.

    Args:
        steps, train_acc, test_acc: The curves (equal lengths).

    Returns:
        ``{"memorisation": (start, end), "circuit formation": ..., "clean-up": ...}``; a phase whose
        end is never reached ends at the last step.

    Examples:
        >>> grokking_phases([0, 10, 20, 30], [0.1, 1, 1, 1], [0, 0, 0.6, 1])
        {'memorisation': (0, 10), 'circuit formation': (10, 20), 'clean-up': (20, 30)}
    """
    steps, train_acc, test_acc = list(steps), list(train_acc), list(test_acc)
    if not len(steps) == len(train_acc) == len(test_acc) or not steps:
        raise ValueError(f"`steps`, `train_acc`, `test_acc` need equal non-zero lengths, got "
                         f"{len(steps)}, {len(train_acc)}, {len(test_acc)}")

    def first(curve, threshold, after):
        for s, v in zip(steps, curve):
            if s >= after and v >= threshold:
                return s
        return steps[-1]

    s1 = first(train_acc, memorised, steps[0])
    s2 = first(test_acc, generalising, s1)
    s3 = first(test_acc, generalised, s2)
    return {"memorisation": (steps[0], s1), "circuit formation": (s1, s2), "clean-up": (s2, s3)}
