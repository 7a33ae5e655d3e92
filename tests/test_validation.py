"""Argument checks quote the argument, the shape seen and the shape wanted."""

from __future__ import annotations

import pytest
import torch

from mi_tutor.device import get_device, seed_everything
from mi_tutor.validation import ShapeError, check_choice, check_range, check_tensor


def test_named_dimensions_bind_across_arguments():
    dims = check_tensor("x", torch.zeros(4, 3), ("batch", 3))
    with pytest.raises(ShapeError, match=r"`y` has shape \(5,\) but expected \(batch,\) with batch=4"):
        check_tensor("y", torch.zeros(5), ("batch",), dims=dims)


def test_wrong_rank_and_size_and_type():
    with pytest.raises(ShapeError, match=r"2 dimensions given, 3 wanted"):
        check_tensor("W", torch.zeros(2, 2), ("a", "b", "c"))
    with pytest.raises(ShapeError, match=r"axis 1 is 4, wanted 3"):
        check_tensor("img", torch.zeros(1, 4), (None, 3))
    with pytest.raises(ShapeError, match="should be a torch.Tensor but is a list"):
        check_tensor("x", [1, 2], ("n",))
    with pytest.raises(ShapeError, match="floating point"):
        check_tensor("x", torch.zeros(2, dtype=torch.long), floating=True)
    assert check_tensor("x", torch.zeros(7, 2, 3), ("...", 2, "d")) == {"d": 3}


def test_choice_and_range():
    with pytest.raises(KeyError, match="Did you mean 'mean'"):
        check_choice("mode", "maen", ["zero", "mean"])
    with pytest.raises(ValueError, match=r"`p` must lie in \[0, 1\] but is 1.5"):
        check_range("p", 1.5, 0, 1)
    with pytest.raises(ValueError, match="values from -1 to 0.5"):
        check_range("p", torch.tensor([-1.0, 0.5]), 0, 1)


def test_device_choice_never_mps_by_default(monkeypatch):
    monkeypatch.delenv("MI_TUTOR_DEVICE", raising=False)
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("MI_TUTOR_DEVICE", "cpu")
    assert get_device().type == "cpu"


def test_seeding_is_reproducible():
    seed_everything(3)
    a = torch.rand(3)
    seed_everything(3)
    assert torch.equal(a, torch.rand(3))
