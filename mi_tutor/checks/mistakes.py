"""Name the likely mistake behind a wrong value (issue 27, part 3).

A value check that fails says which numbers differ. When the student's value equals what a
known mistake returns on the same inputs (the scores not scaled, the transpose, the sign
flipped), :func:`expect_close_or_named` (for tensors) and :func:`expect_number_or_named` (for one
number) say so in words, after the numbers. :func:`named_mistake` does the same around a check of a
lesson's own (angles, counts, a message of its own words), and :func:`matches` is the equality rule
they all use, for checks that test for one mistake themselves.

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

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch

from .core import CheckFailure, expect_close

__all__ = ["Mistake", "matches", "named_mistake", "expect_close_or_named", "expect_number_or_named"]

#: ``(value, why)``: what a likely mistake returns on the check's inputs (or a function computing it, called
#: only when the value check fails), and the sentence that names it.
Mistake = tuple[torch.Tensor | float | Callable[[], torch.Tensor | float], str]


def _as_double(x: Any) -> torch.Tensor | None:
    """``x`` as a float64 CPU tensor without history; ``None`` when it is neither a tensor nor a number."""
    if isinstance(x, torch.Tensor):
        return x.detach().double().cpu()
    if isinstance(x, numbers.Real):
        return torch.tensor(float(x), dtype=torch.float64)
    return None


def _equal(got: torch.Tensor, value: torch.Tensor, rtol: float, atol: float, period: float | None = None) -> bool:
    """The one equality rule: same shape and ``|got - value| <= atol + rtol * |value|`` (NaN equals NaN).

    With ``period``, the difference is taken modulo ``period`` (angles: ``2 * math.pi``).
    """
    if got.shape != value.shape:
        return False
    diff = got - value
    if period is not None:
        diff = torch.remainder(diff + period / 2, period) - period / 2
    close = (diff.abs() <= atol + rtol * value.abs()) | (got == value) | (got.isnan() & value.isnan())
    return bool(close.all())


def matches(got: Any, value: Any, *, rtol: float = 1e-4, atol: float = 1e-5, period: float | None = None) -> bool:
    """Whether ``got`` equals ``value`` (a likely mistake's output) by the rule the messages use.

    Args:
        got: The student's value: a tensor or a number (anything else matches nothing).
        value: The mistake's value on the same inputs, a tensor or a number.
        rtol: Relative tolerance (of ``|value|``).
        atol: Absolute tolerance.
        period: Compare modulo this period (angles: ``2 * math.pi``); ``None`` for plain values.

    Returns:
        ``True`` when the shapes agree and every entry is within tolerance (NaN matches NaN).

    Examples:
        >>> import math, torch
        >>> matches(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-7]))
        True
        >>> matches(torch.tensor([0.1]), torch.tensor([0.1 + 2 * math.pi]), period=2 * math.pi)
        True
        >>> matches(torch.tensor([1.0, 2.0]), torch.tensor([[1.0, 2.0]]))      # the shapes differ
        False
    """
    g, v = _as_double(got), _as_double(value)
    return g is not None and v is not None and _equal(g, v, rtol, atol, period)


def named_mistake(compare: Callable[[], None], got: Any, mistakes: Sequence[Mistake], *, want: Any = None,
                  rtol: float = 1e-4, atol: float = 1e-5, period: float | None = None) -> None:
    """Run ``compare()``; when it fails and ``got`` is a known mistake's value, name that mistake.

    The message keeps the numbers of ``compare``'s failure and puts the mistake's sentence in place of
    its generic ``Hint:``. A failure matching no mistake is raised as it was.

    Args:
        compare: The value check, e.g. ``lambda: expect_close(...)``; raises
            :class:`~mi_tutor.checks.core.CheckFailure` on a wrong value.
        got: The student's value (a tensor or a number).
        mistakes: Likely mistakes, in the order they are tried.
        want: The reference value; a mistake that equals it on these inputs is not named (it is not wrong here).
        rtol: Relative tolerance of :func:`matches`.
        atol: Absolute tolerance of :func:`matches`.
        period: Compare modulo this period (angles: ``2 * math.pi``).

    Raises:
        CheckFailure: ``compare`` failed: its numbers, then the named mistake (or its own hint).

    Examples:
        >>> import torch
        >>> x = torch.tensor([3.0, 4.0])
        >>> def compare():
        ...     expect_close("double(x)", x + 2, 2 * x, hint="Multiply by 2.")
        >>> try:
        ...     named_mistake(compare, x + 2, [(x + 2, "You added 2: multiply by 2.")], want=2 * x)
        ... except CheckFailure as err:
        ...     print(str(err).strip().splitlines()[-1])
        You added 2: multiply by 2.
    """
    try:
        compare()
    except CheckFailure as err:
        for value, why in mistakes:
            value = value() if callable(value) else value
            if matches(got, value, rtol=rtol, atol=atol, period=period) and not (
                    want is not None and matches(want, value, rtol=rtol, atol=atol, period=period)):
                numbers = str(err).strip().split("\nHint:")[0]
                raise CheckFailure(f"{numbers}\n{why}") from None
        raise


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
    named_mistake(lambda: expect_close(name, got, want, rtol=rtol, atol=atol, hint=hint, context=context),
                  got if isinstance(got, torch.Tensor) else None, mistakes, want=want, rtol=rtol, atol=atol)


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
        if matches(got, value, rtol=0.0, atol=tol) and not matches(want, value, rtol=0.0, atol=tol):
            raise CheckFailure(f"{numbers}\n{why}")
    raise CheckFailure(numbers + (f"\nHint: {hint}" if hint else ""))
