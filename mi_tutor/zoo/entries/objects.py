"""Object-world CNNs (lessons 2-4, 7): plain, ResNet-style and VGG-style nets trained to name objects.

Task: 9-way classification of object-world scenes (:mod:`mi_tutor.vision.objects`):
which kind of object (car, cart, head, clock, sign, house, ladder, fence,
arch) the scene holds. Nothing in the loss or the labels mentions curves,
parts or poses: heads facing left and right share one label. Fresh scenes
every step (``render_objects(64, seed)``), AdamW + OneCycle, one CPU thread.

``plainnet_count_s0`` has the plain architecture but learns another task over
the same world: how many objects (1-4) a scene holds (lesson 7, "across tasks").

``vgg_wreck_s1`` is a VGG net of the *arrangement world* (``WRECK_WORLD``: larger objects and a tenth
kind, the upside-down car), the one net in which the car composition circuit (wheels below,
windows above) reads from the weights (``COMPOSITION_READ``; one seed of three).

Every net is a :class:`~mi_tutor.vision.architectures.ZooCNN`: stages
``layer1`` (64 x 64), ``layer2`` (32 x 32), ``layer3`` (16 x 16), ``layer4``
(8 x 8), then ``head``. The findings measured on the shipped weights
(:mod:`mi_tutor.circuits_vision.findings`) are in each entry's ``info`` (and in
``site/api/vision_findings.md``).
"""

from __future__ import annotations

from ...device import seed_everything
from ...vision.architectures import ZooNetConfig, build_zoo_net
from ...vision.objects import WRECK_WORLD, ObjectWorldConfig, object_names, render_objects
from ...vision.train import ClassifierTrainConfig, train_classifier
from ..registry import ZooEntry, measured, register

__all__ = ["OBJECT_WORLD", "COUNT_WORLD", "WRECK_WORLD", "OBJECT_MODELS", "ARRANGEMENT_MODELS",
           "ARRANGEMENT_MEASURED", "OBJECT_CHANNELS", "OBJECT_STEPS", "object_batch", "count_batch", "wreck_batch",
           "object_net_config", "COMPOSITION_READ"]

OBJECT_WORLD = ObjectWorldConfig()
COUNT_WORLD = ObjectWorldConfig(task="count")
#: Widths per architecture (VGG and ResNet are thinner early so that every net trains in minutes on one thread).
OBJECT_CHANNELS: dict[str, tuple[int, ...]] = {"plainnet": (12, 24, 48, 64), "resnet": (12, 16, 48, 64),
                                               "vgg": (8, 16, 48, 64)}
OBJECT_STEPS: dict[str, int] = {"plainnet": 900, "resnet": 600, "vgg": 600}
SEEDS: tuple[int, ...] = (0, 1, 2)
DESCRIPTIONS = {
    "plainnet": "plain conv-BN-ReLU net (5x5 then 3x3; 12-24-48-64 ch)",
    "resnet": "ResNet-style net (5x5 stem + ResNet basic blocks; 12-16-48-64 ch)",
    "vgg": "VGG-style net (two 3x3 conv-BN-ReLU per stage; 8-16-48-64 ch)",
}
OBJECT_MODELS: list[str] = []

# Reproducibility: the shipped weights were trained before the recipe seeded the initial weights
# (their data stream was seeded; their initialisation came from the training process's RNG state, as the
# 2nd-5th net of a worker process for all but plainnet_objects_s0 and resnet_objects_s0). `mi-tutor zoo train
# NAME` now seeds both, so a retrained net is reproducible but not bit-identical to the shipped one.
#
# The numbers measured on the shipped weights live in mi_tutor/zoo/measured/objects.json (read into each
# entry's ``info``): "models" per object net, "arrangement" per arrangement-world net, and the prose
# "what_failed" / "what_worked". Accuracy on 2,000 held-out scenes (seed 10**9); train_s is wall time on the
# shared 2-core CPU (load 6-10: the first two nets ran while the machine was ~8x oversubscribed), train_cpu_s
# the CPU time of the training process (not recorded for the first two). Findings per stage from
# ``mi_tutor.circuits_vision.findings.measure_findings(net)`` (seed 2024, 512 scenes):
#   curve_family_layerK = (curve units with >= 2x curve over line, largest gap in degrees) over 16 orientations;
#   circle_units_from_layerK = next-stage units whose weights from that family follow a circle;
#   composition_layerK = car unit in the next stage with wheel weights + below / - above and window - below / + above;
#   pose_layerK = ((pose index of the left unit, of the right unit), invariant unit's pose index,
#                  (weights from left, from right), both positive);
#   polysemantic_layerK = units whose two best unrelated kinds both score >= 1.5 sd;
#   high_low_layerK = units >= 2x more on a sharp/blurred boundary than on all-sharp or all-blurred noise.
_RECORD = measured("objects")
MEASURED: dict[str, dict] = _RECORD["models"]
WHAT_FAILED: str = _RECORD["what_failed"]
WHAT_WORKED: str = _RECORD["what_worked"]


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
        cfg = ClassifierTrainConfig(steps=OBJECT_STEPS[arch], batch_size=64, lr=3e-3, weight_decay=1e-4, seed=seed)
        make = object_batch if task == "object" else count_batch
        seed_everything(seed)  # the initial weights follow the seed too
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
              "what_failed": WHAT_FAILED,
              "curve_layer": "layer3",
              **MEASURED.get(name, {})},
    ))


for _arch in OBJECT_CHANNELS:
    for _seed in SEEDS:
        _register(_arch, _seed, "object")
_register("plainnet", 0, "count")


# --------------------------------------------------------------------------------------------
# The arrangement world: the car composition circuit of lesson 4. In the default world no net
# grows it (site/api/vision_findings.md); with larger objects and the upside-down car as a tenth kind,
# the car unit of one VGG seed of three takes wheel weight below and window weight above.
# --------------------------------------------------------------------------------------------

#: How the composition is read on these nets: ``findings.composition(net, "layer3", **COMPOSITION_READ,
#: batch=render_objects(2048, seed, WRECK_WORLD))``: the first conv of ``layer4`` (3 x 3, 8-px taps), part units
#: that prefer one part's mask over the other's, the car unit that fires more on cars than on any other kind.
COMPOSITION_READ = {"read": "conv", "parts_by": "contrast", "selectivity": "min"}
ARRANGEMENT_MODELS: list[str] = []
#: Measured by ``bench/objects_arrangement.py`` (2,048 scenes of WRECK_WORLD, seeds 12345, 1, 2) and
#: ``bench/objects_variants.py`` (accuracy on 2,000 held-out scenes, seed 10**9): ``measured/objects.json``.
ARRANGEMENT_MEASURED: dict[str, dict] = _RECORD["arrangement"]


def wreck_batch(n: int, seed: int):
    """``(images, labels)`` of the arrangement world (10 kinds, larger objects)."""
    batch = render_objects(n, seed=seed, config=WRECK_WORLD)
    return batch.images, batch.labels


def _register_arrangement(arch: str, seed: int) -> None:
    name = f"{arch}_wreck_s{seed}"
    ARRANGEMENT_MODELS.append(name)
    cfg = ZooNetConfig(channels=OBJECT_CHANNELS[arch], n_classes=len(WRECK_WORLD.kinds))

    def recipe(progress: bool = True):
        tc = ClassifierTrainConfig(steps=OBJECT_STEPS[arch], batch_size=64, lr=3e-3, weight_decay=1e-4, seed=seed)
        seed_everything(seed)
        return train_classifier(build_zoo_net(arch, cfg), wreck_batch, tc, progress)

    register(ZooEntry(
        name=name,
        description=f"{DESCRIPTIONS[arch]} on the arrangement world (larger objects + the upside-down car): "
                    f"which object (10 kinds), seed {seed}",
        build=lambda: build_zoo_net(arch, cfg),
        recipe=recipe,
        family="vision",
        info={"arch": arch, "seed": seed, "task": "object",
              "world": "ObjectWorldConfig(scale=(0.55, 0.85), kinds=OBJECT_KINDS + ('wreck',))",
              "train": f"AdamW + OneCycle, {OBJECT_STEPS[arch]} steps of 64 fresh scenes, lr 3e-3, one thread",
              "layers": ("layer1", "layer2", "layer3", "layer4"),
              "composition_read": dict(COMPOSITION_READ),
              **ARRANGEMENT_MEASURED.get(name, {})},
    ))


_register_arrangement("vgg", 1)
