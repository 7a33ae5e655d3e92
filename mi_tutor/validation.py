"""Argument checks with messages that quote what was seen and what was wanted.

Every public function of ``mi_tutor`` validates its tensor arguments with
:func:`check_tensor`, so a wrong shape reads like

    ``images`` has shape (8, 28, 28) but expected (batch, 3, height, width):
    3 dimensions given, 4 wanted.

instead of a matmul error three calls deeper.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import torch

__all__ = ["ShapeError", "check_tensor", "check_choice", "check_range", "close_matches"]


class ShapeError(ValueError):
    """A tensor argument has the wrong shape, dtype or type."""


def _fmt_spec(spec: Sequence[int | str | None]) -> str:
    parts = ["?" if s is None else str(s) for s in spec]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_tensor(
    name: str,
    value: object,
    shape: Sequence[int | str | None] | None = None,
    *,
    dims: dict[str, int] | None = None,
    dtype: torch.dtype | Iterable[torch.dtype] | None = None,
    floating: bool = False,
) -> dict[str, int]:
    """Check that ``value`` is a tensor of the wanted shape and dtype.

    Args:
        name: The argument's name, quoted in the error.
        value: The object to check.
        shape: Wanted shape. Each entry is an int (that size exactly), a name
            (any size, but the same name must have the same size everywhere,
            including in ``dims``) or ``None`` (any size). A leading ``"..."``
            allows any number of leading dimensions.
        dims: Sizes already bound to names (from other arguments).
        dtype: A dtype or several allowed dtypes.
        floating: Require a floating-point dtype.

    Returns:
        ``dims`` extended with the sizes bound by this tensor.

    Raises:
        ShapeError: with the argument's name, the shape seen and the shape wanted.

    Examples:
        >>> check_tensor("x", torch.zeros(2, 3), ("batch", 3))
        {'batch': 2}
    """
    dims = dict(dims or {})
    if not isinstance(value, torch.Tensor):
        raise ShapeError(
            f"`{name}` should be a torch.Tensor but is a {type(value).__name__}"
            + (f"; wanted shape {_fmt_spec(shape)}" if shape is not None else "")
        )
    if floating and not value.is_floating_point():
        raise ShapeError(f"`{name}` should be floating point but has dtype {value.dtype}")
    if dtype is not None:
        allowed = (dtype,) if isinstance(dtype, torch.dtype) else tuple(dtype)
        if value.dtype not in allowed:
            raise ShapeError(f"`{name}` has dtype {value.dtype} but expected one of {allowed}")
    if shape is None:
        return dims
    spec = list(shape)
    seen = tuple(value.shape)
    if spec and spec[0] == "...":
        spec = spec[1:]
        if len(seen) < len(spec):
            raise ShapeError(
                f"`{name}` has shape {seen} but expected (..., {_fmt_spec(spec)[1:]}: "
                f"at least {len(spec)} dimensions wanted, {len(seen)} given."
            )
        seen = seen[len(seen) - len(spec):]
    if len(seen) != len(spec):
        raise ShapeError(
            f"`{name}` has shape {tuple(value.shape)} but expected {_fmt_spec(shape)}: "
            f"{len(value.shape)} dimensions given, {len(spec)} wanted."
        )
    for axis, (want, got) in enumerate(zip(spec, seen)):
        if want is None:
            continue
        if isinstance(want, int):
            if got != want:
                raise ShapeError(
                    f"`{name}` has shape {tuple(value.shape)} but expected {_fmt_spec(shape)}: "
                    f"axis {axis} is {got}, wanted {want}."
                )
        elif want in dims and dims[want] != got:
            raise ShapeError(
                f"`{name}` has shape {tuple(value.shape)} but expected {_fmt_spec(shape)} "
                f"with {want}={dims[want]} (from the other arguments): axis {axis} is {got}."
            )
        else:
            dims[want] = got
    return dims


def close_matches(word: str, choices: Iterable[str], n: int = 5) -> list[str]:
    """Return up to ``n`` entries of ``choices`` that look like ``word``."""
    choices = list(choices)
    return difflib.get_close_matches(word, choices, n=n, cutoff=0.5) or [
        c for c in choices if word.split(".")[-1] in c
    ][:n]


def check_choice(name: str, value: str, choices: Iterable[str]) -> None:
    """Raise ``KeyError`` naming the argument and listing valid or near choices.

    Examples:
        >>> check_choice("mode", "zero", ["zero", "mean"])
    """
    choices = list(choices)
    if value in choices:
        return
    near = close_matches(value, choices)
    hint = f" Did you mean {', '.join(repr(c) for c in near)}?" if near else ""
    listing = ", ".join(repr(c) for c in choices[:40]) + (" ..." if len(choices) > 40 else "")
    raise KeyError(f"`{name}`={value!r} is not valid.{hint} Valid values: {listing}")


def check_range(name: str, value: float, low: float, high: float) -> None:
    """Raise ``ValueError`` unless ``low <= value <= high`` (values may be tensors)."""
    if isinstance(value, torch.Tensor):
        bad = (value < low) | (value > high)
        if bool(bad.any()):
            raise ValueError(
                f"`{name}` must lie in [{low}, {high}] but has values from "
                f"{value.min().item():g} to {value.max().item():g}"
            )
        return
    if not low <= value <= high:
        raise ValueError(f"`{name}` must lie in [{low}, {high}] but is {value!r}")
