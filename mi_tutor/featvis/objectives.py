"""Composable feature-visualization objectives (lucid style, but as losses to minimise).

An :class:`Objective` maps the activations recorded in a forward pass to a
scalar **loss**; the render loop minimises it. Objectives add (``a + b``),
subtract, and scale (``2 * a``), so a channel objective plus a diversity
penalty is ``channel("layer2", 5) + 0.5 * diversity("layer2")``.

Examples:
    >>> obj = channel("layer2", 3) - 0.1 * channel("layer2", 4)
    >>> obj.layers
    ('layer2',)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from ..validation import check_range, check_tensor

__all__ = ["Objective", "channel_loss", "neuron_loss", "direction_loss", "diversity_loss",
           "channel", "channels", "neuron", "direction", "diversity", "deepdream"]

LossFn = Callable[[Mapping[str, torch.Tensor]], torch.Tensor]


class Objective:
    """A named loss on cached activations: ``objective(cache) -> scalar``.

    Attributes:
        fn: ``fn(cache) -> loss`` where ``cache[layer]`` is ``[batch, C, h, w]``.
        layers: Layer names the loss reads (the render loop records these).
        name: Shown in progress bars and figure titles.
    """

    def __init__(self, fn: LossFn, layers: tuple[str, ...], name: str):
        self.fn, self.layers, self.name = fn, tuple(dict.fromkeys(layers)), name

    def __call__(self, cache: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.fn(cache)

    def __add__(self, other: "Objective") -> "Objective":
        return Objective(lambda c: self(c) + other(c), self.layers + other.layers, f"{self.name} + {other.name}")

    def __sub__(self, other: "Objective") -> "Objective":
        return self + (-1.0) * other

    def __mul__(self, scale: float) -> "Objective":
        return Objective(lambda c: scale * self(c), self.layers, f"{scale:g}*{self.name}")

    __rmul__ = __mul__

    def __neg__(self) -> "Objective":
        return (-1.0) * self

    def __repr__(self) -> str:
        return f"Objective({self.name})"


def _check_unit(acts: torch.Tensor, unit: int) -> None:
    check_tensor("acts", acts, ("batch", "channels", "h", "w"), floating=True)
    check_range("unit", unit, 0, acts.shape[1] - 1)


def channel_loss(acts: torch.Tensor, unit: int) -> torch.Tensor:
    """Minus the mean activation of channel ``unit`` over batch and positions.

    Args:
        acts: ``[batch, channels, h, w]``.
        unit: Channel index.

    Returns:
        A scalar tensor.

    Examples:
        >>> channel_loss(torch.ones(2, 3, 4, 4), 1).item()
        -1.0
    """
    _check_unit(acts, unit)
    return -acts[:, unit].mean()


def neuron_loss(acts: torch.Tensor, unit: int, x: int | None = None, y: int | None = None) -> torch.Tensor:
    """Minus the activation of ``unit`` at one position (the centre by default), batch-averaged."""
    _check_unit(acts, unit)
    h, w = acts.shape[-2:]
    y = h // 2 if y is None else y
    x = w // 2 if x is None else x
    return -acts[:, unit, y, x].mean()


def direction_loss(acts: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    """Minus the mean projection of every position's channel vector on ``vector`` (normalised)."""
    dims = check_tensor("acts", acts, ("batch", "channels", "h", "w"), floating=True)
    check_tensor("vector", vector, ("channels",), dims=dims, floating=True)
    unit = vector.to(acts) / vector.norm().clamp_min(1e-12)
    return -torch.einsum("bchw,c->bhw", acts, unit).mean()


def diversity_loss(acts: torch.Tensor) -> torch.Tensor:
    """Mean pairwise cosine similarity of the images' Gram matrices (a penalty).

    ``G_i = A_i A_i^T`` with ``A_i`` the ``[channels, h*w]`` map of image ``i``;
    the loss is ``sum_{i != j} cos(G_i, G_j) / batch``. Minimising it pushes the
    images of a batch to excite the layer in different styles.

    Args:
        acts: ``[batch, channels, h, w]`` with ``batch >= 2``.

    Returns:
        A scalar tensor.

    Examples:
        >>> round(diversity_loss(torch.ones(3, 2, 4, 4)).item(), 4)
        2.0
    """
    check_tensor("acts", acts, ("batch", "channels", "h", "w"), floating=True)
    b = acts.shape[0]
    if b < 2:
        raise ValueError("`acts` needs a batch of at least 2 images for a diversity loss")
    flat = acts.flatten(2)
    grams = torch.einsum("bcp,bdp->bcd", flat, flat).flatten(1)
    grams = grams / grams.norm(dim=1, keepdim=True).clamp_min(1e-12)
    sims = grams @ grams.T
    return (sims.sum() - sims.diagonal().sum()) / b


def channel(layer: str, unit: int) -> Objective:
    """Maximise channel ``unit`` of ``layer`` (mean over positions)."""
    return Objective(lambda c: channel_loss(c[layer], unit), (layer,), f"{layer}:{unit}")


def channels(layer: str, units: list[int],
             loss_fn: Callable[[torch.Tensor, int], torch.Tensor] | None = None) -> Objective:
    """Image ``i`` of the batch maximises channel ``units[i]``: many units in one render.

    Args:
        layer: Module name.
        units: One channel per image of the batch.
        loss_fn: ``loss_fn(acts [1, channels, h, w], unit) -> scalar``, the channel
            objective of one image; the loss is its mean over the batch (lesson 3
            passes the student's ``channel_loss``). ``None``: :func:`channel_loss`'s
            formula on the whole batch at once (the same number).

    Examples:
        >>> obj = channels("layer3", [0, 5])
        >>> obj({"layer3": torch.ones(2, 8, 2, 2)}).item()
        -1.0
        >>> channels("layer3", [0, 5], loss_fn=channel_loss)({"layer3": torch.ones(2, 8, 2, 2)}).item()
        -1.0
    """
    def fn(cache: Mapping[str, torch.Tensor]) -> torch.Tensor:
        acts = cache[layer]
        if acts.shape[0] != len(units):
            raise ValueError(f"`channels` got {len(units)} units but a batch of {acts.shape[0]} images: "
                             "render with batch=len(units)")
        for u in units:
            check_range("unit", u, 0, acts.shape[1] - 1)
        if loss_fn is not None:
            return torch.stack([loss_fn(acts[i:i + 1], u) for i, u in enumerate(units)]).mean()
        return -acts[torch.arange(len(units)), torch.tensor(units)].mean()
    return Objective(fn, (layer,), f"{layer}:{units}")


def neuron(layer: str, unit: int, x: int | None = None, y: int | None = None) -> Objective:
    """Maximise ``unit`` of ``layer`` at one position (the centre by default)."""
    return Objective(lambda c: neuron_loss(c[layer], unit, x, y), (layer,), f"{layer}:{unit}@centre")


def direction(layer: str, vector: torch.Tensor) -> Objective:
    """Maximise the projection of ``layer``'s activations on ``vector``."""
    return Objective(lambda c: direction_loss(c[layer], vector), (layer,), f"{layer}:direction")


def diversity(layer: str) -> Objective:
    """Penalise similar Gram matrices of ``layer`` across the batch."""
    return Objective(lambda c: diversity_loss(c[layer]), (layer,), f"diversity({layer})")


def deepdream(layer: str) -> Objective:
    """DeepDream: maximise the mean squared activation of the whole layer."""
    return Objective(lambda c: -(c[layer] ** 2).mean(), (layer,), f"deepdream({layer})")
