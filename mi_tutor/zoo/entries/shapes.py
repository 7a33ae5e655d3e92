"""Shape classifiers on the basic image world (lesson 1 and onwards)."""

from __future__ import annotations

from ...vision.models import ConvNet, ConvNetConfig
from ...vision.train import ClassifierTrainConfig, train_classifier
from ...vision.world import WorldConfig, render_shapes
from ..registry import ZooEntry, register

SHAPES_WORLD = WorldConfig()


def _shape_batch(n: int, seed: int):
    batch = render_shapes(n, seed=seed, config=SHAPES_WORLD)
    return batch.images, batch.labels


def _recipe(seed: int):
    def recipe(progress: bool = True):
        cfg = ConvNetConfig(n_classes=len(SHAPES_WORLD.kinds))
        train_cfg = ClassifierTrainConfig(steps=4000, lr=3e-3, seed=seed)
        return train_classifier(ConvNet(cfg), _shape_batch, train_cfg, progress)
    return recipe


register(ZooEntry(
    name="convnet_shapes_s0",
    description="plain 3-stage ConvNet (16-32-64 ch) classifying disk/square/triangle/bar, seed 0",
    build=lambda: ConvNet(ConvNetConfig(n_classes=len(SHAPES_WORLD.kinds))),
    recipe=_recipe(0),
    family="vision",
    info={"seed": 0, "world": "WorldConfig()", "task": "shape kind"},
))
