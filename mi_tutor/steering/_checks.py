"""Argument checks shared by the steering and editing functions (messages name the argument)."""

from __future__ import annotations

import torch

from ..validation import ShapeError

__all__ = ["check_layer", "check_vector", "check_positions", "model_device"]


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of ``model``'s parameters."""
    return next(model.parameters()).device


def check_layer(name: str, layer: int, model, allow_final: bool = False) -> int:
    """``layer`` must be a block index of ``model`` (``n_layers`` itself too when ``allow_final``)."""
    n = model.cfg.n_layers + (1 if allow_final else 0)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < n:
        raise ValueError(f"`{name}` is {layer!r} but the model has {model.cfg.n_layers} layers: "
                         f"use an int in 0 .. {n - 1}.")
    return layer


def check_vector(name: str, vector: object, width: int, what: str = "d_model") -> torch.Tensor:
    """``vector`` must be a float tensor ``[width]``."""
    if not isinstance(vector, torch.Tensor) or not vector.is_floating_point():
        kind = f"a tensor of dtype {vector.dtype}" if isinstance(vector, torch.Tensor) else f"a {type(vector).__name__}"
        raise ShapeError(f"`{name}` should be a float tensor [{what}={width}] but is {kind}")
    if tuple(vector.shape) != (width,):
        raise ShapeError(f"`{name}` has shape {tuple(vector.shape)} but the model's {what} is {width}: "
                         f"wanted ({width},). Was it read from another model or another layer type?")
    return vector


def check_positions(name: str, positions, n_pos: int) -> list[int] | slice:
    """``positions``: ``None`` (all), an int or a list of ints within ``-n_pos .. n_pos - 1``."""
    if positions is None:
        return slice(None)
    items = [positions] if isinstance(positions, int) else list(positions)
    for p in items:
        if not isinstance(p, int) or not -n_pos <= p < n_pos:
            raise ValueError(f"`{name}` holds {p!r} but the prompts have {n_pos} positions")
    return items
