"""Name the likely mistake behind a wrong value (issue 27, part 3).

A value check that fails says which numbers differ. When the student's value equals what a
known mistake returns on the same inputs (the scores not scaled, the transpose, the sign
flipped), :func:`expect_close_or_named` (for tensors) and :func:`expect_number_or_named` (for one
number) say so in words, after the numbers.

Examples:
    >>> import torch
    >>> x = torch.tensor([1.0, -2.0])
    >>> try:
    ...     expect_close_or_named("negate(x)", x, -x, mistakes=[(x, "You returned `x` itself: negate it.")])
    ... except CheckFailure as err:
    ...     print(str(err).strip().splitlines()[-1])
    You returned `x` itself: negate it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .core import CheckFailure, expect_close

__all__ = ["Mistake", "expect_close_or_named", "expect_number_or_named"]

#: ``(value, why)``: what a likely mistake returns on the check's inputs (or a function computing it, called
#: only when the value check fails), and the sentence that names it.
Mistake = tuple[torch.Tensor | Callable[[], torch.Tensor], str]


def _equal(got: torch.Tensor, value: torch.Tensor, rtol: float, atol: float) -> bool:
    return got.shape == value.shape and bool(torch.allclose(got, value, rtol=rtol, atol=atol))


def expect_close_or_named(name: str, got: Any, want: torch.Tensor, *, mistakes: Sequence[Mistake] = (),
                          rtol: float = 1e-4, atol: float = 1e-5, hint: str | None = None, context: str = "") -> None:
    """:func:`~mi_tutor.checks.core.expect_close`; a failure whose value is a known mistake's names it.

    Args:
        name: What the student computed, quoted in the message.
        got: The student's value.
        want: The reference value.
        mistakes: Likely mistakes, in the order they are tried. A mistake whose value equals
            ``want`` on these inputs is not named (it is not wrong here).
        rtol: Relative tolerance, for the reference and for the mistakes.
        atol: Absolute tolerance.
        hint: The generic hint, given when no mistake matches.
        context: Which input this was.

    Raises:
        CheckFailure: The values differ: the numbers, then the named mistake (or ``hint``).
    """
    try:
        expect_close(name, got, want, rtol=rtol, atol=atol, hint=hint, context=context)
    except CheckFailure as err:
        if not isinstance(got, torch.Tensor):
            raise
        g, w = got.detach().double().cpu(), want.detach().double().cpu()
        for value, why in mistakes:
            value = value() if callable(value) else value
            v = torch.as_tensor(value).detach().double().cpu()
            if _equal(g, v, rtol, atol) and not _equal(w, v, rtol, atol):
                numbers = str(err).strip().split("\nHint:")[0]
                raise CheckFailure(f"{numbers}\n{why}") from None
        raise


def expect_number_or_named(name: str, got: float, want: float, *,
                           mistakes: Sequence[tuple[float | Callable[[], float], str]] = (), tol: float = 1e-4,
                           hint: str | None = None, context: str = "") -> None:
    """The same for one number: ``|got - want| <= tol``, else the numbers, then the named mistake (or ``hint``).

    Examples:
        >>> try:
        ...     expect_number_or_named("ratio(a, b)", 0.5, 2.0, mistakes=[(0.5, "You computed b / a.")])
        ... except CheckFailure as err:
        ...     print(str(err).strip())
        `ratio(a, b)` returned 0.50000, expected 2.00000.
        You computed b / a.
    """
    if abs(got - want) <= tol:
        return
    numbers = f"`{name}` returned {got:.5f}{' ' + context if context else ''}, expected {want:.5f}."
    for value, why in mistakes:
        value = float(value() if callable(value) else value)
        if abs(got - value) <= tol and abs(want - value) > tol:
            raise CheckFailure(f"{numbers}\n{why}")
    raise CheckFailure(numbers + (f"\nHint: {hint}" if hint else ""))
