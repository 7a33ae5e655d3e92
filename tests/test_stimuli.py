"""The controlled stimuli of mi_tutor.vision.stimuli: where an arc bulges, what orientation 0 means."""

from __future__ import annotations

import math

import torch

from mi_tutor.vision.stimuli import render_curves


def test_stimuli_arc_bulges_towards_its_orientation_and_line_is_straight():
    # an arc facing up (pi/2) has its midpoint at the centre and its ends below it
    img = render_curves(torch.tensor([math.pi / 2]), torch.tensor([3.0]))[0]
    stroke = (img.mean(0) - 0.4).abs() > 0.2
    rows = torch.nonzero(stroke)[:, 0].float()
    assert rows.mean() > 15.5, "the ends of an upward-bulging arc lie below the centre (rows grow downwards)"
    line = render_curves(torch.tensor([0.0]), torch.tensor([0.0]))[0]
    cols = torch.nonzero((line.mean(0) - 0.4).abs() > 0.2)[:, 1]
    assert cols.max() - cols.min() <= 3, "orientation 0 means a vertical line (its normal points right)"
