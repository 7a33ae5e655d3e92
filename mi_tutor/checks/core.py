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

import io
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "CheckFailure",
    "expect",
    "expect_type",
    "expect_tensor_like",
    "expect_close",
    "call_student",
    "student_line",
    "reference_helpers",
    "passed",
    "with_square_hint",
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


_LIBRARY_DIRS = tuple(str(Path(p).resolve()) for p in {Path(__file__).parents[1], Path(torch.__file__).parent,
                                                          Path(traceback.__file__).parent})


def _cell_name(filename: str) -> str:
    """``Cell In[7]`` for a notebook cell's compiled file name (IPython), else the file name."""
    shell = None
    try:  # inside a notebook kernel IPython knows which cell a compiled file came from
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython ships with Jupyter
        pass
    number = getattr(getattr(shell, "compile", None), "_filename_map", {}).get(filename) if shell else None
    return f"cell In[{number}]" if number is not None else Path(filename).name


def student_line(err: BaseException) -> str:
    """Where the student's own code failed: the last frame outside the library, torch and Python.

    Returns:
        ``"line 5 of cell In[7] (in zero_channel_hook): `activation[:, :, c] = 0`"``, or ``""`` when
        no frame of the traceback is the student's.

    Examples:
        >>> def broken(x):
        ...     return x[10]
        >>> try:
        ...     broken([1, 2])
        ... except IndexError as err:
        ...     print(student_line(err))  # doctest: +ELLIPSIS
        line 2 of ... (in broken): `return x[10]`
    """
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if not str(Path(f.filename).resolve()).startswith(_LIBRARY_DIRS)
              and "site-packages" not in f.filename and not f.filename.startswith("<frozen")]
    if not frames:
        return ""
    f = frames[-1]
    text = f" `{f.line.strip()}`" if f.line else ""
    return f"line {f.lineno} of {_cell_name(f.filename)} (in {f.name}):{text}"


def call_student(name: str, student_fn: Callable[..., Any], *args: Any, context: str = "") -> Any:
    """Call a student's function; turn a crash into a :class:`CheckFailure` that says where.

    A ``NotImplementedError`` names the function that is still a stub (the
    student's function itself, or one it calls). Any other exception names the
    student's own failing line with the exception, then ``context``; the original
    exception stays chained, so the notebook shows its full traceback too.

    Args:
        name: The function's name, quoted in messages.
        student_fn: The student's function.
        *args: Its arguments (positional: students may name parameters differently).
        context: Which input this was, for the message.

    Examples:
        >>> call_student("double", lambda x: 2 * x, 3)
        6
    """
    try:
        return student_fn(*args)
    except CheckFailure:
        raise
    except NotImplementedError as err:
        frames = [f for f in traceback.extract_tb(err.__traceback__)][1:]
        stub = frames[-1].name if frames else name
        if stub in (name, getattr(student_fn, "__name__", name)) or stub.startswith("<"):
            msg = f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code."
        else:
            msg = (f"`{name}` calls `{stub}`, which is still a stub: finish that exercise first "
                   f"(replace its `raise NotImplementedError()`).")
        raise CheckFailure(msg) from err
    except Exception as err:  # the student's code crashed: say where and on what
        where = student_line(err)
        msg = f"`{name}` raised {type(err).__name__}: {err}"
        if where:
            msg += f"\nYour code failed at {where}"
        if context:
            msg += f"\n(called {context})"
        raise CheckFailure(msg) from err


@contextmanager
def reference_helpers(student_fn: Callable[..., Any], **helpers: Callable[..., Any]) -> Iterator[None]:
    """Run ``student_fn`` with the reference versions of the earlier exercises' functions.

    A student's function that calls their own earlier answers (``zero_channel_hook``
    inside ``accuracy_after_ablation``) would lose points for the earlier
    mistake twice. Inside this context the names in ``helpers`` resolve to the
    reference implementations in the student's namespace; the student's own
    versions are put back afterwards, whatever happens.

    Examples:
        >>> def helper(): return "student"
        >>> def uses(): return helper()
        >>> with reference_helpers(uses, helper=lambda: "reference"):
        ...     uses()
        'reference'
        >>> uses()
        'student'
    """
    namespace = getattr(student_fn, "__globals__", None)
    if namespace is None:  # a callable object: nothing to swap
        yield
        return
    missing = object()
    saved = {name: namespace.get(name, missing) for name in helpers}
    namespace.update(helpers)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def passed(message: str) -> None:
    """Print a success line (to stdout: stderr would cost the student the points)."""
    print(f"\u2713 {message}")


def with_square_hint(check: Callable[..., None], student_fn: Callable[..., Any], shape: tuple[int, int],
                     square: Mapping[str, Any], **kwargs: Any) -> None:
    """Run ``check(student_fn, **kwargs)`` on non-square ``shape``; a failure that square inputs avoid is named.

    When the check fails on ``height x width`` maps with ``height != width`` but passes with
    ``kwargs`` updated by ``square`` (the same case made square), the message says the code
    works on square maps only.

    Examples:
        >>> def check(fn, h, w):
        ...     expect(fn(torch.zeros(h, w)).shape == (h, w), "wrong shape")
        >>> try:
        ...     with_square_hint(check, lambda x: x[:, :x.shape[0]], (3, 5), {"w": 3}, h=3, w=5)
        ... except CheckFailure as err:
        ...     print(str(err).splitlines()[2][:36])
        It passes on square inputs but fails
    """
    try:
        check(student_fn, **kwargs)
    except CheckFailure as err:
        if shape[0] == shape[1]:
            raise
        try:
            with redirect_stdout(io.StringIO()):
                check(student_fn, **{**kwargs, **square})
        except CheckFailure:
            raise err from err.__cause__
        raise CheckFailure(f"{str(err).strip()}\nIt passes on square inputs but fails on this {shape[0]} x {shape[1]} "
                           "(height x width) one: does your code use one side for both (`H` where `W` is meant, "
                           "`view(n, h * h)`)? Take the height and the width separately from `.shape[-2:]`."
                           ) from err.__cause__
