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

A model's other files have one door each, here: :func:`snapshots` (weights saved along
the training, ``<name>_checkpoints.pt``) and :func:`extras` (what is too slow to compute in
a lesson, ``<name>_extras.pt``); :func:`measured` reads the numbers measured on the shipped
weights (``mi_tutor/zoo/measured/<file>.json``), which the entries put in their ``info``.
The modules below the zoo (models, training, analysis) know nothing of these paths: an entry
hands them a loaded dict, or takes the dict they build and saves it here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..device import get_device
from ..validation import unknown_name

__all__ = ["ZooEntry", "Snapshots", "register", "available", "info", "build", "load", "snapshots", "extras",
           "measured", "train", "save_file", "weights_path", "WEIGHTS_DIR", "MEASURED_DIR", "SNAPSHOTS_SUFFIX",
           "EXTRAS_SUFFIX"]

WEIGHTS_DIR = Path(__file__).parent / "weights"
MEASURED_DIR = Path(__file__).parent / "measured"
SNAPSHOTS_SUFFIX = "_checkpoints"
EXTRAS_SUFFIX = "_extras"


@dataclass
class Snapshots:
    """Weights saved along the training of a zoo model, with what was measured on the way.

    Attributes:
        name: The zoo model.
        steps: The training step of each snapshot (0 = the initialisation).
        models: The model at each step, float32, in eval mode, on the device asked for.
        curves: What was recorded along the training, by name.

            * transformers (``attn_only_2l``): ``"loss"`` ``[n_steps]``, the loss of every step;
            * grokking runs: :meth:`~mi_tutor.grokking.GrokLog.curves` (``"steps"``, ``"train_loss"``,
              ``"test_loss"``, ``"train_acc"``, ``"test_acc"``, ``"weight_norm"``... every ``log_every`` steps);
            * vision nets (``plainnet_short_s*``): ``"accuracy"``, the held-out accuracy of each snapshot.
        recipe: How the run was made, as saved with it (grokking: the ``GrokRun`` fields, for
            :func:`mi_tutor.grokking.run_data`; transformers: ``"config"``); may be empty.

    :func:`snapshots` returns one (see its example).
    """

    name: str
    steps: list[int]
    models: list[nn.Module]
    curves: dict = field(default_factory=dict)
    recipe: dict = field(default_factory=dict)


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
        read_snapshots: ``read_snapshots(saved, device) -> Snapshots`` for an entry that ships
            ``<name>_checkpoints.pt`` (``saved`` is that file, loaded); :func:`snapshots` calls it.
        read_extras: ``read_extras(saved, device) -> dict`` for an entry that ships
            ``<name>_extras.pt``; :func:`extras` calls it.
    """

    name: str
    description: str
    build: Callable[[], nn.Module]
    recipe: Callable[[bool], nn.Module]
    family: str = "misc"
    info: dict = field(default_factory=dict)
    loader: Callable[[], nn.Module] | None = None
    read_snapshots: Callable[[dict, torch.device], Snapshots] | None = None
    read_extras: Callable[[dict, torch.device], dict] | None = None


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
    """Where the weights of ``name`` live (``suffix`` for its other files: ``SNAPSHOTS_SUFFIX``, ``EXTRAS_SUFFIX``)."""
    return WEIGHTS_DIR / f"{name}{suffix}.pt"


def save_file(name: str, suffix: str, data: dict) -> Path:
    """Save ``data`` as the file ``suffix`` of ``name`` beside its weights (recipes call it); returns the path."""
    path = weights_path(name, suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, path)
    return path


def _read_file(name: str, suffix: str, what: str) -> dict:
    path = weights_path(name, suffix)
    if not path.exists():
        raise FileNotFoundError(f"The {what} of {name!r} are missing at {path}. "
                                f"Rebuild them with `mi-tutor zoo train {name}`.")
    return torch.load(path, map_location="cpu", weights_only=True)


def _having(attr: str) -> str:
    from . import entries  # noqa: F401

    return ", ".join(sorted(n for n, e in _REGISTRY.items() if getattr(e, attr) is not None))


def snapshots(name: str, device: torch.device | str | None = None) -> Snapshots:
    """The snapshots saved along the training of the zoo model ``name`` (the one door to ``*_checkpoints.pt``).

    Args:
        name: A zoo model that ships snapshots (``attn_only_2l``, ``grokking_p53``, ``plainnet_short_s0``...).
        device: Where to put the models (default :func:`~mi_tutor.get_device`).

    Returns:
        A :class:`Snapshots`: ``steps``, ``models``, ``curves`` and ``recipe``.

    Raises:
        KeyError: for an unknown name, or a model that ships no snapshots (the message lists those that do).
        FileNotFoundError: if the file is missing (says how to rebuild it).

    Examples:
        >>> run = snapshots("attn_only_2l", device="cpu")
        >>> run.steps[:3], len(run.models) == len(run.steps), run.curves["loss"].shape
        ([0, 50, 100], True, torch.Size([1000]))
    """
    entry = _entry(name)
    if entry.read_snapshots is None:
        raise KeyError(f"The zoo model {name!r} ships no snapshots. These do: {_having('read_snapshots')}")
    return entry.read_snapshots(_read_file(name, SNAPSHOTS_SUFFIX, "snapshots"), torch.device(device or get_device()))


def extras(name: str, device: torch.device | str | None = None) -> dict:
    """The extra files of the zoo model ``name`` (the one door to ``*_extras.pt``), as its entry documents them.

    Raises:
        KeyError: for an unknown name, or a model that ships no extras (the message lists those that do).
        FileNotFoundError: if the file is missing (says how to rebuild it).

    Examples:
        >>> sorted(extras("facts_4l", device="cpu"))
        ['covariance', 'early_model', 'early_step', 'record']
    """
    entry = _entry(name)
    if entry.read_extras is None:
        raise KeyError(f"The zoo model {name!r} ships no extras. These do: {_having('read_extras')}")
    return entry.read_extras(_read_file(name, EXTRAS_SUFFIX, "extras"), torch.device(device or get_device()))


def measured(file: str) -> dict:
    """The numbers measured on the shipped weights, as recorded in ``mi_tutor/zoo/measured/<file>.json``.

    The entries call this to build their ``info``; lessons and tests read the numbers through
    :func:`info`. Sequences are lists (JSON), e.g. ``curve_family_layer3 = [units, largest gap]``.

    Examples:
        >>> measured("objects")["models"]["plainnet_objects_s0"]["accuracy"]
        0.962
    """
    path = MEASURED_DIR / f"{file}.json"
    if not path.exists():
        known = sorted(p.stem for p in MEASURED_DIR.glob("*.json"))
        raise unknown_name(f"No measured record {file!r} at {path}", file, known, tail=f"Records: {', '.join(known)}")
    return json.loads(path.read_text())


def build(name: str) -> nn.Module:
    """The untrained architecture of the zoo model ``name`` (its weights freshly initialised).

    Examples:
        >>> type(build("convnet_shapes_s0")).__name__
        'ConvNet'
    """
    return _entry(name).build()


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
