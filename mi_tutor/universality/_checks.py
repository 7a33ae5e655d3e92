"""Shared argument checks of the similarity measures (private)."""

from __future__ import annotations

import torch

from ..validation import ShapeError, check_tensor

__all__ = ["check_features", "check_pair"]


def check_features(name: str, x: object, min_examples: int = 2) -> torch.Tensor:
    """Check ``x`` is a finite floating ``[n_examples, n_features]`` tensor and return it.

    Raises:
        ShapeError: naming ``name`` for a non-tensor, a non-float dtype, a 1-D
            (or 3-D...) tensor, too few examples or NaN / infinite entries.
    """
    if isinstance(x, torch.Tensor) and x.ndim == 1:
        raise ShapeError(
            f"`{name}` has shape {tuple(x.shape)} but expected (n_examples, n_features): a 1-D tensor "
            f"is ambiguous; use {name}[:, None] for one feature or {name}[None, :] for one example."
        )
    check_tensor(name, x, ("n_examples", "n_features"), floating=True)
    assert isinstance(x, torch.Tensor)
    if x.shape[0] < min_examples:
        raise ShapeError(f"`{name}` has {x.shape[0]} examples (shape {tuple(x.shape)}); "
                         f"at least {min_examples} wanted.")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ShapeError(f"`{name}` contains {bad} NaN or infinite entries (shape {tuple(x.shape)}); "
                         "similarity measures need finite activations.")
    return x


def check_pair(x: object, y: object, names: tuple[str, str] = ("X", "Y"),
               min_examples: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Check two feature matrices with the same number of examples, same device.

    Returns:
        ``(x, y)``, ``y`` cast to the promoted float dtype of the pair.
    """
    x = check_features(names[0], x, min_examples)
    y = check_features(names[1], y, min_examples)
    if x.shape[0] != y.shape[0]:
        raise ShapeError(
            f"`{names[0]}` has {x.shape[0]} examples but `{names[1]}` has {y.shape[0]} "
            f"(shapes {tuple(x.shape)} and {tuple(y.shape)}): both must hold the same examples "
            "in the same order (axis 0)."
        )
    if x.device != y.device:
        raise ShapeError(f"`{names[0]}` is on {x.device} but `{names[1]}` is on {y.device}: "
                         "move both to one device.")
    dtype = torch.promote_types(x.dtype, y.dtype)
    return x.to(dtype), y.to(dtype)
