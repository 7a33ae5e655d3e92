"""One exercise's contract, tested the same way by every check.

An exercise's text promises more than the numbers: what type the function
returns, that it leaves its inputs as they were, whether a gradient must reach
the result (or must not), and whether that gradient is computed even when the
caller switched autograd off. :class:`Contract` states those promises and
:func:`check_contract` calls the student's function once and tests them all,
so that no check tests them by hand, and every failure names the mistake
("changed its argument `F` in place ...", "returned a tensor with no gradient ...").

Examples:
    >>> import torch
    >>> contract = Contract(returns=float)
    >>> check_contract("total", lambda x: float(x.sum()), contract, torch.ones(3))
    3.0
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .core import CheckFailure, call_student, expect_close

__all__ = ["Contract", "check_contract", "compare_functions", "snapshot", "changed_inputs"]


@dataclass(frozen=True)
class Contract:
    """What an exercise's function promises besides its values.

    Attributes:
        returns: The type (or types) of the result; ``None`` for no type rule.
        items: With ``returns=list`` (or tuple), the type of every element, e.g. ``int``
            for "a list of ints" (a tensor or numpy array is refused with a ``.tolist()`` hint).
        leaves_inputs_unchanged: The arguments (tensors, arrays, modules' parameters
            and buffers, and containers and dataclasses of them) are deep-compared before and after the call.
        gradient: ``"flows"``: the (tensor) result must be in the autograd graph, and a
            backward pass from it must reach ``grad_to``; ``"none"``: the result must be
            detached; ``None``: no rule.
        under_no_grad: Call the function inside an outer ``torch.no_grad()``: the text
            says the gradient is computed whatever the caller set.
    """

    returns: type | tuple[type, ...] | None = None
    items: type | tuple[type, ...] | None = None
    leaves_inputs_unchanged: bool = True
    gradient: Literal["flows", "none"] | None = None
    under_no_grad: bool = False


def _type_name(wanted: type | tuple[type, ...]) -> str:
    return wanted.__name__ if isinstance(wanted, type) else " or ".join(w.__name__ for w in wanted)


def snapshot(value: Any) -> Any:
    """A deep copy of what a call could change in ``value``: tensors, arrays, module states, containers, dataclasses.

    Examples:
        >>> t = torch.zeros(2)
        >>> s = snapshot([t, 3])
        >>> t += 1
        >>> s[0]
        tensor([0., 0.])
    """
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, nn.Module):
        return {k: v.detach().clone() for k, v in value.state_dict(keep_vars=True).items()}
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [snapshot(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: snapshot(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return None


def _same(after: Any, before: Any) -> bool:
    if isinstance(after, torch.Tensor):
        a = after.detach()
        return (a.shape == before.shape and a.dtype == before.dtype
                and bool(torch.equal(a.nan_to_num(), before.nan_to_num()) if a.is_floating_point()
                         else torch.equal(a, before)))
    if isinstance(after, np.ndarray):
        return after.shape == before.shape and bool(np.array_equal(after, before, equal_nan=after.dtype.kind == "f"))
    if isinstance(after, nn.Module):
        now = after.state_dict(keep_vars=True)
        return now.keys() == before.keys() and all(_same(now[k], before[k]) for k in now)
    if isinstance(after, dict):
        return after.keys() == before.keys() and all(_same(after[k], before[k]) for k in after)
    if isinstance(after, (list, tuple)):
        return len(after) == len(before) and all(_same(a, b) for a, b in zip(after, before))
    if dataclasses.is_dataclass(after) and not isinstance(after, type):
        return all(_same(getattr(after, f.name), before[f.name]) for f in dataclasses.fields(after))
    return True


def changed_inputs(args: Sequence[Any], before: Sequence[Any]) -> list[int]:
    """The positions of the arguments that differ from their :func:`snapshot`.

    Examples:
        >>> x, y = torch.ones(2), torch.ones(2)
        >>> before = [snapshot(x), snapshot(y)]
        >>> y.mul_(2)
        tensor([2., 2.])
        >>> changed_inputs([x, y], before)
        [1]
    """
    return [i for i, (a, b) in enumerate(zip(args, before)) if not _same(a, b)]


_IN_PLACE = r"(?:[-+*/%@]|//|\*\*)=|\.\w+_\(|\[[^\]]*\]\s*=(?!=)"


def _parameter_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    return (params + [f"#{i + 1}" for i in range(len(params), n)])[:n]


def _in_place_line(fn: Callable[..., Any], param: str) -> str:
    """The first line of ``fn``'s source that edits ``param`` in place (``F /= ...``, ``F.div_(...)``)."""
    try:
        lines = inspect.getsource(fn).splitlines()
    except (OSError, TypeError):
        return ""
    pattern = re.compile(rf"(?<![\w.]){re.escape(param)}\s*(?:{_IN_PLACE})")
    for line in lines:
        code = line.split("#")[0]
        if pattern.search(code):
            return code.strip()
    return ""


def _fix_for(line: str) -> str:
    m = re.match(r"(\w+)\s*([-+*/%@]|//|\*\*)=\s*(.+)", line)
    if m:
        return f": work on a copy (`{m[1]} = {m[1]} {m[2]} {m[3]}`)"
    return ": work on a copy (`.clone()` first) or use out-of-place operations (`x = x * 2`, not `x *= 2`)"


def _check_inputs(name: str, fn: Callable[..., Any], args: Sequence[Any], before: Sequence[Any], context: str) -> None:
    changed = changed_inputs(args, before)
    if not changed:
        return
    i = changed[0]
    param = _parameter_names(fn, len(args))[i]
    line = _in_place_line(fn, param)
    what = "the parameters of its module argument" if isinstance(args[i], nn.Module) else f"its argument `{param}`"
    where = f" (`{line}`)" if line else ""
    raise CheckFailure(f"`{name}` changed {what} in place{where}: the caller's values must be left as they were"
                       f"{_fix_for(line)}.{_called(context)}")


def _called(context: str) -> str:
    return f"\n(called {context})" if context else ""


def _check_returns(name: str, got: Any, contract: Contract, context: str) -> None:
    if contract.returns is not None and not isinstance(got, contract.returns):
        want = _type_name(contract.returns)
        if contract.items is not None:
            want += f" of {_type_name(contract.items)}"
        hint = ""
        if got is None:
            hint = " Did you forget a `return` statement?"
        elif isinstance(got, (torch.Tensor, np.ndarray)) and contract.items is not None:
            hint = " Use `.tolist()`."
        elif isinstance(got, torch.Tensor) and got.numel() == 1 and contract.returns in (float, int, (float, int)):
            hint = " Use `.item()` (or `float(...)`)."
        raise CheckFailure(f"`{name}` should return a {want} but returned a {type(got).__module__.split('.')[0]}."
                           f"{type(got).__name__}.{hint}".replace("builtins.", "") + _called(context))
    if contract.items is not None and isinstance(got, (list, tuple)):
        bad = [v for v in got if not isinstance(v, contract.items) or isinstance(v, bool)]
        if bad:
            hint = " Use `.tolist()` on the tensor (or `int(k)`)." if isinstance(bad[0], torch.Tensor) else ""
            raise CheckFailure(f"`{name}` should return a {_type_name(contract.returns or list)} of "
                               f"{_type_name(contract.items)}, but an element is a {type(bad[0]).__name__}.{hint}"
                               + _called(context))


def _check_gradient(name: str, got: Any, contract: Contract, grad_to: Sequence[torch.Tensor], context: str) -> None:
    if contract.gradient is None or not isinstance(got, torch.Tensor):
        return
    if contract.gradient == "none":
        if got.requires_grad:
            raise CheckFailure(f"`{name}` returned a tensor that is still part of the autograd graph: "
                               f"return it detached (`.detach()`).{_called(context)}")
        return
    if not got.requires_grad:
        raise CheckFailure(f"`{name}` returned a tensor with no gradient: was it computed under "
                           "`torch.no_grad()`, detached (`.detach()`, `.item()`), or was `torch.enable_grad()` dropped?"
                           + _called(context))
    if grad_to:
        for t in grad_to:
            t.grad = None
        with torch.enable_grad():
            got.float().sum().backward()
        if all(t.grad is None or not bool(t.grad.abs().sum() > 0) for t in grad_to):
            raise CheckFailure(f"No gradient reached the parameters it must reach from the result of `{name}`: "
                               "keep them in the graph (no `torch.no_grad()`, `.detach()` or `.data` on the way)."
                               + _called(context))


def check_contract(name: str, student_fn: Callable[..., Any], contract: Contract, *args: Any, context: str = "",
                   grad_to: Sequence[torch.Tensor] = (), compare: Callable[[Any], None] | None = None) -> Any:
    """Call ``student_fn(*args)`` once and test ``contract``; return the student's result.

    A crash becomes a :class:`CheckFailure` that quotes the student's line (see
    :func:`~mi_tutor.checks.core.call_student`); with ``under_no_grad`` a crash that
    says autograd had nothing to differentiate is explained as a missing ``torch.enable_grad()``.

    Args:
        name: The function's name, quoted in messages.
        student_fn: The student's function.
        contract: What it promises.
        *args: Its arguments, passed positionally; the caller's own objects, so that
            an in-place edit is seen (pass copies when the reference needs the originals).
        context: Which input this was, for messages.
        grad_to: With ``gradient="flows"``, tensors (parameters) a backward pass from
            the result must reach.
        compare: ``compare(got)``, the check's own value comparison, run after the input and
            type rules and before the gradient probe (so a wrong value is named as such first).

    Returns:
        What ``student_fn`` returned.

    Raises:
        CheckFailure: The call crashed or broke the contract.

    Examples:
        >>> x = torch.ones(3)
        >>> def normalise(F):
        ...     F /= F.norm()
        ...     return F
        >>> try:
        ...     check_contract("normalise", normalise, Contract(returns=torch.Tensor), x)
        ... except CheckFailure as err:
        ...     print(str(err).strip()[:62])
        `normalise` changed its argument `F` in place (`F /= F.norm()`
    """
    before = [snapshot(a) for a in args] if contract.leaves_inputs_unchanged else []
    try:
        if contract.under_no_grad:
            with torch.no_grad():
                got = call_student(name, student_fn, *args, context=context)
        else:
            got = call_student(name, student_fn, *args, context=context)
    except CheckFailure as err:
        cause = err.__cause__
        if contract.under_no_grad and isinstance(cause, RuntimeError) and "grad" in str(cause):
            raise CheckFailure(f"{str(err).strip()}\nThe caller had switched gradients off (`torch.no_grad()`): the "
                               "gradient must be computed whatever the caller set, so wrap the forward and backward "
                               "pass in `with torch.enable_grad():`.") from cause
        raise
    if contract.leaves_inputs_unchanged:
        _check_inputs(name, student_fn, args, before, context)
    _check_returns(name, got, contract, context)
    if compare is not None:
        compare(got)
    _check_gradient(name, got, contract, grad_to, context)
    return got


def compare_functions(
    name: str,
    student_fn: Callable[..., Any],
    reference_fn: Callable[..., Any],
    cases: Iterable[Mapping[str, Any]],
    *,
    compare: Callable[[Any, Any, str], None] | None = None,
    describe: Callable[[Mapping[str, Any]], str] | None = None,
    contract: Contract | None = None,
    grad_to: Iterable[torch.Tensor] = (),
) -> int:
    """Run both functions on every case and compare the results.

    Args:
        name: The function's name, quoted in messages.
        student_fn: The student's implementation.
        reference_fn: ``mi_tutor``'s implementation.
        cases: Argument dicts in the order of the exercise's signature; the
            values are passed *positionally* to both functions (a student may
            name parameters differently) and tensors are cloned, so an
            in-place edit by the student cannot leak into the reference run;
            such an edit fails the check (inputs must be left unchanged).
        compare: ``compare(got, want, context)``; defaults to :func:`~mi_tutor.checks.core.expect_close`.
        describe: Turns a case into words for messages (default: argument shapes).
        contract: The exercise's :class:`Contract`, tested on every
            case by :func:`check_contract` (default: inputs left
            unchanged, nothing else).
        grad_to: Tensors a backward pass from the result must reach (``gradient="flows"``).

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
    contract = contract or Contract()
    n = 0
    for case in cases:
        context = describe(case)
        given = clone(case)
        check_contract(name, student_fn, contract, *given.values(), context=context, grad_to=grad_to,
                       compare=lambda got: compare(got, reference_fn(*clone(case).values()), context))
        n += 1
    return n
