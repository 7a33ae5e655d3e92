"""Rotating examples and the hand-off of activation between family members.

If a family detects one curve at many orientations, turning an example should
pass its activation from member to member, each peaking when the example's
orientation crosses its own. :func:`rotate_images` turns images
counter-clockwise (``y`` up), :func:`center_examples` moves each example's
curve to the centre first, :func:`rotation_responses` records the family and
:func:`handoff` scores the result.

Examples:
    >>> ang = torch.linspace(0, 2 * math.pi, 37)[:-1]
    >>> pref = torch.arange(6) * (math.pi / 3)
    >>> h = handoff(torch.cos(ang[:, None] + math.radians(20) - pref).clamp_min(0), ang, pref)
    >>> round(math.degrees(h.offset)), h.handoff_accuracy
    (20, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_choice, check_tensor
from ..vision.tuning import TWO_PI, angle_difference, unit_responses

__all__ = ["rotate_images", "shift_images", "center_on_peaks", "center_examples", "rotation_responses", "Handoff", "handoff"]


def rotate_images(images: torch.Tensor, angle: float | torch.Tensor, fill: str = "border") -> torch.Tensor:
    """Rotate images counter-clockwise (``y`` up) by ``angle`` radians about their centre.

    An arc of orientation ``t`` becomes an arc of orientation ``t + angle``.

    Args:
        images: ``[n, C, H, W]``.
        angle: One angle, or ``[n]`` angles (one per image).
        fill: ``grid_sample`` padding mode for the corners: ``"border"``, ``"zeros"`` or ``"reflection"``.

    Returns:
        ``[n, C, H, W]`` on the images' device (bilinear interpolation).

    Examples:
        >>> img = torch.zeros(1, 1, 5, 5); img[0, 0, 2, 4] = 1   # a dot to the right of the centre
        >>> rotate_images(img, math.pi / 2)[0, 0].argmax().item()  # now above it: row 0, col 2
        2
    """
    check_tensor("images", images, ("n", "channels", "height", "width"), floating=True)
    check_choice("fill", fill, ["border", "zeros", "reflection"])
    n = images.shape[0]
    a = torch.as_tensor(angle, dtype=images.dtype, device=images.device).flatten()
    if a.numel() == 1:
        a = a.expand(n)
    if a.numel() != n:
        raise ValueError(f"`angle` has {a.numel()} values for {n} images: give one angle or one per image")
    # grid_sample's y axis points down, so a counter-clockwise turn (y up) samples the input
    # at the output location rotated by -angle in (x, -y) coordinates.
    cos, sin = torch.cos(a), torch.sin(a)
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros_like(a)], -1),
                         torch.stack([sin, cos, torch.zeros_like(a)], -1)], 1)  # [n, 2, 3]
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=fill, align_corners=False)


def shift_images(images: torch.Tensor, dx: float | torch.Tensor, dy: float | torch.Tensor) -> torch.Tensor:
    """Translate images by ``(dx, dy)`` half-widths (``x`` right, ``y`` up); pixels shifted in copy the border.

    Args:
        images: ``[n, C, H, W]``.
        dx: One shift or ``[n]`` shifts along ``x``.
        dy: The same along ``y``.

    Examples:
        >>> img = torch.zeros(1, 1, 4, 4); img[0, 0, 1, 1] = 1
        >>> shift_images(img, 0.5, -0.5)[0, 0].argmax().item()   # one pixel right, one down: row 2, col 2
        10
    """
    check_tensor("images", images, ("n", "channels", "height", "width"), floating=True)
    n = images.shape[0]
    x = torch.as_tensor(dx, dtype=images.dtype, device=images.device).flatten().expand(n)
    y = torch.as_tensor(dy, dtype=images.dtype, device=images.device).flatten().expand(n)
    eye = torch.eye(2, dtype=images.dtype, device=images.device).expand(n, 2, 2)
    theta = torch.cat([eye, torch.stack([-x, y], 1)[:, :, None]], 2)      # grid_sample's y points down
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def center_on_peaks(images: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Translate each image so that the map position where its unit peaks moves to the map's centre.

    A dataset example excites a unit somewhere in the scene; after the shift,
    the unit at the centre of the map ``[h // 2, w // 2]`` sees what the
    peak saw, so rotating the image about that point turns the example in
    place (see :func:`rotate_images`, which turns about the image centre:
    shift to the image centre with ``shift_images`` first when they differ).

    Args:
        images: ``[n, C, H, W]``.
        maps: ``[n, h, w]`` one unit's activation map on each image.

    Returns:
        ``[n, C, H, W]``.

    Examples:
        >>> maps = torch.zeros(1, 4, 4); maps[0, 0, 3] = 1.0      # peak top right
        >>> img = torch.zeros(1, 1, 8, 8); img[0, 0, 0:2, 6:8] = 1
        >>> (center_on_peaks(img, maps)[0, 0, 4:6, 4:6] == 1).all().item()
        True
    """
    dims = check_tensor("images", images, ("n", "channels", "height", "width"), floating=True)
    check_tensor("maps", maps, ("n", "h", "w"), dims=dims, floating=True)
    n, h, w = maps.shape
    flat = maps.detach().flatten(1).argmax(1)
    rows, cols = (flat // w).to(images.dtype), (flat % w).to(images.dtype)
    # Half-width coordinates of a map cell's centre, x right and y up.
    x = lambda c: (c + 0.5) / w * 2 - 1
    y = lambda r: 1 - (r + 0.5) / h * 2
    return shift_images(images, x(torch.tensor(float(w // 2))) - x(cols), y(torch.tensor(float(h // 2))) - y(rows))


def center_examples(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Translate each image so the centroid of its mask sits at the image centre.

    Rotating a dataset example about the image centre moves an off-centre
    curve around the image; centring it first keeps it where the centre
    unit of the map looks. Pixels shifted in from outside copy the border.

    Args:
        images: ``[n, C, H, W]``.
        masks: ``[n, H, W]`` (e.g. an object's mask from the object world).

    Returns:
        ``[n, C, H, W]``; an image with an empty mask is left in place.

    Examples:
        >>> img = torch.zeros(1, 1, 9, 9); img[0, 0, 1, 1] = 1
        >>> center_examples(img, img[:, 0] > 0)[0, 0].argmax().item()   # row 4, col 4
        40
    """
    dims = check_tensor("images", images, ("n", "channels", "height", "width"), floating=True)
    check_tensor("masks", masks, ("n", "height", "width"), dims=dims)
    n, _, h, w = images.shape
    m = masks.to(images.dtype)
    total = m.sum((1, 2)).clamp_min(1e-12)
    xs = (torch.arange(w, dtype=images.dtype, device=images.device) + 0.5) / w * 2 - 1
    ys = (torch.arange(h, dtype=images.dtype, device=images.device) + 0.5) / h * 2 - 1
    cx = (m.sum(1) * xs).sum(1) / total                      # centroid in grid_sample coordinates
    cy = (m.sum(2) * ys).sum(1) / total
    empty = masks.flatten(1).sum(1) == 0
    cx, cy = cx.masked_fill(empty, 0), cy.masked_fill(empty, 0)
    eye = torch.eye(2, dtype=images.dtype, device=images.device).expand(n, 2, 2)
    theta = torch.cat([eye, torch.stack([cx, cy], 1)[:, :, None]], 2)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def rotation_responses(model: nn.Module, layer: str, channels: Sequence[int], images: torch.Tensor,
                       angles: torch.Tensor, position: str = "max") -> torch.Tensor:
    """Responses of units while dataset examples are rotated through ``angles``.

    Args:
        model: The network.
        layer: Module name of a conv-shaped output.
        channels: The family's channels.
        images: ``[n, 3, H, W]`` examples (averaged over).
        angles: ``[n_angles]`` rotation angles in radians.
        position: As in :func:`unit_responses`.

    Returns:
        ``[n_angles, n_units]``: the mean response over the examples at each angle.
    """
    check_tensor("angles", angles, ("n_angles",), floating=True)
    check_tensor("images", images, ("n", 3, "height", "width"), floating=True)
    n = images.shape[0]
    rotated = torch.cat([rotate_images(images, float(a)) for a in angles])  # [n_angles * n, 3, H, W]
    resp = unit_responses(model, layer, rotated, channels, position)
    return resp.reshape(len(angles), n, -1).mean(1)


@dataclass
class Handoff:
    """How activation moves along a family while an example rotates.

    Attributes:
        angles: ``[n_angles]`` rotation angles.
        responses: ``[n_angles, n_units]``.
        peak_angles: ``[n_units]`` rotation at which each unit peaks.
        offset: The example's own orientation, estimated as the circular mean of
            ``preferred - peak``.
        errors: ``[n_units]`` ``preferred - peak - offset`` wrapped to ``[-pi, pi)``.
        mean_abs_error: Mean of ``|errors|`` (radians): 0 for a perfect hand-off.
        winners: ``[n_angles]`` index of the most active unit at each angle.
        handoff_accuracy: Fraction of angles where the winner's preferred
            orientation lies within ``tolerance`` of the rotated example's
            orientation ``offset + angle``.
        tolerance: That tolerance (radians).
    """

    angles: torch.Tensor
    responses: torch.Tensor
    peak_angles: torch.Tensor
    offset: float
    errors: torch.Tensor
    mean_abs_error: float
    winners: torch.Tensor
    handoff_accuracy: float
    tolerance: float = math.radians(45)


def handoff(responses: torch.Tensor, angles: torch.Tensor, preferred: torch.Tensor,
            tolerance: float = math.radians(45)) -> Handoff:
    """Check that units peak in the order of their preferred orientations as an example rotates.

    If an example has orientation ``t0``, unit ``u`` (preferring ``p_u``)
    should peak at rotation ``p_u - t0``. ``t0`` is estimated from the data
    (circular mean of ``p_u - peak_u``), so the score does not need to know it.

    Args:
        responses: ``[n_angles, n_units]`` from :func:`rotation_responses`.
        angles: ``[n_angles]`` radians, evenly covering the circle.
        preferred: ``[n_units]`` preferred orientations.
        tolerance: How far (radians) the winner's preferred orientation may be
            from the example's current orientation and still count as right.

    Returns:
        A :class:`Handoff`.

    Examples:
        >>> ang = torch.linspace(0, 2 * math.pi, 37)[:-1]
        >>> pref = torch.tensor([0.5, 2.0, 4.0])
        >>> resp = torch.cos(ang[:, None] + 0.3 - pref).clamp_min(0)  # example at 0.3 rad
        >>> round(handoff(resp, ang, pref).offset, 2)
        0.3
    """
    dims = check_tensor("angles", angles, ("n_angles",), floating=True)
    dims = check_tensor("preferred", preferred, ("n_units",), dims=dims, floating=True)
    check_tensor("responses", responses, ("n_angles", "n_units"), dims=dims, floating=True)
    r = responses.detach().double().cpu()
    ang = angles.detach().double().cpu()
    pref = preferred.detach().double().cpu()
    peak = ang[r.argmax(0)]                                       # [n_units]
    diff = pref - peak
    offset = float(torch.remainder(torch.atan2(torch.sin(diff).mean(), torch.cos(diff).mean()), TWO_PI))
    errors = angle_difference(diff, torch.tensor(offset, dtype=torch.float64))
    winners = r.argmax(1)                                         # [n_angles]
    target = torch.remainder(offset + ang, TWO_PI)
    right = angle_difference(pref[winners], target).abs() <= tolerance
    return Handoff(angles.detach().cpu(), r.float(), peak.float(), offset, errors.float(),
                   float(errors.abs().mean()), winners, float(right.double().mean()), tolerance)
