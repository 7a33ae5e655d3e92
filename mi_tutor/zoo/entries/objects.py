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
(:mod:`mi_tutor.vision.findings`) are in each entry's ``info`` (and in
``site/api/vision_findings.md``).
"""

from __future__ import annotations

from ...device import seed_everything
from ...vision.architectures import ZooNetConfig, build_zoo_net
from ...vision.objects import OBJECT_KINDS, ObjectWorldConfig, object_names, render_objects
from ...vision.train import ClassifierTrainConfig, train_classifier
from ..registry import ZooEntry, register

__all__ = ["OBJECT_WORLD", "COUNT_WORLD", "WRECK_WORLD", "OBJECT_MODELS", "ARRANGEMENT_MODELS",
           "ARRANGEMENT_MEASURED", "OBJECT_CHANNELS", "OBJECT_STEPS", "object_batch", "count_batch", "wreck_batch",
           "object_net_config", "COMPOSITION_READ"]

OBJECT_WORLD = ObjectWorldConfig()
COUNT_WORLD = ObjectWorldConfig(task="count")
#: The arrangement world: objects 1.8x larger (half-size 0.55-0.85 of the half-image, so the car's wheels
#: sit about one 8-px tap of ``layer4`` below its centre and its windows one tap above) and a tenth kind,
#: ``wreck``, the car upside down: the same parts, which only their arrangement tells from the car.
WRECK_WORLD = ObjectWorldConfig(scale=(0.55, 0.85), kinds=OBJECT_KINDS + ("wreck",))
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
# Measured after training: accuracy on 2,000 held-out scenes (seed 10**9); train_s is wall time on the
# shared 2-core CPU (load 6-10: the first two nets ran while the machine was ~8x oversubscribed), train_cpu_s
# the CPU time of the training process (not recorded for the first two). Findings per stage from
# ``mi_tutor.vision.findings.measure_findings(net)`` (seed 2024, 512 scenes):
#   curve_family_layerK = (curve units with >= 2x curve over line, largest gap in degrees) over 16 orientations;
#   circle_units_from_layerK = next-stage units whose weights from that family follow a circle;
#   composition_layerK = car unit in the next stage with wheel weights + below / - above and window - below / + above;
#   pose_layerK = ((pose index of the left unit, of the right unit), invariant unit's pose index,
#                  (weights from left, from right), both positive);
#   polysemantic_layerK = units whose two best unrelated kinds both score >= 1.5 sd;
#   high_low_layerK = units >= 2x more on a sharp/blurred boundary than on all-sharp or all-blurred noise.
MEASURED: dict[str, dict] = {'plainnet_objects_s0': {'accuracy': 0.962,
                         'train_s': 1607,
                         'train_cpu_s': None,
                         'curve_family_layer1': (0, 360),
                         'composition_layer1': False,
                         'pose_layer1': ((0.021, -0.037), -0.106, (0.6666, -0.0315), False),
                         'polysemantic_layer1': 0,
                         'high_low_layer1': 0,
                         'curve_family_layer2': (4, 182),
                         'circle_units_from_layer2': 0,
                         'composition_layer2': False,
                         'pose_layer2': ((0.023, -0.106), -0.101, (-0.1921, 0.2859), False),
                         'polysemantic_layer2': 3,
                         'high_low_layer2': 5,
                         'curve_family_layer3': (17, 61),
                         'circle_units_from_layer3': 0,
                         'composition_layer3': False,
                         'pose_layer3': ((0.108, -0.101), -0.048, (-0.2545, 2.4893), False),
                         'polysemantic_layer3': 17,
                         'high_low_layer3': 25,
                         'curve_family_layer4': (19, 153),
                         'polysemantic_layer4': 51,
                         'high_low_layer4': 23},
 'plainnet_objects_s1': {'accuracy': 0.964,
                         'train_s': 365,
                         'train_cpu_s': 240,
                         'curve_family_layer1': (0, 360),
                         'composition_layer1': False,
                         'pose_layer1': ((0.034, -0.042), -0.021, (-0.0285, -0.4678), False),
                         'polysemantic_layer1': 0,
                         'high_low_layer1': 1,
                         'curve_family_layer2': (3, 255),
                         'circle_units_from_layer2': 0,
                         'composition_layer2': False,
                         'pose_layer2': ((0.02, -0.042), -0.068, (0.1995, -0.0108), False),
                         'polysemantic_layer2': 3,
                         'high_low_layer2': 6,
                         'curve_family_layer3': (20, 70),
                         'circle_units_from_layer3': 0,
                         'composition_layer3': False,
                         'pose_layer3': ((0.116, -0.172), 0.009, (0.8312, -0.3401), False),
                         'polysemantic_layer3': 11,
                         'high_low_layer3': 20,
                         'curve_family_layer4': (16, 112),
                         'polysemantic_layer4': 54,
                         'high_low_layer4': 25},
 'plainnet_objects_s2': {'accuracy': 0.96,
                         'train_s': 346,
                         'train_cpu_s': 226,
                         'curve_family_layer1': (0, 360),
                         'composition_layer1': False,
                         'pose_layer1': ((0.023, -0.037), -0.048, (-0.3373, -0.3773), False),
                         'polysemantic_layer1': 0,
                         'high_low_layer1': 1,
                         'curve_family_layer2': (4, 347),
                         'circle_units_from_layer2': 0,
                         'composition_layer2': False,
                         'pose_layer2': ((0.017, -0.069), -0.045, (0.0274, 0.0283), True),
                         'polysemantic_layer2': 3,
                         'high_low_layer2': 9,
                         'curve_family_layer3': (20, 76),
                         'circle_units_from_layer3': 0,
                         'composition_layer3': False,
                         'pose_layer3': ((0.086, -0.125), 0.052, (-0.7801, -0.0992), False),
                         'polysemantic_layer3': 7,
                         'high_low_layer3': 26,
                         'curve_family_layer4': (16, 112),
                         'polysemantic_layer4': 50,
                         'high_low_layer4': 10},
 'resnet_objects_s0': {'accuracy': 0.945,
                       'train_s': 1856,
                       'train_cpu_s': None,
                       'curve_family_layer1': (1, 360),
                       'composition_layer1': False,
                       'pose_layer1': ((0.038, -0.051), -0.016, (0.6632, -0.0763), False),
                       'polysemantic_layer1': 0,
                       'high_low_layer1': 1,
                       'curve_family_layer2': (1, 360),
                       'composition_layer2': False,
                       'pose_layer2': ((0.004, -0.026), 0.015, (-0.0852, -0.1761), False),
                       'polysemantic_layer2': 2,
                       'high_low_layer2': 1,
                       'curve_family_layer3': (22, 52),
                       'circle_units_from_layer3': 0,
                       'composition_layer3': False,
                       'pose_layer3': ((0.168, -0.09), -0.067, (0.6428, 0.1212), True),
                       'polysemantic_layer3': 8,
                       'high_low_layer3': 10,
                       'curve_family_layer4': (13, 72),
                       'polysemantic_layer4': 51,
                       'high_low_layer4': 11},
 'resnet_objects_s1': {'accuracy': 0.953,
                       'train_s': 403,
                       'train_cpu_s': 270,
                       'curve_family_layer1': (0, 360),
                       'composition_layer1': False,
                       'pose_layer1': ((0.039, -0.043), -0.002, (-0.2675, -0.0931), False),
                       'polysemantic_layer1': 0,
                       'high_low_layer1': 0,
                       'curve_family_layer2': (5, 189),
                       'circle_units_from_layer2': 0,
                       'composition_layer2': False,
                       'pose_layer2': ((0.02, -0.021), -0.03, (0.0287, -1.5813), False),
                       'polysemantic_layer2': 3,
                       'high_low_layer2': 1,
                       'curve_family_layer3': (23, 57),
                       'circle_units_from_layer3': 1,
                       'composition_layer3': False,
                       'pose_layer3': ((0.186, -0.118), 0.101, (0.083, -0.3429), False),
                       'polysemantic_layer3': 8,
                       'high_low_layer3': 4,
                       'curve_family_layer4': (18, 118),
                       'polysemantic_layer4': 52,
                       'high_low_layer4': 17},
 'resnet_objects_s2': {'accuracy': 0.933,
                       'train_s': 383,
                       'train_cpu_s': 255,
                       'curve_family_layer1': (1, 360),
                       'composition_layer1': False,
                       'pose_layer1': ((0.023, -0.033), -0.0, (0.5762, -0.4322), False),
                       'polysemantic_layer1': 0,
                       'high_low_layer1': 1,
                       'curve_family_layer2': (2, 340),
                       'circle_units_from_layer2': 0,
                       'composition_layer2': False,
                       'pose_layer2': ((0.026, -0.061), -0.06, (0.0014, 0.0081), True),
                       'polysemantic_layer2': 2,
                       'high_low_layer2': 2,
                       'curve_family_layer3': (29, 41),
                       'circle_units_from_layer3': 0,
                       'composition_layer3': False,
                       'pose_layer3': ((0.209, -0.259), -0.026, (-0.091, 0.0795), False),
                       'polysemantic_layer3': 5,
                       'high_low_layer3': 12,
                       'curve_family_layer4': (7, 162),
                       'polysemantic_layer4': 58,
                       'high_low_layer4': 8},
 'vgg_objects_s0': {'accuracy': 0.985,
                    'train_s': 651,
                    'train_cpu_s': 217,
                    'curve_family_layer1': (1, 360),
                    'composition_layer1': False,
                    'pose_layer1': ((0.01, -0.034), 0.005, (-0.121, -0.1371), False),
                    'polysemantic_layer1': 0,
                    'high_low_layer1': 0,
                    'curve_family_layer2': (8, 96),
                    'circle_units_from_layer2': 1,
                    'composition_layer2': False,
                    'pose_layer2': ((0.051, -0.075), -0.026, (-0.1319, -0.5483), False),
                    'polysemantic_layer2': 2,
                    'high_low_layer2': 6,
                    'curve_family_layer3': (25, 44),
                    'circle_units_from_layer3': 0,
                    'composition_layer3': False,
                    'pose_layer3': ((0.381, -0.384), -0.091, (-0.0241, 0.5397), False),
                    'polysemantic_layer3': 10,
                    'high_low_layer3': 25,
                    'curve_family_layer4': (14, 150),
                    'polysemantic_layer4': 49,
                    'high_low_layer4': 21},
 'vgg_objects_s1': {'accuracy': 0.988,
                    'train_s': 303,
                    'train_cpu_s': 195,
                    'curve_family_layer1': (1, 360),
                    'composition_layer1': False,
                    'pose_layer1': ((0.006, -0.029), -0.004, (-0.4355, 0.4134), False),
                    'polysemantic_layer1': 0,
                    'high_low_layer1': 0,
                    'curve_family_layer2': (7, 95),
                    'circle_units_from_layer2': 0,
                    'composition_layer2': False,
                    'pose_layer2': ((0.041, -0.145), -0.045, (-0.2989, -0.5241), False),
                    'polysemantic_layer2': 0,
                    'high_low_layer2': 4,
                    'curve_family_layer3': (31, 32),
                    'circle_units_from_layer3': 0,
                    'composition_layer3': False,
                    'pose_layer3': ((0.2, -0.145), 0.011, (0.388, 0.3285), True),
                    'polysemantic_layer3': 12,
                    'high_low_layer3': 19,
                    'curve_family_layer4': (34, 122),
                    'polysemantic_layer4': 46,
                    'high_low_layer4': 15},
 'vgg_objects_s2': {'accuracy': 0.988,
                    'train_s': 224,
                    'train_cpu_s': 201,
                    'curve_family_layer1': (0, 360),
                    'composition_layer1': False,
                    'pose_layer1': ((0.001, -0.043), -0.036, (0.0976, -0.1631), False),
                    'polysemantic_layer1': 0,
                    'high_low_layer1': 1,
                    'curve_family_layer2': (5, 146),
                    'circle_units_from_layer2': 0,
                    'composition_layer2': False,
                    'pose_layer2': ((0.019, -0.051), -0.016, (0.157, 0.4863), True),
                    'polysemantic_layer2': 2,
                    'high_low_layer2': 1,
                    'curve_family_layer3': (27, 55),
                    'circle_units_from_layer3': 0,
                    'composition_layer3': False,
                    'pose_layer3': ((0.203, -0.292), -0.088, (0.3548, 0.4665), True),
                    'polysemantic_layer3': 9,
                    'high_low_layer3': 23,
                    'curve_family_layer4': (27, 117),
                    'polysemantic_layer4': 49,
                    'high_low_layer4': 23},
 'plainnet_count_s0': {'accuracy': 0.97,
                       'train_s': 601,
                       'train_cpu_s': 343,
                       'curve_family_layer1': (0, 360),
                       'composition_layer1': False,
                       'pose_layer1': ((0.05, -0.049), -0.001, (0.6551, -0.0784), False),
                       'polysemantic_layer1': 0,
                       'high_low_layer1': 1,
                       'curve_family_layer2': (17, 75),
                       'circle_units_from_layer2': 0,
                       'composition_layer2': False,
                       'pose_layer2': ((0.036, -0.061), 0.006, (0.0169, 0.0529), True),
                       'polysemantic_layer2': 5,
                       'high_low_layer2': 6,
                       'curve_family_layer3': (38, 47),
                       'circle_units_from_layer3': 0,
                       'composition_layer3': False,
                       'pose_layer3': ((0.103, -0.12), 0.003, (0.7441, 0.6059), True),
                       'polysemantic_layer3': 6,
                       'high_low_layer3': 24,
                       'curve_family_layer4': (33, 113),
                       'polysemantic_layer4': 18,
                       'high_low_layer4': 20}}

WHAT_FAILED = (
    "plain nets: a curve family in layer3 (17-20 units) but gaps of 61-76 deg (the VGG, ResNet and counting nets "
    "close the circle); one cosmetic style of probe arcs gave noisy gaps (42-113 deg for one net across styles), "
    "hence the average over 16 styles; circle units read from the weights grew in one net of ten (one unit), no car unit with wheel "
    "weights below and window weights above with any reading (first conv or expanded stage weights; larger objects "
    "alone did not grow it either: the default task does not need the parts' arrangement, see vgg_wreck_s1); "
    "pose units exist but prefer their side only 1.2-1.8x"
)
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
#: ``bench/objects_variants.py`` (accuracy on 2,000 held-out scenes, seed 10**9).
ARRANGEMENT_MEASURED: dict[str, dict] = {
    "vgg_wreck_s1": {
        "accuracy": 0.9965, "train_s": 570, "train_cpu_s": 215,
        "composition_holds": True,          # at all three scene seeds
        "car_unit": 37, "car_score": 0.874,  # z-scored: cars vs the kind it fires on most after cars
        "part_units": (16, 37),             # layer3 wheel unit, window unit
        "wheel_bottom_top": (0.0636, -0.0498), "window_bottom_top": (-0.0677, 0.0336),
        "vertical_corr": -0.657,            # -0.667, -0.645 at the other seeds; permutation p < 0.002
        "units_with_pattern": 2,            # of 64 layer4 units, with the same two part units
        "curve_family_layer3": (19, 80),    # partial in this world (the default-world VGG nets: 25-31 / 32-55 deg)
        "circle_units_from_layer3": 0,
        "other_seeds": "vgg seed 0: r = -0.55 but the wheel's top weight is positive (+0.059); seed 2: r = +0.21",
    },
}


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
