"""Snapshots of a transformer's training as a saveable dict, and models back from one.

The zoo saves the dict beside a model's weights and reads it back through
:func:`mi_tutor.zoo.snapshots` (lesson 8's phase change); this module knows nothing of
where files live. The dict holds the config, the step and the half-precision
``state_dict`` of every snapshot, and the training loss of every step.

Examples:
    >>> from mi_tutor.transformer import TransformerTrainConfig, train_transformer, random_tokens
    >>> cfg = TransformerConfig(n_layers=1, d_model=16, n_heads=2, d_head=8, d_vocab=10, n_ctx=8)
    >>> _, log = train_transformer(HookedTransformer(cfg), lambda n, seed: random_tokens(n, 6, 10, seed),
    ...                            TransformerTrainConfig(steps=4, batch_size=2, checkpoint_steps=(0, 4)), progress=False)
    >>> steps, models = models_from_checkpoints(checkpoints_dict(cfg, log), device="cpu")
    >>> steps, type(models[0]).__name__
    ([0, 4], 'HookedTransformer')
"""

from __future__ import annotations

import torch

from ..device import get_device
from .config import TransformerConfig
from .model import HookedTransformer
from .train import TrainLog

__all__ = ["checkpoints_dict", "models_from_checkpoints"]


def checkpoints_dict(cfg: TransformerConfig, log: TrainLog) -> dict:
    """The snapshots and losses of ``log`` as a dict for ``torch.save``."""
    return {"config": cfg.to_dict(), "steps": list(log.checkpoint_steps),
            "state_dicts": log.checkpoints, "losses": torch.tensor(log.losses)}


def models_from_checkpoints(saved: dict, device: torch.device | str | None = None
                            ) -> tuple[list[int], list[HookedTransformer]]:
    """The models (float32, eval mode) of a :func:`checkpoints_dict` (or any dict with ``config``,
    ``steps`` and ``state_dicts``).

    Args:
        saved: The dict.
        device: Where to put the models (default :func:`~mi_tutor.get_device`).

    Returns:
        ``(steps, models)``: the training step of each snapshot and the model at that step.
    """
    cfg = TransformerConfig(**saved["config"])
    device = device or get_device()
    models = []
    for state in saved["state_dicts"]:
        model = HookedTransformer(cfg)
        model.load_state_dict({k: v.float() for k, v in state.items()})
        models.append(model.to(device).eval())
    return list(saved["steps"]), models
