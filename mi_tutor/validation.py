"""Argument checks with messages that quote what was seen and what was wanted.

Library functions check their arguments with the helpers below (tensors with
:func:`check_tensor`); not all do yet: :mod:`mi_tutor.grokking` checks its analysis and
Fourier functions but not its training and data helpers, and of the task generators
:mod:`mi_tutor.tasks.facts` checks its arguments, the others only some. A wrong shape reads like

    ``images`` has shape (8, 28, 28) but expected (batch, 3, height, width):
    3 dimensions given, 4 wanted.

instead of a matmul error three calls deeper. Every message names the argument, the
value or shape seen and the one wanted. One helper per meaning:

* tensors: :func:`check_tensor`, :func:`check_vector` (``[width]``), :func:`check_features`
  (``[n_examples, n_features]``) and :func:`check_feature_pair` (two of them, same examples),
  :func:`check_paired_inputs` (clean and corrupt inputs of the same shape);
* indices into a model: :func:`check_layer_index` (a transformer block, an int),
  :func:`check_module_name` (a submodule, by name), :func:`check_positions` and
  :func:`check_position_list` (token positions);
* values: :func:`check_choice`, :func:`check_range`;
* unknown names: :func:`unknown_name` builds the one "Did you mean ...?" ``KeyError``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import torch

__all__ = ["ShapeError", "check_tensor", "check_vector", "check_features", "check_feature_pair",
           "check_paired_inputs", "check_layer_index", "check_module_name", "check_positions",
           "check_position_list", "check_choice", "check_range", "close_matches", "unknown_name"]


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


def unknown_name(message: str, name: str, choices: Iterable[str], tail: str | None = None,
                 also: Iterable[str] = ()) -> KeyError:
    """The ``KeyError`` for a name that is not among ``choices``, with the near matches.

    Args:
        message: What went wrong, e.g. ``"No hook point named 'x'"``.
        name: The name seen; the near matches are searched for it (then for each of ``also``).
        choices: The valid names.
        tail: What follows the hint (default: ``"Valid values: "`` and up to 40 of ``choices``).
        also: Other spellings of ``name`` to search near matches for.

    Returns:
        The error, for the caller to raise.

    Examples:
        >>> print(unknown_name("No zoo model named 'convnet'", "convnet", ["convnet_s0", "mlp_s0"]).args[0])
        No zoo model named 'convnet'. Did you mean 'convnet_s0'? Valid values: 'convnet_s0', 'mlp_s0'
    """
    choices = list(choices)
    near = close_matches(name, choices)
    for other in also:
        near = near or close_matches(other, choices)
    hint = f" Did you mean {', '.join(repr(c) for c in near)}?" if near else ""
    if tail is None:
        tail = "Valid values: " + ", ".join(repr(c) for c in choices[:40]) + (" ..." if len(choices) > 40 else "")
    return KeyError(f"{message}.{hint} {tail}")


def check_choice(name: str, value: str, choices: Iterable[str]) -> None:
    """Raise ``KeyError`` naming the argument and listing valid or near choices.

    Examples:
        >>> check_choice("mode", "zero", ["zero", "mean"])
    """
    choices = list(choices)
    if value in choices:
        return
    raise unknown_name(f"`{name}`={value!r} is not valid", value, choices)


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


def check_vector(name: str, vector: object, width: int, what: str = "d_model") -> torch.Tensor:
    """``vector`` must be a float tensor ``[width]`` (e.g. a direction in the residual stream).

    Args:
        name: The argument's name, quoted in the error.
        vector: The object to check.
        width: The wanted length.
        what: What the length is, for the message (``"d_model"``, ``"d_mlp"``...).

    Returns:
        ``vector``.

    Raises:
        ShapeError: for a non-tensor, an integer tensor or another shape.

    Examples:
        >>> check_vector("v", torch.zeros(4), 4).shape
        torch.Size([4])
    """
    if not isinstance(vector, torch.Tensor) or not vector.is_floating_point():
        kind = f"a tensor of dtype {vector.dtype}" if isinstance(vector, torch.Tensor) else f"a {type(vector).__name__}"
        raise ShapeError(f"`{name}` should be a float tensor [{what}={width}] but is {kind}")
    if tuple(vector.shape) != (width,):
        raise ShapeError(f"`{name}` has shape {tuple(vector.shape)} but the model's {what} is {width}: "
                         f"wanted ({width},). Was it read from another model or another layer type?")
    return vector


def check_features(name: str, x: object, min_examples: int = 2) -> torch.Tensor:
    """Check ``x`` is a finite floating ``[n_examples, n_features]`` tensor and return it.

    Raises:
        ShapeError: naming ``name`` for a non-tensor, a non-float dtype, a 1-D
            (or 3-D...) tensor, too few examples or NaN / infinite entries.

    Examples:
        >>> check_features("X", torch.zeros(3, 2)).shape
        torch.Size([3, 2])
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


def check_feature_pair(x: object, y: object, names: tuple[str, str] = ("X", "Y"),
                       min_examples: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Two feature matrices (:func:`check_features`) of the same examples, on one device.

    Returns:
        ``(x, y)``, both cast to the promoted float dtype of the pair.

    Raises:
        ShapeError: naming both arguments if the numbers of examples or the devices differ.

    Examples:
        >>> x, y = check_feature_pair(torch.zeros(3, 2), torch.zeros(3, 5, dtype=torch.float64))
        >>> x.dtype, y.shape
        (torch.float64, torch.Size([3, 5]))
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


def check_paired_inputs(first: object, second: object, names: tuple[str, str] = ("clean", "corrupt")) -> None:
    """Two input tensors of the same shape (e.g. clean and corrupt prompts, patched position by position).

    Raises:
        ShapeError: naming both arguments and their shapes.

    Examples:
        >>> check_paired_inputs(torch.zeros(2, 5), torch.zeros(2, 5))
    """
    for n, t in zip(names, (first, second)):
        if not isinstance(t, torch.Tensor):
            raise ShapeError(f"`{n}` should be a tensor of inputs but is a {type(t).__name__}")
    assert isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor)
    if first.shape != second.shape:
        raise ShapeError(f"`{names[0]}` has shape {tuple(first.shape)} but `{names[1]}` has shape "
                         f"{tuple(second.shape)}: they must be partners of the same shape (same batch and positions)")


def check_layer_index(name: str, layer: object, model: torch.nn.Module, allow_final: bool = False) -> int:
    """``layer`` must be a block index of the transformer ``model`` (``n_layers`` itself too when ``allow_final``).

    Returns:
        ``layer``.

    Raises:
        ValueError: naming the argument, the value seen and the valid range.

    Examples:
        >>> from types import SimpleNamespace
        >>> model = SimpleNamespace(cfg=SimpleNamespace(n_layers=2))
        >>> check_layer_index("layer", 1, model)
        1
        >>> check_layer_index("layer", 2, model)
        Traceback (most recent call last):
        ...
        ValueError: `layer` is 2 but the model has 2 layers: use an int in 0 .. 1.
    """
    n = model.cfg.n_layers + (1 if allow_final else 0)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < n:
        raise ValueError(f"`{name}` is {layer!r} but the model has {model.cfg.n_layers} layers: "
                         f"use an int in 0 .. {n - 1}.")
    return layer


def check_module_name(name: str, layer: object, model: torch.nn.Module) -> str:
    """``layer`` must name a submodule of ``model`` (e.g. ``"layer3"`` of a CNN).

    Returns:
        ``layer``.

    Raises:
        TypeError: if ``layer`` is not a string.
        KeyError: naming the argument, the name seen and the near valid names.

    Examples:
        >>> check_module_name("layer", "0", torch.nn.Sequential(torch.nn.ReLU()))
        '0'
    """
    if not isinstance(layer, str):
        raise TypeError(f"`{name}` should be a module name (str) but is a {type(layer).__name__}")
    check_choice(name, layer, [n for n, _ in model.named_modules() if n])
    return layer


def check_positions(name: str, positions: object, n_pos: int) -> None:
    """Token positions: ``None`` (all), an int, ints, or an integer tensor (e.g. one position per prompt).

    Each position must lie in ``-n_pos .. n_pos - 1`` (negative ones count from the end).

    Raises:
        ShapeError: for positions that are not integers.
        IndexError: naming the argument, the position seen and the number of positions.

    Examples:
        >>> check_positions("positions", [0, -1], 5)
        >>> check_positions("positions", 5, 5)
        Traceback (most recent call last):
        ...
        IndexError: `positions` holds position 5 but the prompts have 5 positions (-5 .. 4)
    """
    if positions is None:
        return
    if isinstance(positions, torch.Tensor):
        if positions.is_floating_point() or positions.is_complex() or positions.dtype == torch.bool:
            raise ShapeError(f"`{name}` must hold integer positions, not dtype {positions.dtype}")
        items = positions.flatten().tolist()
    else:
        items = [positions] if isinstance(positions, int) else list(positions)  # type: ignore[call-overload]
        for p in items:
            if isinstance(p, bool) or not isinstance(p, int):
                raise ShapeError(f"`{name}` must hold integer positions but holds {p!r}")
    for p in items:
        if not -n_pos <= p < n_pos:
            raise IndexError(f"`{name}` holds position {p} but the prompts have {n_pos} positions "
                             f"({-n_pos} .. {n_pos - 1})")


def check_position_list(name: str, positions: object, n_pos: int) -> list[int] | slice:
    """Positions that apply to every prompt, checked (:func:`check_positions`) and normalised for indexing.

    Returns:
        ``slice(None)`` for ``None`` (every position), else the list of positions.

    Examples:
        >>> check_position_list("positions", None, 5), check_position_list("positions", 2, 5)
        (slice(None, None, None), [2])
    """
    if positions is None:
        return slice(None)
    if isinstance(positions, torch.Tensor) and positions.ndim > 1:
        raise ShapeError(f"`{name}` should be an int or a list of positions (the same for every prompt) "
                         f"but has shape {tuple(positions.shape)}")
    check_positions(name, positions, n_pos)
    if isinstance(positions, torch.Tensor):
        return [int(p) for p in positions.flatten().tolist()]
    return [positions] if isinstance(positions, int) else [int(p) for p in positions]  # type: ignore[union-attr]
