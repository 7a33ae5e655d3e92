"""The model zoo: named, small, trained models that ship inside the package.

Each entry couples an architecture (``build``) with a training recipe
(``recipe``) that reproduces the shipped weights from a fixed seed. Entries
live in the modules of ``mi_tutor.zoo.entries`` and register themselves with
:func:`register`; weights live in ``mi_tutor/zoo/weights/<name>.pt``.

Names, lower case with ``_`` between the parts, by family (``ZooEntry.family``):

* ``vision``: ``{arch}_{world}_s{seed}`` (``plainnet_objects_s0``, ``vgg_objects_s2``,
  ``convnet_shapes_s0``). The world part may instead name what else differs from the
  plain recipe: a task (``plainnet_count_s0``), a training length (``plainnet_short_s0``:
  a short retrain with weight snapshots) or a world variant (``vgg_wreck_s1``: the
  arrangement world). A net with a planted unit says so in place of the seed
  (``plainnet_objects_planted``). ``vision-pretrained``: the model's own name
  (``googlenet_imagenet``).
* ``transformer``: the task, then the size: ``{task}_{layers}l{heads}h`` (``ioi_2l1h``),
  ``{task}_{layers}l`` (``facts_4l``), or a kind for a task of one model (``caption_lm``);
  a model of no task names its architecture (``attn_only_2l``).
* ``grokking``: transformers too, in a family of their own because they come with their
  training run: ``grokking_p{modulus}`` plus what differs (``grokking_p53_wd0``: no
  weight decay).
* ``toy``: ``tms_{features}in{dims}`` or ``tms_{experiment}`` (``tms_phase_2in1``,
  ``tms_privileged``).
* ``symbiote``: ``symbiote_{host world}_{host}`` (``symbiote_objects_planted`` reads
  ``plainnet_objects_planted``; ``symbiote_objects_random`` a random-init net).

Whatever a name leaves out (seed, task, measured numbers) is in :func:`info`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..device import get_device
from ..validation import close_matches

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
        near = close_matches(name, _REGISTRY)
        hint = f" Did you mean {', '.join(map(repr, near))}?" if near else ""
        raise KeyError(f"No zoo model named {name!r}.{hint} Available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def available(family: str | None = None) -> dict[str, str]:
    """Name -> ``"[family] description"`` of every model in the zoo (or of one ``family``).

    Examples:
        >>> "convnet_shapes_s0" in available(), "convnet_shapes_s0" in available("transformer")
        (True, False)
    """
    from . import entries  # noqa: F401

    return {name: f"[{e.family}] {e.description}" for name, e in sorted(_REGISTRY.items())
            if family is None or e.family == family}


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
