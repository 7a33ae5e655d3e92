"""Linear probes and mass-mean probes: what a layer makes linearly readable.

A probe reads a concept from activations. Conv activations are first pooled to
one vector per image (``mi_tutor.hooks.pool(acts, "mean")``: the spatial mean of
every channel, so a probe cannot read the position of a pixel it was handed directly).

* :func:`mass_mean_probe`: the direction from the mean of the negatives to the
  mean of the positives; classify by the side of the midpoint (no training).
* :func:`train_linear_probe`: multinomial logistic regression, full batch, from
  zero weights (so it is deterministic), on standardised features.

Examples:
    >>> x = torch.randn(200, 5); y = (x[:, 0] > 0).long()
    >>> probe = train_linear_probe(x, y, n_classes=2, steps=100)
    >>> probe_accuracy(probe, x, y) > 0.9
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..hooks import collect
from ..validation import check_tensor

__all__ = ["mass_mean_probe", "mass_mean_predict", "LinearProbe", "train_linear_probe",
           "probe_accuracy", "probe_layers"]


def mass_mean_probe(acts: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mass-mean probe of a binary concept.

    Args:
        acts: ``[n, d]`` features.
        labels: ``[n]`` bools or 0/1 ints (1 = the concept is present).

    Returns:
        ``(direction [d], bias [])`` with ``direction = mean(pos) - mean(neg)``
        and ``bias = -direction . (mean(pos) + mean(neg)) / 2``, so that
        ``acts @ direction + bias > 0`` predicts the concept.

    Examples:
        >>> d, b = mass_mean_probe(torch.tensor([[0., 0.], [2., 0.]]), torch.tensor([0, 1]))
        >>> d.tolist(), b.item()
        ([2.0, 0.0], -2.0)
    """
    dims = check_tensor("acts", acts, ("n", "d"), floating=True)
    check_tensor("labels", labels, ("n",), dims=dims)
    positive = labels.bool()
    if positive.all() or not positive.any():
        raise ValueError("`labels` must contain both classes (some 1 and some 0)")
    mu_pos, mu_neg = acts[positive].mean(0), acts[~positive].mean(0)
    direction = mu_pos - mu_neg
    return direction, -(direction * (mu_pos + mu_neg) / 2).sum()


def mass_mean_predict(acts: torch.Tensor, direction: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``[n]`` bool predictions of a mass-mean probe."""
    return acts @ direction + bias > 0


@dataclass
class LinearProbe:
    """A trained multinomial logistic-regression probe.

    Attributes:
        weight: ``[n_classes, d]`` on standardised features.
        bias: ``[n_classes]``.
        mean: ``[d]`` feature means used to standardise.
        std: ``[d]`` feature standard deviations used to standardise.
    """

    weight: torch.Tensor
    bias: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    def logits(self, acts: torch.Tensor) -> torch.Tensor:
        """``[n, d]`` -> ``[n, n_classes]``."""
        return ((acts - self.mean) / self.std) @ self.weight.T + self.bias

    def direction(self, cls: int) -> torch.Tensor:
        """The probe's direction for class ``cls`` in the raw activation space ``[d]``."""
        return self.weight[cls] / self.std


def train_linear_probe(acts: torch.Tensor, labels: torch.Tensor, n_classes: int | None = None,
                       steps: int = 200, lr: float = 0.1, weight_decay: float = 1e-3) -> LinearProbe:
    """Fit a multinomial logistic-regression probe with full-batch Adam from zero weights.

    Args:
        acts: ``[n, d]`` features.
        labels: ``[n]`` class indices.
        n_classes: Number of classes (default ``labels.max() + 1``).
        steps: Adam steps.
        lr: Adam learning rate.
        weight_decay: L2 penalty on the weights (added to the loss).

    Returns:
        A :class:`LinearProbe` on the device of ``acts``.
    """
    dims = check_tensor("acts", acts, ("n", "d"), floating=True)
    check_tensor("labels", labels, ("n",), dims=dims, dtype=(torch.int64, torch.int32))
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    mean, std = acts.mean(0), acts.std(0).clamp_min(1e-6)
    x = (acts - mean) / std
    weight = torch.zeros(n_classes, acts.shape[1], device=acts.device, requires_grad=True)
    bias = torch.zeros(n_classes, device=acts.device, requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            loss = F.cross_entropy(x @ weight.T + bias, labels.long()) + weight_decay * (weight**2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return LinearProbe(weight.detach(), bias.detach(), mean, std)


def probe_accuracy(probe: LinearProbe, acts: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``acts`` ``[n, d]`` whose argmax logit is the label."""
    return (probe.logits(acts).argmax(-1) == labels).float().mean().item()


def probe_layers(model: nn.Module, train_images: torch.Tensor, train_labels: torch.Tensor,
                 test_images: torch.Tensor, test_labels: torch.Tensor,
                 layers: Sequence[str] = ("input", "layer1", "layer2", "layer3"),
                 n_classes: int | None = None, steps: int = 200) -> dict[str, float]:
    """Held-out accuracy of a linear probe on the pooled activations of every layer.

    Returns:
        Layer name -> test accuracy, in the order of ``layers``.
    """
    train = collect(model, train_images, layers, pool="mean")
    test = collect(model, test_images, layers, pool="mean")
    result = {}
    for name in layers:
        probe = train_linear_probe(train[name], train_labels, n_classes, steps=steps)
        result[name] = probe_accuracy(probe, test[name], test_labels)
    return result
