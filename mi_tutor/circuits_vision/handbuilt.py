"""A curve detector built by hand from the network's own edge units.

The last line of evidence for curve detectors: if we understand how they are
computed, we can write the weights ourselves. The recipe is the one the learned
weights suggest: a curve unit adds up lower-level **edge units** whose
orientation matches the curve's tangent, at the positions where the curve
passes with that tangent, and is inhibited by edges that run across it.

1. :func:`find_edge_units` measures the orientation of every unit of an early
   layer with straight lines (orientations are axial: a line at ``t`` and at
   ``t + pi`` look the same).
2. :func:`handbuilt_curve_weights` writes a kernel from those orientations and
   the geometry of the wanted arc (:func:`~.weights.arc_normal_field`).
3. :class:`HandBuiltCurveDetector` applies the kernels to the edge units'
   activations, followed by a ReLU, so it can be probed like any layer.
4. :func:`tuning_correlation` compares its tuning with a learned detector's.

Examples:
    >>> w = handbuilt_curve_weights(torch.tensor([0.0, math.pi / 2]), 0.0, 3.0, step=0.125)
    >>> w.shape
    torch.Size([2, 7, 7])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch
from torch import nn

from ..device import model_device
from ..hooks import run_with_cache
from ..validation import check_tensor
from ..vision.stimuli import StimulusStyle, render_lines
from ..vision.tuning import unit_responses
from .weights import arc_normal_field

__all__ = [
    "EdgeUnits",
    "axial_preference",
    "find_edge_units",
    "HandBuiltConfig",
    "handbuilt_curve_weights",
    "HandBuiltCurveDetector",
    "build_curve_detectors",
    "tuning_correlation",
]


@dataclass
class EdgeUnits:
    """Orientation-tuned units of an early layer.

    Attributes:
        layer: Their layer.
        channels: Channel indices.
        orientations: ``[n]`` preferred line orientation in ``[0, pi)`` (the line's normal, axial).
        selectivity: ``[n]`` axial orientation selectivity in ``[0, 1]``.
        scale: ``[n]`` peak response to a line (used to normalise them).
    """

    layer: str
    channels: list[int]
    orientations: torch.Tensor
    selectivity: torch.Tensor
    scale: torch.Tensor


def axial_preference(responses: torch.Tensor, orientations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Preferred axial orientation and its selectivity, from responses over orientation.

    Uses doubled angles, so a line at ``t`` and at ``t + pi`` count as the same.

    Args:
        responses: ``[..., n_orient]`` (negative parts clipped to 0).
        orientations: ``[n_orient]`` radians.

    Returns:
        ``(orientation in [0, pi), selectivity in [0, 1])``, each ``[...]``.

    Examples:
        >>> th = torch.linspace(0, math.pi, 9)[:-1]
        >>> o, s = axial_preference(torch.cos(th - 1.0).abs() ** 8, th)
        >>> round(o.item(), 2)
        1.0
    """
    dims = check_tensor("orientations", orientations, ("n_orient",), floating=True)
    check_tensor("responses", responses, ("...", "n_orient"), dims=dims, floating=True)
    r = responses.clamp_min(0)
    th = orientations.to(r.device, r.dtype)
    s, c = (r * torch.sin(2 * th)).sum(-1), (r * torch.cos(2 * th)).sum(-1)
    return torch.remainder(torch.atan2(s, c) / 2, math.pi), torch.sqrt(s**2 + c**2) / r.sum(-1).clamp_min(1e-12)


def find_edge_units(model: nn.Module, layer: str, n_orientations: int = 16, min_selectivity: float = 0.3,
                    style: StimulusStyle | None = None, min_response: float = 1e-3) -> EdgeUnits:
    """Measure the line orientation of every channel of ``layer``; keep the tuned ones.

    Responses are the maximum over positions to lines through the centre, so
    edge detectors (which fire beside a line) count as well as line detectors.
    Orientation and selectivity are computed on the response above the unit's
    minimum over orientations.

    Args:
        model: The network.
        layer: An early layer, e.g. ``"layer1"``.
        n_orientations: Line orientations over ``[0, pi)``.
        min_selectivity: Keep units whose axial selectivity reaches this.
        style: Style of the lines (several styles are averaged when a list is given).
        min_response: Keep units that fire at least this much on some line.

    Returns:
        :class:`EdgeUnits`.
    """
    device = model_device(model)
    th = torch.arange(n_orientations, dtype=torch.float32) * (math.pi / n_orientations)
    styles = [style or StimulusStyle(), StimulusStyle(colour="black")] if style is None else [style]
    resp = sum(unit_responses(model, layer, render_lines(th, s, device), position="max") for s in styles)
    resp = (resp / len(styles)).T.cpu()                             # [channels, n_orient]
    # Tuning is the modulation above the unit's floor (line ends excite every orientation a little).
    orient, sel = axial_preference(resp - resp.amin(-1, keepdim=True), th)
    scale = resp.amax(-1)
    keep = ((sel >= min_selectivity) & (scale > min_response)).nonzero().flatten()
    return EdgeUnits(layer, keep.tolist(), orient[keep], sel[keep], scale[keep])


@dataclass
class HandBuiltConfig:
    """How the hand-built kernel is written.

    Attributes:
        kernel_size: Kernel side ``k``.
        sharpness: Power on the rectified orientation match (higher = narrower).
        inhibition: Weight of edges that run across the curve (negative weight).
        surround: Uniform negative weight on positions away from the curve.
        sigma: Width of the band around the arc, in input half-widths (default: ``step``).
        length: Arc length of the detector's curve.
    """

    kernel_size: int = 7
    sharpness: float = 2.0
    inhibition: float = 0.5
    surround: float = 0.05
    sigma: float | None = None
    length: float = 0.9


def handbuilt_curve_weights(pre_orientations: torch.Tensor, orientation: float, curvature: float, step: float,
                            config: HandBuiltConfig | None = None, scale: torch.Tensor | None = None
                            ) -> torch.Tensor:
    """Kernel of a hand-built curve detector, from the lower units' axial orientations.

    ``w[i, p] = near(p) * (max(0, cos 2(phi_i - n(p)))^s - inhibition * max(0, -cos 2(phi_i - n(p))))
    - surround * (1 - near(p))``, divided by ``scale_i``, where ``n(p)`` is
    the arc's normal at position ``p`` and ``near(p)`` how close ``p`` is to it.

    Args:
        pre_orientations: ``[n_pre]`` axial orientations (radians).
        orientation: The detector's curve orientation.
        curvature: Its curvature (``1 / radius`` in image half-widths).
        step: Input distance between kernel positions.
        config: Kernel size, sharpness, inhibition, surround, band width, length.
        scale: ``[n_pre]`` typical response of each lower unit (default ones).

    Returns:
        ``[n_pre, k, k]``.
    """
    cfg = config or HandBuiltConfig()
    check_tensor("pre_orientations", pre_orientations, ("n_pre",), floating=True)
    near, normal = arc_normal_field(cfg.kernel_size, step, orientation, curvature, cfg.length, cfg.sigma,
                                    pre_orientations.device)
    match = torch.cos(2 * (pre_orientations[:, None, None] - normal[None]))          # [n_pre, k, k]
    w = near[None] * (match.clamp_min(0) ** cfg.sharpness - cfg.inhibition * (-match).clamp_min(0))
    w = w - cfg.surround * (1 - near[None])
    if scale is not None:
        check_tensor("scale", scale, (len(pre_orientations),), floating=True)
        w = w / scale.to(w.device).clamp_min(1e-6)[:, None, None]
    return w


class HandBuiltCurveDetector(nn.Module):
    """Hand-written conv units on top of a network's edge units.

    The forward pass reads ``layer`` of ``model`` (channels ``pre_channels``),
    applies ``conv`` (weights set by hand, ``padding = k // 2``) and ``relu``.
    Hook names: ``"conv"`` and ``"relu"``, so :func:`~.tuning.tuning_map`
    works on it like on any layer.

    Args:
        model: The network providing the edge units (kept frozen).
        layer: Layer of the edge units.
        pre_channels: Which channels of ``layer`` feed the detectors.
        weights: ``[n_detectors, n_pre, k, k]``.
        bias: ``[n_detectors]`` (default 0).

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> det = HandBuiltCurveDetector(net, "1", [0, 1], torch.randn(2, 2, 5, 5))
        >>> det(torch.rand(1, 3, 16, 16)).shape
        torch.Size([1, 2, 16, 16])
    """

    def __init__(self, model: nn.Module, layer: str, pre_channels: Sequence[int], weights: torch.Tensor,
                 bias: torch.Tensor | None = None):
        super().__init__()
        check_tensor("weights", weights, ("n_detectors", len(pre_channels), "k", "k"), floating=True)
        self.model, self.layer, self.pre_channels = model, layer, list(pre_channels)
        n, _, k, _ = weights.shape
        self.conv = nn.Conv2d(len(pre_channels), n, k, padding=k // 2)
        device = model_device(model)
        with torch.no_grad():
            self.conv.weight.copy_(weights)
            self.conv.bias.copy_(torch.zeros(n) if bias is None else bias)
        self.relu = nn.ReLU()
        self.conv.to(device).requires_grad_(False)  # the wrapped model is left as it was

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` ``[n, 3, H, W]`` -> ``[n, n_detectors, h, w]`` (the map size of ``layer``)."""
        _, cache = run_with_cache(self.model, images, [self.layer])
        return self.relu(self.conv(cache[self.layer][:, self.pre_channels]))


def build_curve_detectors(model: nn.Module, edges: EdgeUnits, orientations: Sequence[float] | torch.Tensor,
                          curvature: float | Sequence[float] | torch.Tensor, step: float,
                          config: HandBuiltConfig | None = None, kernel_fn: Callable[..., torch.Tensor] | None = None
                          ) -> HandBuiltCurveDetector:
    """One hand-built detector per orientation, on ``edges`` of ``model``.

    Args:
        model: The network.
        edges: From :func:`find_edge_units`.
        orientations: ``[n_detectors]`` curve orientations (radians).
        curvature: Their curvature: one for all, or ``[n_detectors]``, one each.
        step: Input distance between positions of the edge layer
            (``2 / image_size * total stride``).
        config: See :class:`HandBuiltConfig`.
        kernel_fn: ``kernel_fn(pre_orientations, orientation, curvature, step, kernel_size, length)
            -> [n_pre, k, k]``, the kernel before the division by each edge unit's scale (lesson 4 passes
            the student's ``handbuilt_kernel``). ``None``: :func:`handbuilt_curve_weights`. It writes the
            default sharpness, inhibition, surround and band width, so ``config`` may only change the
            kernel size and the arc length then.

    Returns:
        A :class:`HandBuiltCurveDetector`.

    Raises:
        ValueError: for a ``kernel_fn`` with a ``config`` that changes more than the size and the length.
    """
    cfg = config or HandBuiltConfig()
    if kernel_fn is not None:
        fixed = replace(HandBuiltConfig(), kernel_size=cfg.kernel_size, length=cfg.length)
        if cfg != fixed:
            raise ValueError(f"`config`={cfg} changes more than kernel_size and length, which a `kernel_fn` "
                             "cannot follow; use the default sharpness, inhibition, surround and sigma")
    theta = torch.as_tensor(orientations, dtype=torch.float32).flatten()
    kappa = torch.as_tensor(curvature, dtype=torch.float32).flatten()
    if kappa.numel() == 1:
        kappa = kappa.expand(len(theta))
    if kappa.numel() != len(theta):
        raise ValueError(f"`curvature` has {kappa.numel()} values for {len(theta)} orientations: give one or one each")
    if kernel_fn is None:
        ws = [handbuilt_curve_weights(edges.orientations, float(o), float(k), step, cfg, edges.scale)
              for o, k in zip(theta, kappa)]
    else:
        scale = edges.scale.clamp_min(1e-6)[:, None, None]
        ws = [kernel_fn(edges.orientations, float(o), float(k), step, cfg.kernel_size, cfg.length)
              / scale.to(edges.orientations.device) for o, k in zip(theta, kappa)]
    return HandBuiltCurveDetector(model, edges.layer, edges.channels, torch.stack(ws))


def tuning_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of two tuning curves along their last axis.

    Compare whole tuning maps by flattening them first (``map.flatten(-2)``).

    Args:
        a: ``[..., n]``.
        b: The same shape as ``a``.

    Returns:
        ``[...]`` correlations (0 where a curve is flat).

    Examples:
        >>> tuning_correlation(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 4.0, 7.0])).item() > 0.98
        True
    """
    dims = check_tensor("a", a, None, floating=True)
    check_tensor("b", b, tuple(a.shape), dims=dims, floating=True)
    a, b = a.double(), b.double()
    a = a - a.mean(-1, keepdim=True)
    b = b - b.mean(-1, keepdim=True)
    denom = torch.sqrt((a**2).sum(-1) * (b**2).sum(-1))
    return torch.where(denom > 0, (a * b).sum(-1) / denom.clamp_min(1e-30), torch.zeros_like(denom)).float()
