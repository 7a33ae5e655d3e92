"""Argument checks quote the argument, the shape seen and the shape wanted."""

from __future__ import annotations

import pytest
import torch

from types import SimpleNamespace

from mi_tutor.device import get_device, model_device, seed_everything
from mi_tutor.validation import (ShapeError, check_choice, check_feature_pair, check_features, check_layer_index,
                                 check_module_name, check_paired_inputs, check_position_list, check_positions,
                                 check_range, check_tensor, check_vector, unknown_name)


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


def test_unknown_name_suggests_near_names():
    err = unknown_name("No hook point named 'blocks.0.hook_resid_pr'", "blocks.0.hook_resid_pr",
                       ["blocks.0.hook_resid_pre", "blocks.0.hook_resid_post", "hook_embed"], tail="See hook_names().")
    assert isinstance(err, KeyError)
    assert "Did you mean 'blocks.0.hook_resid_pre'" in err.args[0] and err.args[0].endswith("See hook_names().")
    assert "Did you mean" not in unknown_name("No model named 'zzz'", "zzz", ["abc", "def"]).args[0]
    # `also`: a second spelling to search (e.g. the full hook name a short name expands to)
    assert "'hook_embed'" in unknown_name("x", "embed_", ["hook_embed", "blocks.0.attn"], also=["hook_embed"]).args[0]


def test_layer_index_and_module_name():
    model = SimpleNamespace(cfg=SimpleNamespace(n_layers=3))
    assert check_layer_index("layer", 2, model) == 2
    assert check_layer_index("layer", 3, model, allow_final=True) == 3
    for bad in (3, -1, True, "1", 1.0):
        with pytest.raises(ValueError, match=r"`layer` is .* but the model has 3 layers: use an int in 0 \.\. 2"):
            check_layer_index("layer", bad, model)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    assert check_module_name("layer", "1", net) == "1"
    with pytest.raises(KeyError, match="`gate_layer`='2' is not valid"):
        check_module_name("gate_layer", "2", net)
    with pytest.raises(TypeError, match="`layer` should be a module name"):
        check_module_name("layer", 1, net)


def test_positions_any_form_and_as_a_list():
    check_positions("positions", None, 4)
    check_positions("positions", torch.tensor([[0, 3], [-4, 1]]), 4)   # per prompt, negatives from the end
    with pytest.raises(IndexError, match="`pos` holds position 4 but the prompts have 4 positions"):
        check_positions("pos", [0, 4], 4)
    with pytest.raises(IndexError, match="holds position -5"):
        check_positions("pos", torch.tensor([-5]), 4)
    with pytest.raises(ShapeError, match="integer positions"):
        check_positions("pos", torch.tensor([0.5]), 4)
    with pytest.raises(ShapeError, match="integer positions but holds 'a'"):
        check_positions("pos", [1, "a"], 4)
    assert check_position_list("pos", None, 4) == slice(None)
    assert check_position_list("pos", -1, 4) == [-1]
    assert check_position_list("pos", torch.tensor([0, 2]), 4) == [0, 2]
    with pytest.raises(ShapeError, match=r"same for every prompt.*\(2, 1\)"):
        check_position_list("pos", torch.zeros(2, 1, dtype=torch.long), 4)


def test_vectors_features_and_pairs():
    check_vector("v", torch.zeros(8), 8)
    with pytest.raises(ShapeError, match=r"`v` has shape \(4,\) but the model's d_mlp is 8"):
        check_vector("v", torch.zeros(4), 8, "d_mlp")
    with pytest.raises(ShapeError, match="float tensor"):
        check_vector("v", torch.zeros(8, dtype=torch.long), 8)
    with pytest.raises(ShapeError, match="1-D tensor is ambiguous"):
        check_features("X", torch.zeros(5))
    with pytest.raises(ShapeError, match="NaN"):
        check_features("X", torch.tensor([[0.0], [float("nan")]]))
    with pytest.raises(ShapeError, match="`A` has 3 examples but `B` has 4"):
        check_feature_pair(torch.zeros(3, 2), torch.zeros(4, 2), names=("A", "B"))
    check_paired_inputs(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ShapeError, match=r"`clean` has shape \(2, 3\) but `corrupt` has shape \(2, 4\)"):
        check_paired_inputs(torch.zeros(2, 3), torch.zeros(2, 4))


def test_model_device_follows_the_weights():
    assert model_device(torch.nn.Linear(2, 2)) == torch.device("cpu")
    assert model_device(torch.nn.ReLU()) == torch.device("cpu")          # no parameters
    assert model_device(torch.nn.BatchNorm1d(2, affine=False)) == torch.device("cpu")  # buffers only
    if torch.cuda.is_available():
        assert model_device(torch.nn.Linear(2, 2).cuda()).type == "cuda"
