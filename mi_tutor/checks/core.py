"""The building blocks of the checks that lesson test cells call.

A check runs the student's function and the reference implementation on the
same inputs and compares type, shape, dtype, device and values. When they
differ it raises :class:`CheckFailure` with a message a student can act on
(what was wrong, on which input, and a likely cause), and it never prints to
stderr: nbgrader gives zero points to a test cell that writes to stderr.

Examples:
    >>> import torch
    >>> expect_close("softmax", torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch

__all__ = [
    "CheckFailure",
    "expect",
    "expect_type",
    "expect_tensor_like",
    "expect_close",
    "compare_functions",
    "passed",
]


class CheckFailure(AssertionError):
    """A lesson check failed; the message explains what to fix."""

    def __init__(self, message: str):
        super().__init__("\n" + message.strip())


def expect(condition: bool, message: str) -> None:
    """Raise :class:`CheckFailure` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(message)


def expect_type(name: str, value: Any, wanted: type | tuple[type, ...]) -> None:
    """Fail unless ``value`` is an instance of ``wanted``."""
    if not isinstance(value, wanted):
        want = wanted.__name__ if isinstance(wanted, type) else " or ".join(w.__name__ for w in wanted)
        hint = ""
        if value is None:
            hint = " Did you forget a `return` statement?"
        raise CheckFailure(f"`{name}` should be a {want} but is a {type(value).__name__}.{hint}")


def expect_tensor_like(name: str, got: Any, want: torch.Tensor, check_device: bool = True) -> None:
    """Fail unless ``got`` is a tensor with the shape, dtype and device of ``want``."""
    expect_type(name, got, torch.Tensor)
    if tuple(got.shape) != tuple(want.shape):
        extra = ""
        if got.numel() == want.numel():
            extra = " It has the right number of elements: check the order of your axes."
        elif got.dim() == want.dim() - 1:
            extra = " One axis is missing: did you reduce (sum/mean) over an axis you should keep?"
        raise CheckFailure(
            f"`{name}` has shape {tuple(got.shape)} but should have shape {tuple(want.shape)}.{extra}"
        )
    if got.dtype != want.dtype and not (got.is_floating_point() and want.is_floating_point()):
        raise CheckFailure(f"`{name}` has dtype {got.dtype} but should have dtype {want.dtype}.")
    if check_device and got.device != want.device:
        raise CheckFailure(
            f"`{name}` is on {got.device} but its inputs were on {want.device}: "
            "create new tensors with `device=x.device` (or `torch.zeros_like`)."
        )


def _where(diff: torch.Tensor) -> str:
    index = tuple(int(i) for i in torch.nonzero(diff == diff.max())[0])
    return str(index if len(index) != 1 else index[0])


def expect_close(
    name: str,
    got: Any,
    want: torch.Tensor,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    hint: str | None = None,
    context: str = "",
) -> None:
    """Fail unless ``got`` matches ``want`` in type, shape, dtype, device and value.

    Args:
        name: What the student computed, quoted in the message.
        got: The student's value.
        want: The reference value.
        rtol: Relative tolerance.
        atol: Absolute tolerance.
        hint: A likely cause, added to the message on a value mismatch.
        context: Which input this was (e.g. ``"on a batch of 3 images"``).
    """
    expect_tensor_like(name, got, want)
    g, w = got.detach().double().cpu(), want.detach().double().cpu()
    if torch.isnan(g).any() and not torch.isnan(w).any():
        raise CheckFailure(f"`{name}` contains NaN {context}. Look for a division by zero or log of 0.")
    if torch.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
        return
    diff = (g - w).abs().nan_to_num(0)
    msg = (
        f"`{name}` has the right shape {tuple(got.shape)} but wrong values {context}: "
        f"the largest difference is {diff.max().item():.4g} at index {_where(diff)} "
        f"(got {g.flatten()[diff.flatten().argmax()].item():.4g}, "
        f"expected {w.flatten()[diff.flatten().argmax()].item():.4g})."
    )
    if hint:
        msg += f"\nHint: {hint}"
    raise CheckFailure(msg)


def compare_functions(
    name: str,
    student_fn: Callable[..., Any],
    reference_fn: Callable[..., Any],
    cases: Iterable[Mapping[str, Any]],
    *,
    compare: Callable[[Any, Any, str], None] | None = None,
    describe: Callable[[Mapping[str, Any]], str] | None = None,
) -> int:
    """Run both functions on every case and compare the results.

    Args:
        name: The function's name, quoted in messages.
        student_fn: The student's implementation.
        reference_fn: ``mi_tutor``'s implementation.
        cases: Argument dicts in the order of the exercise's signature; the
            values are passed *positionally* to both functions (a student may
            name parameters differently) and tensors are cloned, so an
            in-place edit by the student cannot leak into the reference run.
        compare: ``compare(got, want, context)``; defaults to :func:`expect_close`.
        describe: Turns a case into words for messages (default: argument shapes).

    Returns:
        The number of cases checked.
    """
    def clone(case: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in case.items()}

    def default_describe(case: Mapping[str, Any]) -> str:
        parts = [f"{k} of shape {tuple(v.shape)}" if isinstance(v, torch.Tensor) else f"{k}={v!r}"
                 for k, v in case.items() if isinstance(v, (torch.Tensor, int, float, str))]
        return "with " + ", ".join(parts) if parts else ""

    describe = describe or default_describe
    compare = compare or (lambda got, want, ctx: expect_close(f"{name}(...)", got, want, context=ctx))
    n = 0
    for case in cases:
        context = describe(case)
        try:
            got = student_fn(*clone(case).values())
        except NotImplementedError:
            raise CheckFailure(f"`{name}` is not implemented yet: replace `raise NotImplementedError()`.") from None
        except CheckFailure:
            raise
        except Exception as err:  # the student's code crashed: say where and on what
            raise CheckFailure(f"`{name}` raised {type(err).__name__}: {err}\n(called {context})") from None
        want = reference_fn(*clone(case).values())
        compare(got, want, context)
        n += 1
    return n


def passed(message: str) -> None:
    """Print a success line (to stdout: stderr would cost the student the points)."""
    print(f"\u2713 {message}")
