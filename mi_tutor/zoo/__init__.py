"""The course's model zoo: ``available()`` lists it, ``load(name)`` returns a trained model.

Every lesson loads its models here; nothing is downloaded: the weights ship with the package and
each entry's recipe retrains them (``mi-tutor zoo train NAME``).

Examples:
    >>> from mi_tutor import zoo
    >>> model = zoo.load("convnet_shapes_s0", device="cpu")
    >>> isinstance(zoo.info("convnet_shapes_s0"), dict)   # the entry's recorded facts
    True

A model's other files have one door each: ``zoo.snapshots(name)`` (weights saved along its
training, a :class:`Snapshots`) and ``zoo.extras(name)`` (e.g. the key covariances of ``facts_4l``).
"""

from .controls import untrained, untrained_twin
from .registry import (WEIGHTS_DIR, Snapshots, ZooEntry, available, build, extras, info, load, register, snapshots,
                       train, weights_path)

__all__ = ["untrained", "untrained_twin", "WEIGHTS_DIR", "Snapshots", "ZooEntry", "available", "build", "extras", "info", "load", "register",
           "snapshots", "train", "weights_path"]
