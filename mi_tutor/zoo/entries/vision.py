"""The optional ImageNet model: torchvision's GoogLeNet (InceptionV1), the net of the Circuits papers.

Its weights are never downloaded: :func:`mi_tutor.vision.pretrained.load_pretrained` reads a local
file (``MI_TUTOR_GOOGLENET_WEIGHTS``). The course's own vision nets are in
:mod:`mi_tutor.zoo.entries.objects`.
"""

from __future__ import annotations

from ...vision.pretrained import load_pretrained
from ..registry import ZooEntry, register

__all__: list[str] = []


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
