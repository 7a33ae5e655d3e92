"""Untrained controls: the zoo's architectures with random weights, the baseline beside a finding.

A claim about what training made (a curve family, a shared representation, a stitch) is stated
as its difference from the same architecture untrained. :func:`untrained` rebuilds the
architecture of a zoo entry; :func:`untrained_twin` builds an object-world architecture by name
(``"vgg"``, ``"resnet"``, ``"plainnet"``), as the curve census of lessons 3 and 4 uses it. Both
seed the initialisation and restore the global torch generator afterwards.

Examples:
    >>> untrained("plainnet_objects_s0", seed=1).training
    False
"""

from __future__ import annotations

import torch
from torch import nn

from ..vision.architectures import ZooCNN, ZooNetConfig, build_zoo_net

__all__ = ["untrained", "untrained_twin"]


def untrained(name: str, seed: int = 0, device: torch.device | str = "cpu") -> nn.Module:
    """The architecture of zoo net ``name`` with random weights (initialised after ``torch.manual_seed(seed)``).

    Args:
        name: A zoo name, e.g. ``"plainnet_objects_s0"``; only its architecture is used.
        seed: Seed of the initialisation (the global torch generator is restored afterwards).
        device: Device of the returned net.

    Returns:
        The net in eval mode.
    """
    from .registry import build

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build(name)
    return net.to(device).eval()


def untrained_twin(arch: str, seed: int, cfg: ZooNetConfig | None = None) -> ZooCNN:
    """An untrained zoo net of ``arch`` whose initial weights come from ``torch.manual_seed(seed)``, in eval mode.

    The census's control: same architecture and widths as the trained nets (default: the object
    world's widths of ``arch``), no training. The global RNG state is restored afterwards.

    Examples:
        >>> a, b = untrained_twin("plainnet", 1), untrained_twin("plainnet", 1)
        >>> torch.equal(next(a.parameters()), next(b.parameters()))
        True
    """
    if cfg is None:
        from .entries.objects import object_net_config
        cfg = object_net_config(arch)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return build_zoo_net(arch, cfg).eval()
    finally:
        torch.random.set_rng_state(state)
