"""The model zoo: named, small, trained models that ship inside the package.

Each entry couples an architecture (``build``) with a training recipe
(``recipe``) that reproduces the shipped weights from a fixed seed. Entries
live in the modules of ``mi_tutor.zoo.entries`` and register themselves with
:func:`register`; weights live in ``mi_tutor/zoo/weights/<name>.pt``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..device import get_device
from ..validation import unknown_name

__all__ = ["ZooEntry", "register", "available", "info", "load", "train", "weights_path", "WEIGHTS_DIR"]

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass
class ZooEntry:
    """One model of the zoo.

    Attributes:
        name: Unique name, e.g. ``"convnet_shapes_s0"``.
        description: One line shown by :func:`available`.
        build: Returns the untrained architecture.
        recipe: ``recipe(progress) -> trained model``; deterministic for the entry.
        family: Grouping shown in listings (``"vision"``, ``"transformer"``...).
        info: Free-form facts about the trained model (seed, task, accuracy...).
        loader: For models whose weights do not ship (e.g. ImageNet weights from a
            local file): returns the loaded model; ``load`` calls it instead of
            reading ``weights/<name>.pt``.
    """

    name: str
    description: str
    build: Callable[[], nn.Module]
    recipe: Callable[[bool], nn.Module]
    family: str = "misc"
    info: dict = field(default_factory=dict)
    loader: Callable[[], nn.Module] | None = None


_REGISTRY: dict[str, ZooEntry] = {}


def register(entry: ZooEntry) -> ZooEntry:
    """Add ``entry`` to the zoo (names must be unique)."""
    if entry.name in _REGISTRY:
        raise ValueError(f"A zoo entry named {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry
    return entry


def _entry(name: str) -> ZooEntry:
    from . import entries  # noqa: F401  (imports register every entry)

    if name not in _REGISTRY:
        raise unknown_name(f"No zoo model named {name!r}", name, _REGISTRY,
                           tail=f"Available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def available() -> dict[str, str]:
    """Name -> one-line description of every model in the zoo.

    Examples:
        >>> "convnet_shapes_s0" in available()
        True
    """
    from . import entries  # noqa: F401

    return {name: f"[{e.family}] {e.description}" for name, e in sorted(_REGISTRY.items())}


def info(name: str) -> dict:
    """The recorded facts of the zoo model ``name`` (a copy of its entry's ``info`` dict).

    Measured numbers, the training recipe and ground truths such as a planted channel live
    here, so lessons and tests read them without loading the weights.

    Raises:
        KeyError: for an unknown name (the message lists the zoo).

    Examples:
        >>> info("convnet_shapes_s0")["seed"]
        0
    """
    return dict(_entry(name).info)


def weights_path(name: str, suffix: str = "") -> Path:
    """Where the weights of ``name`` live (``suffix`` for extra files such as checkpoints)."""
    return WEIGHTS_DIR / f"{name}{suffix}.pt"


def load(name: str, device: torch.device | str | None = None) -> nn.Module:
    """Load a shipped model, in eval mode, on ``device`` (default: :func:`get_device`).

    Raises:
        KeyError: for an unknown name (the message lists the zoo).
        FileNotFoundError: if the weights file is missing (says how to train it).
    """
    entry = _entry(name)
    if entry.loader is not None:
        return entry.loader().to(device or get_device()).eval()
    path = weights_path(name)
    if not path.exists():
        raise FileNotFoundError(
            f"Weights for {name!r} are missing at {path}. Rebuild them with `mi-tutor zoo train {name}`."
        )
    model = entry.build()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(device or get_device()).eval()


def train(name: str, save: bool = True, progress: bool = True) -> nn.Module:
    """Run the training recipe of ``name``; optionally overwrite the shipped weights."""
    entry = _entry(name)
    model = entry.recipe(progress).cpu()
    if save:
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), weights_path(name))
    return model.eval()
