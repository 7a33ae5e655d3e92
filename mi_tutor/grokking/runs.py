"""Seeded grokking runs with snapshots, as shipped in the model zoo.

:meth:`GrokRun.snapshot` makes the dict the zoo saves beside a run's weights: the recipe
(:class:`GrokRun` fields), the curves of :class:`~mi_tutor.grokking.GrokLog` and a thinned set
of float16 snapshots. Read a shipped run with :func:`mi_tutor.zoo.snapshots` and its task with
:func:`run_data`; this module knows nothing of where files live.

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

from ..transformer.checkpoints import models_from_checkpoints
from ..transformer.model import HookedTransformer
from .data import ModularData, modular_addition
from .models import nanda_config, nanda_transformer
from .train import GrokConfig, GrokLog, train_grokking

__all__ = ["GrokRun", "load_run_dict", "run_data"]


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
    """Models (float32, eval mode) and curves from a :meth:`GrokRun.snapshot` dict.

    Returns:
        ``(steps, models, curves)``: the step of each snapshot, the models and the curves recorded
        every ``log_every`` steps (``steps``, ``train_loss``, ``test_loss``, ``train_acc``,
        ``test_acc``, ``weight_norm``).
    """
    steps, models = models_from_checkpoints(saved, device)
    return steps, models, dict(saved["curves"])


def run_data(recipe: dict) -> ModularData:
    """The task and train/test split of a run, from its recipe (``GrokRun`` fields as a dict).

    Examples:
        >>> len(run_data({"p": 7, "train_frac": 0.5, "data_seed": 0}).train_idx)
        24
    """
    return modular_addition(recipe["p"], recipe["train_frac"], recipe["data_seed"])
