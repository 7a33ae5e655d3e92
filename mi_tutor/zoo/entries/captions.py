"""A tiny text model of object-world captions, and a vision net with training snapshots (lesson 7).

``caption_lm`` is the course's transformer (:mod:`mi_tutor.transformer`: 2
layers, d_model 64, 4 heads, MLPs, LayerNorm) trained on next-word prediction
over captions generated from the ground truth of object-world scenes
(:func:`mi_tutor.universality.captions.scene_captions`). It never sees an
image. Lesson 7 compares its representation of a caption with a vision net's
representation of the image the caption describes (mutual kNN, Huh et al. 2024).

Recipe: captions of ``POOL_SCENES`` scenes rendered with seeds ``POOL_SEEDS``
(held apart from the evaluation seeds, which start at 10**6), batches drawn
from that pool, ``CAPTION_TRAIN`` steps. One torch thread.

``plainnet_short_s0..2`` are short retrains (three seeds) of the zoo's plain
CNN (:func:`mi_tutor.vision.architectures.build_zoo_net`) on object
classification, from a fixed pool of rendered scenes, that keep snapshots of
their weights (``plainnet_short_s{seed}_checkpoints.pt``) with their held-out
accuracy, so lesson 7 can compare seeds cheaply and ask whether image-caption
alignment grows with the vision net's competence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ...transformer.config import TransformerConfig
from ...transformer.model import HookedTransformer
from ...transformer.train import TransformerTrainConfig, train_transformer
from ..registry import ZooEntry, register

__all__ = ["CAPTION_N_CTX", "caption_lm_config", "CAPTION_TRAIN", "POOL_SEEDS", "caption_pool", "VisionShortConfig",
           "VISION_SHORT", "VISION_SHORT_SEEDS", "vision_short_name", "load_vision_checkpoints"]

CAPTION_N_CTX = 32
#: Seeds of the 512-scene batches whose captions form the training pool (4,096 scenes).
POOL_SEEDS: tuple[int, ...] = tuple(range(500, 508))
CAPTION_TRAIN = TransformerTrainConfig(steps=1000, batch_size=64, lr=3e-3, warmup=100, weight_decay=0.01, seed=0)
#: Measured when the shipped weights were trained (see the ``info`` of the entry).
MEASURED: dict = {"train_s": 313, "heldout_loss": 0.289,
                  "measured_on": "shared 2-core CPU, load 8.7, 1 thread; loss on 512 captions of render_objects seed 10**6"}
#: Measured when the shipped weights were trained: shared 2-core CPU, 1 thread; accuracy on the 512
#: scenes of ``render_objects(512, seed=10**6 + 7)``.
MEASURED_VISION: dict[str, dict] = {
    "plainnet_short_s0": {"train_s": 314, "load": 7.7,
                          "snapshot_accuracy": {0: 0.117, 25: 0.105, 50: 0.146, 100: 0.215, 200: 0.453, 400: 0.881}},
    "plainnet_short_s1": {"train_s": 399, "load": 9.1,
                          "snapshot_accuracy": {0: 0.115, 25: 0.119, 50: 0.166, 100: 0.238, 200: 0.521, 400: 0.887}},
    "plainnet_short_s2": {"train_s": 602, "load": 9.8,
                          "snapshot_accuracy": {0: 0.109, 25: 0.102, 50: 0.123, 100: 0.178, 200: 0.559, 400: 0.885}},
}


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


# ------------------------------------------------------------------ a vision net with snapshots
@dataclass
class VisionShortConfig:
    """The short object-classification retrain that keeps snapshots.

    Attributes:
        arch: ``build_zoo_net`` family.
        pool_seeds: ``render_objects`` seeds of the 512-image batches of the training pool.
        steps: Optimiser steps (AdamW + OneCycle, as ``mi_tutor.vision.train``).
        batch_size: Images per step, drawn from the pool.
        lr: Peak learning rate.
        checkpoint_steps: Steps whose weights are kept (0 = initialisation).
        eval_seed: ``render_objects`` seed of the 512 held-out images the accuracies are measured on.
        seed: Seeds the weights and the batch order.
    """

    arch: str = "plainnet"
    pool_seeds: tuple[int, ...] = tuple(range(600, 608))
    steps: int = 400
    batch_size: int = 64
    lr: float = 3e-3
    checkpoint_steps: tuple[int, ...] = (0, 25, 50, 100, 200, 400)
    eval_seed: int = 10**6 + 7
    seed: int = 0


VISION_SHORT = VisionShortConfig()
VISION_SHORT_SEEDS: tuple[int, ...] = (0, 1, 2)


def vision_short_name(seed: int) -> str:
    """Zoo name of a short retrain, e.g. ``plainnet_short_s1``."""
    return f"plainnet_short_s{seed}"


def _vision_recipe(seed: int):
    return lambda progress=True: _train_vision_short(seed, progress)


def _train_vision_short(seed: int, progress: bool = True) -> nn.Module:
    from tqdm.auto import tqdm

    from ...device import seed_everything
    from ...vision.architectures import build_zoo_net
    from ...vision.objects import render_objects
    from ...vision.train import classifier_accuracy
    from ..registry import weights_path

    cfg = VisionShortConfig(**{**VISION_SHORT.__dict__, "seed": seed})
    batches = [render_objects(512, seed=s) for s in cfg.pool_seeds]
    images = torch.cat([b.images for b in batches])
    labels = torch.cat([b.labels for b in batches])
    held = render_objects(512, seed=cfg.eval_seed)
    seed_everything(cfg.seed)
    model = build_zoo_net(cfg.arch).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps)
    g = torch.Generator().manual_seed(cfg.seed)
    snaps, accs = [], []

    def snap():
        snaps.append({k: v.detach().clone().half() if v.is_floating_point() else v.detach().clone()
                      for k, v in model.state_dict().items()})
        model.eval()
        accs.append(classifier_accuracy(model, held.images, held.labels))
        model.train()

    if 0 in cfg.checkpoint_steps:
        snap()
    for step in tqdm(range(1, cfg.steps + 1), disable=not progress, desc="training"):
        idx = torch.randint(len(images), (cfg.batch_size,), generator=g)
        loss = nn.functional.cross_entropy(model(images[idx]), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step in cfg.checkpoint_steps:
            snap()
    torch.save({"steps": list(cfg.checkpoint_steps), "accuracy": accs, "state_dicts": snaps},
               weights_path(vision_short_name(seed), "_checkpoints"))
    return model.eval()


def load_vision_checkpoints(seed: int = 0, device: torch.device | str = "cpu"
                            ) -> tuple[list[int], list[float], list[nn.Module]]:
    """``(steps, held-out accuracies, models)`` of the snapshots of ``plainnet_short_s{seed}``."""
    from ...vision.architectures import build_zoo_net
    from ..registry import weights_path

    data = torch.load(weights_path(vision_short_name(seed), "_checkpoints"), map_location="cpu", weights_only=True)
    models = []
    for sd in data["state_dicts"]:
        m = build_zoo_net(VISION_SHORT.arch)
        m.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
        models.append(m.to(device).eval())
    return data["steps"], data["accuracy"], models


for _seed in VISION_SHORT_SEEDS:
    register(ZooEntry(
        name=vision_short_name(_seed),
        description=f"zoo plain CNN, short object-classification retrain with 6 weight snapshots, seed {_seed}",
        build=lambda: __import__("mi_tutor.vision.architectures", fromlist=["x"]).build_zoo_net(VISION_SHORT.arch),
        recipe=_vision_recipe(_seed),
        family="vision",
        info={"task": "object kind (object world)", "seed": _seed, "steps": VISION_SHORT.steps,
              "checkpoints": list(VISION_SHORT.checkpoint_steps),
              "pool": f"{512 * len(VISION_SHORT.pool_seeds)} images, render_objects seeds "
                      f"{VISION_SHORT.pool_seeds[0]}..{VISION_SHORT.pool_seeds[-1]}",
              **MEASURED_VISION.get(vision_short_name(_seed), {})},
    ))
