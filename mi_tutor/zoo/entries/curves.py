"""Plain ConvNets trained on the curve world (lesson 4's curve detectors).

The task, reading the orientation bin of a thin arc or saying "line" when the
image has none, cannot be solved without edge and curve detectors, and the
trained networks grow a family of curve-tuned units in ``layer3`` (checked by
``tests/test_circuits_vision.py``). What worked: 6,000 steps; at 2,000 steps
the family still has gaps of over 90 degrees.
"""

from __future__ import annotations

from ...vision.curves import CurveWorldConfig, render_world
from ...vision.models import ConvNet, ConvNetConfig
from ...vision.train import TrainConfig, train_classifier
from ..registry import ZooEntry, register

CURVE_WORLD = CurveWorldConfig()


def _curve_batch(n: int, seed: int):
    batch = render_world(n, seed=seed, config=CURVE_WORLD)
    return batch.images, batch.labels


def _build() -> ConvNet:
    return ConvNet(ConvNetConfig(n_classes=CURVE_WORLD.n_orientations + 1))


def _recipe(seed: int):
    def recipe(progress: bool = True) -> ConvNet:
        return train_classifier(_build(), _curve_batch, TrainConfig(steps=6000, lr=3e-3, seed=seed), progress)
    return recipe


for _seed in (1,):
    register(ZooEntry(
        name=f"convnet_curves_s{_seed}",
        description=f"plain 3-stage ConvNet reading the orientation of thin arcs (curve world), seed {_seed}",
        build=_build,
        recipe=_recipe(_seed),
        family="vision",
        info={"seed": _seed, "world": "CurveWorldConfig()", "task": "arc orientation bin or line",
              "steps": 6000},
    ))
