"""Attention-only transformers trained on the IOI task (lesson 9 onwards).

``ioi_2l1h`` and ``ioi_2l2h`` (two layers of one or two heads) form a readable
two-step circuit: a layer-0 head writes at the repeated name (S2) what layer-1
heads at END read through their keys; ``ioi_1l2h`` (one layer) is the contrast:
it solves much of the task with a shortcut. Each recipe trains on mixed-order
prompts (:func:`mi_tutor.tasks.ioi_batch`) with the cross-entropy of the END
prediction only; see ``lessons-7-12.md`` section 9 of the course notes.
"""

from __future__ import annotations

from ...tasks.train import IOITrainConfig, ioi_model_config, train_ioi
from ...transformer.model import HookedTransformer
from ..registry import ZooEntry, register

#: name -> (n_layers, n_heads, d_head, training settings)
IOI_MODELS: dict[str, tuple[int, int, int, IOITrainConfig]] = {
    "ioi_2l1h": (2, 1, 32, IOITrainConfig(steps=2000, lr=3e-3, seed=0)),
    "ioi_2l2h": (2, 2, 32, IOITrainConfig(steps=4000, lr=2e-3, seed=0)),
    "ioi_1l2h": (1, 2, 32, IOITrainConfig(steps=3000, lr=1e-3, seed=0)),
}


def _recipe(n_layers: int, n_heads: int, d_head: int, train_cfg: IOITrainConfig):
    def recipe(progress: bool = True) -> HookedTransformer:
        model = HookedTransformer(ioi_model_config(n_layers, n_heads, d_head))
        model, _ = train_ioi(model, train_cfg, progress=progress, device="cpu")
        return model
    return recipe


for _name, (_layers, _heads, _d_head, _train) in IOI_MODELS.items():
    register(ZooEntry(
        name=_name,
        description=f"{_layers}-layer x {_heads}-head attention-only transformer on the IOI task (d_model 64)",
        build=lambda L=_layers, H=_heads, d=_d_head: HookedTransformer(ioi_model_config(L, H, d)),
        recipe=_recipe(_layers, _heads, _d_head, _train),
        family="transformer",
        info={"task": "IOI (mi_tutor.tasks.ioi), END prediction only, mixed orders", "seed": _train.seed,
              "steps": _train.steps, "lr": _train.lr},
    ))
