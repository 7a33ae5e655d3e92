"""A tiny text model of object-world captions (lesson 7's cross-modal experiment).

``caption_lm`` is the course's transformer (:mod:`mi_tutor.transformer`: 2
layers, d_model 64, 4 heads, MLPs, LayerNorm) trained on next-word prediction
over captions generated from the ground truth of object-world scenes
(:func:`mi_tutor.universality.captions.scene_captions`). It never sees an
image. Lesson 7 compares its representation of a caption with a vision net's
representation of the image the caption describes (mutual kNN, Huh et al. 2024).

Recipe: captions of ``POOL_SCENES`` scenes rendered with seeds ``POOL_SEEDS``
(held apart from the evaluation seeds, which start at 10**6), batches drawn
from that pool, ``CAPTION_TRAIN`` steps. One torch thread.
"""

from __future__ import annotations

import torch

from ...transformer.config import TransformerConfig
from ...transformer.model import HookedTransformer
from ...transformer.train import TrainConfig, train_transformer
from ..registry import ZooEntry, register

__all__ = ["CAPTION_N_CTX", "caption_lm_config", "CAPTION_TRAIN", "POOL_SEEDS", "caption_pool"]

CAPTION_N_CTX = 32
#: Seeds of the 512-scene batches whose captions form the training pool (4,096 scenes).
POOL_SEEDS: tuple[int, ...] = tuple(range(500, 508))
CAPTION_TRAIN = TrainConfig(steps=1000, batch_size=64, lr=3e-3, warmup=100, weight_decay=0.01, seed=0)
#: Measured when the shipped weights were trained (see the ``info`` of the entry).
MEASURED: dict = {}


def caption_lm_config() -> TransformerConfig:
    """2 layers, d_model 64, 4 heads of 16, d_mlp 256, LayerNorm, vocabulary = ``CAPTION_VOCAB``."""
    from ...universality.captions import CAPTION_VOCAB

    return TransformerConfig(n_layers=2, d_model=64, n_heads=4, d_head=16, d_vocab=len(CAPTION_VOCAB),
                             n_ctx=CAPTION_N_CTX, d_mlp=256, attn_only=False, normalization_type="LN",
                             act_fn="gelu", init_range=0.02, seed=0)


def caption_pool() -> torch.Tensor:
    """Token ids ``[4096, CAPTION_N_CTX]`` of the training captions."""
    from ...universality.captions import caption_tokens, scene_captions
    from ...vision.objects import render_objects

    caps = [c for s in POOL_SEEDS for c in scene_captions(render_objects(512, seed=s))]
    return caption_tokens(caps, CAPTION_N_CTX)


def _recipe(progress: bool = True) -> HookedTransformer:
    pool = caption_pool()

    def batch(n: int, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return pool[torch.randint(len(pool), (n,), generator=g)]

    model, _ = train_transformer(HookedTransformer(caption_lm_config()), batch, CAPTION_TRAIN, progress)
    return model


register(ZooEntry(
    name="caption_lm",
    description="2-layer transformer (d_model 64) trained on captions of object-world scenes (text only)",
    build=lambda: HookedTransformer(caption_lm_config()),
    recipe=_recipe,
    family="transformer",
    info={"task": "next word of object-world captions", "seed": 0, "steps": CAPTION_TRAIN.steps,
          "pool": f"captions of {512 * len(POOL_SEEDS)} scenes, render_objects seeds {POOL_SEEDS[0]}..{POOL_SEEDS[-1]}",
          **MEASURED},
))
