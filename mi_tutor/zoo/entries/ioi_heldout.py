"""The IOI model of lesson 9: trained on split ``"train"``, measured on prompts it never saw.

``ioi_2l4h`` (two layers of four heads, an MLP after each, d_model 64) trains by the recipe of
the classic IOI models (:func:`mi_tutor.tasks.ioi_train.train_ioi`: mixed orders, the
cross-entropy of the END prediction, AdamW, seed 0) on split ``"train"`` of
:mod:`mi_tutor.tasks.ioi`: 32 names, 15 templates, no held-out pair of names. Split ``"test"``
(5 held-out templates filled with held-out pairs) measures it on prompts it never saw;
``bench/ioi_models.py`` records the variants tried and ``bench/ioi_circuit.py`` its circuit in
each order of the names (``bench/results/ioi_models.json``, ``ioi_circuit_ioi_2l4h.json``).

It does not solve the task on prompts it never saw. Accuracy on 1000 prompts per order
(IO first / second / last; 800 s of training on a loaded CPU thread):

* split ``"train"``: 0.99 / 0.98 / 0.98;
* split ``"test"``: 0.85 / 0.83 / 0.75 (held-out pairs on training templates about 0.87;
  the held-out template of an unseen slot layout, index 18, is the worst);
* split ``"new_names"``: 0.43 / 0.45 / 0.44 (a name never trained has an untrained
  embedding and unembedding: a model trained from scratch cannot copy it).

The same recipe with weight decay 0.01, lr 3e-3 and 3000 steps reaches 0.79 / 0.83 / 0.71.
"""

from __future__ import annotations

from ...tasks.ioi_train import IOITrainConfig, ioi_model_config, train_ioi
from ...transformer.model import HookedTransformer
from ..registry import ZooEntry, register

#: The architecture and the recipe of ``ioi_2l4h``.
SIZES = {"n_layers": 2, "n_heads": 4, "d_head": 16, "d_model": 64, "d_mlp": 128}
RECIPE = IOITrainConfig(steps=4000, batch_size=128, lr=2e-3, weight_decay=0.1, seed=0, split="train")


def _build() -> HookedTransformer:
    return HookedTransformer(ioi_model_config(**SIZES))


def _recipe(progress: bool = True) -> HookedTransformer:
    model, _ = train_ioi(_build(), RECIPE, progress=progress, device="cpu")
    return model


register(ZooEntry(
    name="ioi_2l4h",
    description="2-layer x 4-head transformer with MLPs on the IOI task, trained on split 'train' (d_model 64)",
    build=_build,
    recipe=_recipe,
    family="transformer",
    info={"task": "IOI (mi_tutor.tasks.ioi), split 'train', END prediction only, mixed orders",
          "seed": RECIPE.seed, "steps": RECIPE.steps, "lr": RECIPE.lr, "batch_size": RECIPE.batch_size,
          "weight_decay": RECIPE.weight_decay, **SIZES},
))
