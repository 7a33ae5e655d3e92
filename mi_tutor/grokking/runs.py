"""Seeded grokking runs with snapshots, as shipped in the model zoo.

A run file ``mi_tutor/zoo/weights/<name>_checkpoints.pt`` holds the recipe (:class:`GrokRun`
fields), the curves of :class:`~mi_tutor.grokking.GrokLog` and a thinned set of float16 snapshots.

Examples:
    >>> spec = GrokRun(p=7, train_frac=0.5, d_model=16, n_heads=2, d_head=8, d_mlp=32,
    ...                train=GrokConfig(steps=20, log_every=10, checkpoint_every=10))
    >>> model, log = spec.train_run(progress=False)
    >>> snap = spec.snapshot(log, keep_every=20)
    >>> snap["steps"]
    [0, 20]
    >>> steps, models, curves = load_run_dict(snap)
    >>> type(models[0]).__name__, curves["steps"][-1]
    ('HookedTransformer', 20)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

from ..device import get_device
from ..transformer.model import HookedTransformer
from .data import ModularData, modular_addition
from .models import nanda_config, nanda_transformer
from .train import GrokConfig, GrokLog, train_grokking

__all__ = ["RUN_SUFFIX", "GrokRun", "load_run", "load_run_dict", "run_data", "run_spec", "save_run"]


@dataclass
class GrokRun:
    """Recipe of a grokking run of the 1-layer transformer.

    Attributes:
        p, train_frac, data_seed: The task (:func:`~mi_tutor.grokking.modular_addition`).
        d_model, n_heads, d_head, d_mlp, model_seed: The model (:func:`~mi_tutor.grokking.nanda_transformer`).
        train: Optimiser settings and the snapshot interval.
    """

    p: int = 113
    train_frac: float = 0.3
    data_seed: int = 0
    d_model: int = 128
    n_heads: int = 4
    d_head: int = 32
    d_mlp: int = 512
    model_seed: int = 0
    train: GrokConfig = field(default_factory=GrokConfig)

    def data(self) -> ModularData:
        """The task of this run."""
        return modular_addition(self.p, self.train_frac, self.data_seed)

    def build(self) -> HookedTransformer:
        """The untrained model of this run."""
        return nanda_transformer(self.p, self.d_model, self.n_heads, self.d_head, self.d_mlp, self.model_seed)

    def train_run(self, progress: bool = True, **kwargs) -> tuple[HookedTransformer, GrokLog]:
        """Train from the seeded initialisation (one torch thread is fastest for this size)."""
        return train_grokking(self.build(), self.data(), self.train, progress=progress, **kwargs)

    def snapshot(self, log: GrokLog, keep_every: int) -> dict:
        """A saveable dict: the recipe, the curves and the float16 snapshots every ``keep_every`` steps."""
        keep = [i for i, s in enumerate(log.checkpoint_steps) if s % keep_every == 0 or s == log.checkpoint_steps[-1]]
        spec = asdict(self)
        spec["train"]["betas"] = list(spec["train"]["betas"])
        return {"run": spec, "config": nanda_config(self.p, self.d_model, self.n_heads, self.d_head, self.d_mlp,
                                                     self.model_seed).to_dict(),
                "steps": [log.checkpoint_steps[i] for i in keep],
                "state_dicts": [{k: v.half() for k, v in log.checkpoints[i].items()} for i in keep],
                "curves": log.curves()}


def load_run_dict(saved: dict, device: torch.device | str | None = None
                  ) -> tuple[list[int], list[HookedTransformer], dict]:
    """Models (float32, eval mode) and curves from a :meth:`GrokRun.snapshot` dict."""
    from ..transformer.config import TransformerConfig

    cfg = TransformerConfig(**saved["config"])
    models = []
    for state in saved["state_dicts"]:
        model = HookedTransformer(cfg)
        model.load_state_dict({k: v.float() for k, v in state.items()})
        models.append(model.to(device or get_device()).eval())
    return list(saved["steps"]), models, dict(saved["curves"])


RUN_SUFFIX = "_checkpoints"


def save_run(name: str, spec: GrokRun, log: GrokLog, keep_every: int) -> None:
    """Write the thinned snapshots and curves of a zoo run next to its weights."""
    from ..zoo.registry import weights_path

    path = weights_path(name, RUN_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(spec.snapshot(log, keep_every), path)


def load_run(name: str, device: torch.device | str | None = None
             ) -> tuple[list[int], list[HookedTransformer], dict]:
    """The snapshots and curves of a shipped grokking run (e.g. ``"grokking_p53"``).

    Returns:
        ``(steps, models, curves)``: the step of each snapshot, the models (float32, eval mode) and
        the curves recorded every ``log_every`` steps (``steps``, ``train_loss``, ``test_loss``,
        ``train_acc``, ``test_acc``, ``weight_norm``).

    Raises:
        FileNotFoundError: if the run was not shipped (says how to rebuild it).
    """
    from ..zoo.registry import weights_path

    path = weights_path(name, RUN_SUFFIX)
    if not path.exists():
        raise FileNotFoundError(f"No grokking run {name!r} at {path}. Rebuild it with `mi-tutor zoo train {name}`.")
    return load_run_dict(torch.load(path, map_location="cpu", weights_only=True), device)


def run_data(name: str) -> ModularData:
    """The task and train/test split a shipped run was trained on."""
    spec = run_spec(name)
    return modular_addition(spec["p"], spec["train_frac"], spec["data_seed"])


def run_spec(name: str) -> dict:
    """The recipe (as a dict) stored with a shipped run."""
    from ..zoo.registry import weights_path

    return torch.load(weights_path(name, RUN_SUFFIX), map_location="cpu", weights_only=True)["run"]
