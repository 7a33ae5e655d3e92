"""Curve-world classifiers (lessons 2, 3, 4, 7, 12) and the optional ImageNet models.

Task: 9-way classification of curve-world images (``mi_tutor.vision.curves``):
the orientation bin (8 bins of 45 degrees) of a thin arc, or "line" when the
image has only a straight line. Distractor lines, small filled shapes, colours
and background textures vary, so the nets must tell arcs from lines and read
their orientation: they grow oriented edge detectors in ``layer1`` and
curve detectors (``mi_tutor.vision.tuning.find_curve_family``) in ``layer3``
(and some in ``layer2``).
"""

from __future__ import annotations

from ...vision.architectures import ARCHITECTURES, CurveNetConfig, build_curve_net
from ...vision.curves import CurveWorldConfig, render_world
from ...vision.pretrained import load_pretrained
from ...vision.train import TrainConfig, train_classifier
from ..registry import ZooEntry, register

__all__ = ["CURVE_WORLD", "CURVE_TRAIN", "CURVE_MODELS", "curve_model_name", "curve_batch"]

CURVE_WORLD = CurveWorldConfig()
CURVE_TRAIN = TrainConfig(steps=1500, batch_size=64, lr=3e-3, weight_decay=1e-4)
SEEDS: dict[str, tuple[int, ...]] = {"plainnet": (0, 1), "resnet": (0, 1), "vgg": (0, 1)}
DESCRIPTIONS = {
    "plainnet": "plain conv-BN-ReLU net (5x5, 5x5, 3x3; 16-32-64 ch)",
    "resnet": "ResNet-style net (5x5 stem + torchvision BasicBlocks; 16-32-64 ch)",
    "vgg": "VGG-style net (two 3x3 conv-BN-ReLU per stage; 16-32-64 ch)",
}
CURVE_MODELS: list[str] = []

# Measured after training (recipe on a shared 2-core CPU; 2,000 held-out images of seed 10**9).
# family = (curve units, distinct 45-degree bins, largest gap in degrees) measured with the first
# tuning code (spatial-max responses, no minimum separation; since replaced by
# ``mi_tutor.vision.tuning``): arc >= 2x the line of the same orientation and >= 1.5x the unit's
# mean arc response over orientations. tests/test_zoo_vision.py checks the family of layer3 with
# today's ``tuning_map`` + ``find_curve_family`` (centre responses, members >= 20 degrees apart).
MEASURED: dict[str, dict] = {
    "plainnet_curves_s0": {"accuracy": 0.884, "train_s": 122, "family_layer2": (10, 6, 120), "family_layer3": (50, 8, 30)},
    "plainnet_curves_s1": {"accuracy": 0.890, "train_s": 123, "family_layer2": (10, 7, 60), "family_layer3": (49, 8, 45)},
    "resnet_curves_s0": {"accuracy": 0.928, "train_s": 460, "family_layer2": (10, 7, 90), "family_layer3": (58, 8, 45)},
    "resnet_curves_s1": {"accuracy": 0.937, "train_s": 452, "family_layer2": (12, 5, 150), "family_layer3": (56, 8, 45)},
    "vgg_curves_s0": {"accuracy": 0.931, "train_s": 284, "family_layer2": (16, 8, 60), "family_layer3": (55, 8, 30)},
    "vgg_curves_s1": {"accuracy": 0.940, "train_s": 277, "family_layer2": (13, 7, 90), "family_layer3": (54, 8, 30)},
}


def curve_model_name(arch: str, seed: int) -> str:
    """Zoo name of a curve-world model, e.g. ``resnet_curves_s1``."""
    return f"{arch}_curves_s{seed}"


def curve_batch(n: int, seed: int):
    """``(images, labels)`` of a training batch (the recipes' data stream)."""
    batch = render_world(n, seed=seed, config=CURVE_WORLD)
    return batch.images, batch.labels


def _recipe(arch: str, seed: int):
    def recipe(progress: bool = True):
        cfg = TrainConfig(**{**CURVE_TRAIN.__dict__, "seed": seed})
        return train_classifier(build_curve_net(arch, CurveNetConfig()), curve_batch, cfg, progress)
    return recipe


for _arch in ARCHITECTURES:
    for _seed in SEEDS[_arch]:
        _name = curve_model_name(_arch, _seed)
        CURVE_MODELS.append(_name)
        register(ZooEntry(
            name=_name,
            description=f"{DESCRIPTIONS[_arch]} classifying curve orientation (8 bins + line), seed {_seed}",
            build=lambda a=_arch: build_curve_net(a, CurveNetConfig()),
            recipe=_recipe(_arch, _seed),
            family="vision",
            info={"arch": _arch, "seed": _seed, "world": "CurveWorldConfig()", "task": "curve orientation bin / line",
                  "train": "AdamW + OneCycle, 1500 steps of 64 fresh images, lr 3e-3",
                  "layers": ("layer1", "layer2", "layer3"),
                  "curve_layer": "layer3",
                  "what_worked": "thin arcs vs straight-line distractors, 8 orientation bins + line, textured "
                                 "backgrounds; batch norm was needed (the plain net without it did not train)",
                  **MEASURED.get(_name, {})},
        ))


def _not_trainable(progress: bool = True):
    raise RuntimeError("googlenet_imagenet is torchvision's ImageNet GoogLeNet: it is loaded from a local "
                       "weights file, not trained by mi-tutor (see mi_tutor.vision.pretrained)")


_googlenet = ZooEntry(
    name="googlenet_imagenet",
    description="torchvision GoogLeNet (InceptionV1) with ImageNet weights from a local file (optional)",
    build=lambda: load_pretrained("googlenet"),
    recipe=_not_trainable,
    family="vision-pretrained",
    info={"source": "torchvision", "weights": "local file only; see mi_tutor.vision.pretrained"},
)
_googlenet.loader = lambda: load_pretrained("googlenet")  # zoo.load calls it instead of reading shipped weights
register(_googlenet)
