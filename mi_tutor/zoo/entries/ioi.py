"""Attention-only transformers trained on the classic IOI task (lesson 9).

``ioi_2l1h`` and ``ioi_2l2h`` (two layers of one or two heads) and the one-layer contrast
``ioi_1l2h`` train on mixed-order prompts of split ``"classic"`` of :mod:`mi_tutor.tasks.ioi`
(20 names, 12 templates; d_model 64, d_head 32, init 0.05, batch 256, AdamW, seed 0), with the
cross-entropy of the END prediction only. Every classic prompt is of a kind they trained on:
split ``"test"`` and the model ``ioi_2l4h`` (``entries/ioi_heldout.py``) measure prompts never seen.

Accuracy on 1000 classic prompts per order of the names (IO first / second / last), seeds
77000-77002 (``bench/ioi_models.py``'s measure), and on 3000 mixed prompts:

* ``ioi_2l2h``, lr 2e-3, 4000 steps: 0.96 / 0.97 / 0.95, mixed 0.955;
* ``ioi_2l1h``, lr 3e-3, 2000 steps: 0.82 / 0.76 / 0.69, mixed 0.76;
* ``ioi_1l2h``, lr 1e-3, 3000 steps: 0.65 / 0.66 / 0.74, mixed 0.68 (1L x 1H: 0.49,
  "one of the two names").

The roles of ``ioi_2l1h``'s two heads change with the order and the template (lesson 9,
section 9; ``tests/test_ioi.py``): it has no single circuit.
"""

from __future__ import annotations

from ...tasks.ioi import CLASSIC_D_VOCAB
from ...tasks.ioi_train import IOITrainConfig, ioi_model_config, train_ioi
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
        model = HookedTransformer(ioi_model_config(n_layers, n_heads, d_head, d_vocab=CLASSIC_D_VOCAB))
        model, _ = train_ioi(model, train_cfg, progress=progress, device="cpu")
        return model
    return recipe


for _name, (_layers, _heads, _d_head, _train) in IOI_MODELS.items():
    register(ZooEntry(
        name=_name,
        description=f"{_layers}-layer x {_heads}-head attention-only transformer on the IOI task (d_model 64)",
        build=lambda L=_layers, H=_heads, d=_d_head: HookedTransformer(ioi_model_config(L, H, d, d_vocab=CLASSIC_D_VOCAB)),
        recipe=_recipe(_layers, _heads, _d_head, _train),
        family="transformer",
        info={"task": "IOI (mi_tutor.tasks.ioi), END prediction only, mixed orders", "seed": _train.seed,
              "steps": _train.steps, "lr": _train.lr},
    ))
