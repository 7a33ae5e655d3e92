"""Lesson 4's checks: the messages of the locked cells that read the student's own numbers."""

from __future__ import annotations

import pytest
import torch

from mi_tutor import circuits_vision as cv
from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson04 as c4


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)

def test_lesson04_result_checks_send_the_student_back():
    ang = torch.arange(36) * (2 * torch.pi / 36)
    pref = torch.arange(6) * (2 * torch.pi / 6)
    c4.check_handoff_result(cv.handoff(torch.exp(2 * (torch.cos(ang[:, None] + 0.4 - pref[None]) - 1)), ang, pref))
    scrambled = cv.handoff(torch.rand(36, 6, generator=torch.Generator().manual_seed(1)), ang, pref)
    with pytest.raises(CheckFailure, match="Exercise 4.5"):          # responses that ignore the rotation
        c4.check_handoff_result(scrambled)
    with pytest.raises(CheckFailure, match="Exercise 4.6"):
        c4.check_alignment_result(0.01, torch.randn(50, generator=torch.Generator().manual_seed(0)) * 0.05)


def test_next_layer_checks_accept_the_reference_and_reject_mistakes():
    c4.check_circle_alignment(cv.circle_alignment)
    c4.check_composition_rows(cv.composition_rows)
    c4.check_pose_index(cv.pose_index)
    fails(c4.check_circle_alignment, lambda w, o: -cv.circle_alignment(w, o), "wrong sign")
    fails(c4.check_composition_rows, lambda w, u, p: cv.composition_rows(w, u, p).flip(1), "bottom, top")
    fails(c4.check_pose_index, lambda a, f: -cv.pose_index(a, f), "wrong sign")
    fails(c4.check_pose_index, lambda a, f: (a[f < 0].mean(0) - a[f > 0].mean(0)) / (a[f < 0].mean(0) + a[f > 0].mean(0)),
          "NaN")
    fails(c4.check_pose_index, lambda a, f: (a[f < 0].sum(0) - a[f > 0].sum(0)) / (a[f < 0].sum(0) + a[f > 0].sum(0)
                                                                                   ).clamp_min(1e-8), "mean")


def test_next_layer_result_checks_recompute_from_the_weights():
    g = torch.Generator().manual_seed(0)
    o = torch.arange(6) * (2 * torch.pi / 6)
    w = torch.randn(4, 6, 3, 3, generator=g)
    a = cv.circle_alignment(w, o)
    c4.check_circle_result(a, w, o, torch.rand(30, 4, generator=g))
    with pytest.raises(CheckFailure, match="Exercise 4.8"):
        c4.check_circle_result(-a, w, o, torch.rand(30, 4, generator=g))
    weight = torch.randn(3, 5, 3, 3, generator=g)
    units = cv.CompositionUnits(1, 2.0, ("wheel", "window"), (0, 4), (1.0, 1.0))
    rows = cv.composition_rows(weight, 1, [0, 4])
    c4.check_composition_result(rows, weight, units)
    with pytest.raises(CheckFailure, match="Exercise 4.11"):
        c4.check_composition_result(rows.flip(1), weight, units)
    # A pose circuit built by hand: unit 0 left, unit 1 right, next unit 2 fed by both.
    facing = torch.tensor([-1, -1, 1, 1])
    acts = torch.tensor([[2.0, 1.0], [2.0, 1.0], [1.0, 2.0], [1.0, 2.0]])
    weight = torch.zeros(3, 2, 3, 3)
    weight[2] = 0.1
    units = cv.PoseUnits(0, 1, cv.pose_index(acts, facing), 2, 0.0, 3.0)
    c4.check_pose_result(units, weight, facing, acts)
    weight[2, 1] = -0.1
    with pytest.raises(CheckFailure, match="not both positive"):
        c4.check_pose_result(units, weight, facing, acts)
    with pytest.raises(CheckFailure, match="Exercise 4.12"):
        c4.check_pose_result(cv.PoseUnits(0, 1, -cv.pose_index(acts, facing), 2, 0.0, 3.0), weight, facing, acts)
