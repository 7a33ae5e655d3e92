"""Object-world CNNs (issue 9): plain, ResNet-style and VGG-style nets trained to name objects.

Task: 9-way classification of object-world scenes (:mod:`mi_tutor.vision.objects`):
which kind of object (car, cart, head, clock, sign, house, ladder, fence,
arch) the scene holds. Nothing in the loss or the labels mentions curves,
parts or poses: heads facing left and right share one label. Fresh scenes
every step (``render_objects(64, seed)``), AdamW + OneCycle, one CPU thread.

``plainnet_count_s0`` has the plain architecture but learns another task over
the same world: how many objects (1-4) a scene holds (lesson 7, "across tasks").

Every net is a :class:`~mi_tutor.vision.architectures.ZooCNN`: stages
``layer1`` (64 x 64), ``layer2`` (32 x 32), ``layer3`` (16 x 16), ``layer4``
(8 x 8), then ``head``. The findings measured on the shipped weights
(:mod:`mi_tutor.vision.findings`) are in each entry's ``info`` (and in
``site/api/vision_findings.md``).
"""

from __future__ import annotations

from ...vision.architectures import ZooNetConfig, build_zoo_net
from ...vision.objects import ObjectWorldConfig, object_names, render_objects
from ...vision.train import TrainConfig, train_classifier
from ..registry import ZooEntry, register

__all__ = ["OBJECT_WORLD", "COUNT_WORLD", "OBJECT_MODELS", "OBJECT_CHANNELS", "OBJECT_STEPS", "object_batch",
           "count_batch", "object_net_config"]

OBJECT_WORLD = ObjectWorldConfig()
COUNT_WORLD = ObjectWorldConfig(task="count")
#: Widths per architecture (VGG and ResNet are thinner early so that every net trains in minutes on one thread).
OBJECT_CHANNELS: dict[str, tuple[int, ...]] = {"plainnet": (12, 24, 48, 64), "resnet": (12, 16, 48, 64),
                                               "vgg": (8, 16, 48, 64)}
OBJECT_STEPS: dict[str, int] = {"plainnet": 900, "resnet": 600, "vgg": 600}
SEEDS: tuple[int, ...] = (0, 1, 2)
DESCRIPTIONS = {
    "plainnet": "plain conv-BN-ReLU net (5x5 then 3x3; 12-24-48-64 ch)",
    "resnet": "ResNet-style net (5x5 stem + torchvision BasicBlocks; 12-16-48-64 ch)",
    "vgg": "VGG-style net (two 3x3 conv-BN-ReLU per stage; 8-16-48-64 ch)",
}
OBJECT_MODELS: list[str] = []

# Measured after training (recipe on the shared 2-core CPU, one thread; accuracy on 2,000 held-out
# scenes of seed 10**9); filled in from bench-style runs of mi_tutor.vision.findings.
MEASURED: dict[str, dict] = {}

WHAT_WORKED = (
    "thin (1-3 px) strokes; objects whose look-alikes differ only in curvature (car/cart: round vs square wheels, "
    "clock/sign: round rim vs square frame); full circles (wheels, heads, clock rims) and freely rotated arches, "
    "so every curve orientation occurs; tuning probes centred on the measured unit's receptive field"
)


def object_net_config(arch: str, task: str = "object") -> ZooNetConfig:
    """The widths and number of logits of the zoo nets of ``arch`` for ``task``."""
    world = OBJECT_WORLD if task == "object" else COUNT_WORLD
    return ZooNetConfig(channels=OBJECT_CHANNELS[arch], n_classes=len(object_names(world)))


def object_batch(n: int, seed: int):
    """``(images, labels)`` of an object-task training batch (the recipes' data stream)."""
    batch = render_objects(n, seed=seed, config=OBJECT_WORLD)
    return batch.images, batch.labels


def count_batch(n: int, seed: int):
    """``(images, labels)`` of a counting-task training batch (label = number of objects - 1)."""
    batch = render_objects(n, seed=seed, config=COUNT_WORLD)
    return batch.images, batch.labels


def _recipe(arch: str, seed: int, task: str):
    def recipe(progress: bool = True):
        cfg = TrainConfig(steps=OBJECT_STEPS[arch], batch_size=64, lr=3e-3, weight_decay=1e-4, seed=seed)
        make = object_batch if task == "object" else count_batch
        return train_classifier(build_zoo_net(arch, object_net_config(arch, task)), make, cfg, progress)
    return recipe


def _register(arch: str, seed: int, task: str) -> None:
    name = f"{arch}_{'objects' if task == 'object' else 'count'}_s{seed}"
    OBJECT_MODELS.append(name)
    what = "which object the scene holds (9 kinds)" if task == "object" else "how many objects (1-4)"
    register(ZooEntry(
        name=name,
        description=f"{DESCRIPTIONS[arch]} on the object world: {what}, seed {seed}",
        build=lambda: build_zoo_net(arch, object_net_config(arch, task)),
        recipe=_recipe(arch, seed, task),
        family="vision",
        info={"arch": arch, "seed": seed, "task": task,
              "world": "ObjectWorldConfig()" if task == "object" else "ObjectWorldConfig(task='count')",
              "train": f"AdamW + OneCycle, {OBJECT_STEPS[arch]} steps of 64 fresh scenes, lr 3e-3, one thread",
              "layers": ("layer1", "layer2", "layer3", "layer4"),
              "what_worked": WHAT_WORKED,
              **MEASURED.get(name, {})},
    ))


for _arch in OBJECT_CHANNELS:
    for _seed in SEEDS:
        _register(_arch, _seed, "object")
_register("plainnet", 0, "count")
