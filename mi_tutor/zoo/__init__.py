"""The course's model zoo: ``available()`` lists it, ``load(name)`` returns a trained model.

Examples:
    >>> from mi_tutor import zoo
    >>> model = zoo.load("convnet_shapes_s0", device="cpu")
    >>> isinstance(zoo.info("convnet_shapes_s0"), dict)   # the entry's recorded facts
    True
"""

from .registry import WEIGHTS_DIR, ZooEntry, available, info, load, register, train, weights_path

__all__ = ["WEIGHTS_DIR", "ZooEntry", "available", "info", "load", "register", "train", "weights_path"]
