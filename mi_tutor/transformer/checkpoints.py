"""Snapshots saved along a zoo transformer's training (lesson 8's phase change).

The file ``mi_tutor/zoo/weights/<name>_checkpoints.pt`` holds the config, the
step and the half-precision ``state_dict`` of every snapshot, and the training
loss of every step.

Examples:
    >>> steps, models = load_checkpoints("attn_only_2l", device="cpu")  # doctest: +SKIP
    >>> steps[:3], type(models[0]).__name__  # doctest: +SKIP
    ([0, 50, 100], 'HookedTransformer')
"""

from __future__ import annotations

import torch

from ..device import get_device
from .config import TransformerConfig
from .model import HookedTransformer
from .train import TrainLog

__all__ = ["CHECKPOINT_SUFFIX", "save_checkpoints", "load_checkpoints", "load_training_losses"]

CHECKPOINT_SUFFIX = "_checkpoints"


def _path(name: str):
    from ..zoo.registry import weights_path

    return weights_path(name, CHECKPOINT_SUFFIX)


def save_checkpoints(name: str, cfg: TransformerConfig, log: TrainLog) -> None:
    """Write the snapshots of ``log`` next to the zoo weights of ``name``."""
    path = _path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": cfg.to_dict(), "steps": list(log.checkpoint_steps),
                "state_dicts": log.checkpoints, "losses": torch.tensor(log.losses)}, path)


def _read(name: str) -> dict:
    path = _path(name)
    if not path.exists():
        raise FileNotFoundError(
            f"No training checkpoints for {name!r} at {path}. Rebuild them with `mi-tutor zoo train {name}`."
        )
    return torch.load(path, map_location="cpu", weights_only=True)


def load_checkpoints(name: str = "attn_only_2l", device: torch.device | str | None = None
                     ) -> tuple[list[int], list[HookedTransformer]]:
    """The training snapshots of a zoo transformer, as models in eval mode (float32).

    Args:
        name: The zoo model (only ``"attn_only_2l"`` ships checkpoints).
        device: Where to put the models (default :func:`~mi_tutor.get_device`).

    Returns:
        ``(steps, models)``: the training step of each snapshot and the model at that step.
    """
    data = _read(name)
    cfg = TransformerConfig(**data["config"])
    device = device or get_device()
    models = []
    for state in data["state_dicts"]:
        model = HookedTransformer(cfg)
        model.load_state_dict({k: v.float() for k, v in state.items()})
        models.append(model.to(device).eval())
    return list(data["steps"]), models


def load_training_losses(name: str = "attn_only_2l") -> torch.Tensor:
    """The training loss of every step ``[steps]`` recorded with the checkpoints."""
    return _read(name)["losses"]
