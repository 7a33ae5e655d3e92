"""Attention-only transformers trained on repeated random segments (lesson 8 onwards).

``attn_only_2l`` forms induction heads (a previous-token head in layer 0, an
induction head in layer 1) and ships 21 snapshots of its training;
``attn_only_1l`` is the same recipe with one layer, which cannot form them.
"""

from __future__ import annotations

from ...transformer.checkpoints import save_checkpoints
from ...transformer.config import TransformerConfig
from ...transformer.data import SequenceConfig, induction_batch
from ...transformer.model import HookedTransformer
from ...transformer.train import TransformerTrainConfig, train_transformer
from ..registry import ZooEntry, register

#: The training stream: uniform random tokens in which two random spans are repeated later.
INDUCTION_DATA = SequenceConfig(d_vocab=64, n_ctx=64, min_repeat=4, max_repeat=24, n_repeats=2, bigram_temperature=0.0)
#: Steps, batch and learning rate of the recipe; a snapshot every 50 steps.
INDUCTION_TRAIN = TransformerTrainConfig(steps=1000, batch_size=64, lr=1e-2, warmup=100, weight_decay=0.01, seed=0,
                              checkpoint_steps=tuple(range(0, 1001, 50)))


def attn_only_config(n_layers: int) -> TransformerConfig:
    """The architecture of the ``attn_only_{n}l`` models: 4 heads of 16 dims, d_model 64, no LayerNorm."""
    return TransformerConfig(n_layers=n_layers, d_model=64, n_heads=4, d_head=16, d_vocab=64, n_ctx=64,
                             attn_only=True, normalization_type=None, init_range=0.1, seed=0)


def _recipe(n_layers: int, name: str, keep_checkpoints: bool):
    def recipe(progress: bool = True) -> HookedTransformer:
        cfg = attn_only_config(n_layers)
        model, log = train_transformer(
            HookedTransformer(cfg), lambda n, seed: induction_batch(n, INDUCTION_DATA, seed), INDUCTION_TRAIN, progress
        )
        if keep_checkpoints:
            save_checkpoints(name, cfg, log)
        return model
    return recipe


for _layers in (1, 2):
    _name = f"attn_only_{_layers}l"
    register(ZooEntry(
        name=_name,
        description=f"{_layers}-layer attention-only transformer (4 heads, d_model 64) on repeated random segments",
        build=lambda n=_layers: HookedTransformer(attn_only_config(n)),
        recipe=_recipe(_layers, _name, keep_checkpoints=_layers == 2),
        family="transformer",
        info={"task": "next token on uniform random tokens with 2 repeated spans", "seed": 0,
              "steps": INDUCTION_TRAIN.steps, "checkpoints": _layers == 2},
    ))
