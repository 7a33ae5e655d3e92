"""Every exercise has one contract, and its visible check enforces it (issue 27).

Each ``mi_tutor.checks.lessonNN`` module declares ``CONTRACTS``: one
:class:`~mi_tutor.checks.contracts.Contract` per exercise function the lesson asks for. These tests
take the lesson's own material (its setup cell, the instructor's solution cells, the visible test
cells, as the grader's self-test reads them) and break the reference answer in the ways a contract
forbids, one at a time, keeping its values right:

- it edits its first mutable argument in place after computing the answer (``leaves_inputs_unchanged``);
- it returns the right value inside an object of the wrong type (``returns``);
- it runs under ``torch.no_grad()`` (``gradient="flows"``);
- its ``torch.enable_grad()`` is dropped while the caller has switched gradients off (``under_no_grad``).

The visible test cell must fail each broken answer with a message that names the broken promise.
A promise that does not apply (no mutable argument, no type rule) is not probed; the test lists
which were, so a contract cannot silently lose its probes.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from conftest import LESSONS
from mi_tutor.checks.contracts import Contract
from mi_tutor.course.grading.executor import grading_plan
from mi_tutor.course.lessons import read_lesson


def _module(lesson) -> Any:
    return importlib.import_module(f"mi_tutor.checks.lesson{lesson.slug[:2]}")


def _plan(lesson) -> dict:
    return grading_plan(read_lesson(lesson.path))


def _setup_source(lesson) -> str:
    nb = read_lesson(lesson.path)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    setup = next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    return "\n".join(line for line in setup.source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _exercise_names(plan: dict) -> list[str]:
    return [name for ref in plan["references"] for name in re.findall(r"^def (\w+)\(", ref, re.M)]


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.slug for l in LESSONS])
def test_every_exercise_has_a_contract(lesson):
    contracts = getattr(_module(lesson), "CONTRACTS", None)
    assert isinstance(contracts, dict), f"mi_tutor/checks/lesson{lesson.slug[:2]}.py declares no CONTRACTS dict"
    names = _exercise_names(_plan(lesson))
    missing = [n for n in names if n not in contracts]
    assert not missing, f"exercises of {lesson.slug} without a contract: {missing}"
    extra = sorted(set(contracts) - set(names))
    assert not extra, f"contracts of {lesson.slug} for no exercise: {extra}"
    assert all(isinstance(c, Contract) for c in contracts.values())


# --- the broken answers -------------------------------------------------------------------------

def _first_mutable(value: Any) -> torch.Tensor | None:
    """The first floating tensor an in-place edit could reach: a tensor, a module's parameter, inside containers."""
    if isinstance(value, torch.Tensor):
        return value if value.is_floating_point() and value.numel() else None
    if isinstance(value, nn.Module):
        return next((p for p in value.parameters() if p.is_floating_point()), None)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return next((t for t in map(_first_mutable, value) if t is not None), None)
    return None


def _in_place(fn: Callable, seen: dict) -> Callable:
    def broken(*args, **kwargs):
        out = fn(*args, **kwargs)
        target = next((t for t in map(_first_mutable, list(args) + list(kwargs.values())) if t is not None), None)
        if target is not None:
            seen["mutated"] = True
            with torch.no_grad():
                target.mul_(1.5).add_(0.25)
        return out
    return broken


class _Wrapped:
    """The right answer in the wrong type."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _wrong_type(fn: Callable, seen: dict) -> Callable:
    def broken(*args, **kwargs):
        seen["called"] = True
        return _Wrapped(fn(*args, **kwargs))
    return broken


def _no_grad(fn: Callable, seen: dict) -> Callable:
    def broken(*args, **kwargs):
        seen["called"] = True
        with torch.no_grad():
            return fn(*args, **kwargs)
    return broken


def _without_enable_grad(fn: Callable, seen: dict) -> Callable:
    def broken(*args, **kwargs):
        seen["called"] = True
        real = torch.enable_grad
        torch.enable_grad = contextlib.nullcontext  # the answer's `with torch.enable_grad():` does nothing
        try:
            return fn(*args, **kwargs)
        finally:
            torch.enable_grad = real
    return broken


PROBES = {  # promise -> (breaks it, what the check's message must say)
    "leaves_inputs_unchanged": (_in_place, r"in place"),
    "returns": (_wrong_type, r"return"),
    "gradient": (_no_grad, r"gradient|grad"),
    "under_no_grad": (_without_enable_grad, r"grad"),
}


def _promises(contract: Contract) -> list[str]:
    out = []
    if contract.leaves_inputs_unchanged:
        out.append("leaves_inputs_unchanged")
    if contract.returns is not None:
        out.append("returns")
    if contract.gradient == "flows":
        out.append("gradient")
    if contract.under_no_grad:
        out.append("under_no_grad")
    return out


def _run(code: str, ns: dict) -> Exception | None:
    try:
        exec(compile(code, "<visible test>", "exec"), ns)
    except Exception as err:  # noqa: BLE001 - any failure fails the cell (an interrupt still stops the test)
        return err
    return None


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.slug for l in LESSONS])
def test_every_visible_check_enforces_its_contract(lesson):
    contracts = _module(lesson).CONTRACTS
    plan = _plan(lesson)
    ns: dict = {"__name__": "__main__"}
    torch.manual_seed(0)
    exec(compile(_setup_source(lesson), "<setup>", "exec"), ns)
    for ref in plan["references"]:
        exec(compile(ref, "<solution>", "exec"), ns)
    probed, problems = [], []
    for test in plan["selftest"]:
        for name in test["names"]:
            for promise in _promises(contracts[name]):
                breaker, pattern = PROBES[promise]
                seen: dict = {}
                broken_ns = dict(ns)
                broken_ns[name] = breaker(ns[name], seen)
                err = _run(test["code"], broken_ns)
                if promise == "leaves_inputs_unchanged" and not seen.get("mutated"):
                    continue  # no tensor or module argument to edit: the promise cannot be broken
                probed.append(f"{name}:{promise}")
                if err is None:
                    problems.append(f"{test['grade_id']} passed `{name}` with its `{promise}` promise broken")
                elif not re.search(pattern, str(err), re.I):
                    problems.append(f"{test['grade_id']}: `{name}` with its `{promise}` promise broken failed, but the "
                                    f"message does not say so ({type(err).__name__}: {str(err)[:200]!r})")
    assert not problems, "\n".join(problems)
    tested = {p.split(":")[0] for p in probed}
    untested = [n for n in _exercise_names(plan) if _promises(contracts[n]) and n not in tested]
    assert not untested, f"exercises whose promises no visible test probed: {untested}"
