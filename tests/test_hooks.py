"""Hooks, caches and edits on plain nn.Modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mi_tutor.patching import ablation_effect, channel_logit_drops, scale_channels, scale_sweep, zero_channels
from mi_tutor.hooks import get_module, hooks, list_layers, run_with_cache, run_with_hooks
from mi_tutor.vision.models import ConvNet, ConvNetConfig


@pytest.fixture
def net():
    torch.manual_seed(0)
    return ConvNet(ConvNetConfig(channels=(4, 6), kernel_size=3, n_classes=3)).eval()


def test_run_with_cache_matches_manual_forward(net):
    x = torch.randn(2, 3, 8, 8)
    out, cache = run_with_cache(net, x, ["layer1.0", "layer1", "head.2"])
    assert torch.allclose(cache["layer1"], torch.relu(net.layer1[0](x)))
    assert torch.allclose(cache["head.2"], out)
    assert not any(m._forward_hooks for m in net.modules()), "hooks must be removed"


def test_unknown_names_list_near_matches(net):
    with pytest.raises(KeyError, match="Did you mean 'layer1.0'"):
        get_module(net, "layer_1.0")
    _, cache = run_with_cache(net, torch.randn(1, 3, 8, 8), ["layer1.0"])
    with pytest.raises(KeyError, match="layer1.0"):
        cache["relu9"]


def test_hook_returning_wrong_shape_is_a_clear_error(net):
    with pytest.raises(ValueError, match=r"must return None or a tensor of the activation's shape \(1, 4, 8, 8\)"):
        run_with_hooks(net, torch.randn(1, 3, 8, 8), [("layer1.0", lambda a, h: a[:, :2])])
    assert not any(m._forward_hooks for m in net.modules()), "a failing hook must not stay attached"


def test_hooks_context_manager_edits_then_restores(net):
    x = torch.randn(2, 3, 8, 8)
    clean = net(x)
    with hooks(net, [("layer2", lambda a, h: torch.zeros_like(a))]):
        edited = net(x)
    assert torch.allclose(edited, net.head[2].bias.expand_as(edited))
    assert torch.allclose(net(x), clean)


def test_list_layers_shapes_and_params(net):
    rows = list_layers(net, torch.randn(5, 3, 8, 8))
    names = [r.name for r in rows]
    assert names == ["layer1.0", "layer1.1", "layer2.0", "layer2.1", "layer2.2", "head.0", "head.1", "head.2"]
    conv1 = rows[0]
    assert conv1.n_params == 4 * 3 * 3 * 3 + 4 and conv1.output_shape == (5, 4, 8, 8)


def test_zero_and_scale_channels():
    act = torch.randn(2, 5, 3, 3)
    ctx = None
    z = zero_channels([1, 3])(act, ctx)
    assert z[:, [1, 3]].abs().sum() == 0 and torch.equal(z[:, [0, 2, 4]], act[:, [0, 2, 4]])
    s = scale_channels(2, 3.0)(act, ctx)
    assert torch.allclose(s[:, 2], 3 * act[:, 2])
    assert torch.equal(act, act.clone()), "the input activation is not modified in place"


def test_out_of_range_channel_names_the_range(net):
    with pytest.raises(IndexError, match=r"valid channels are 0\.\.3"):
        run_with_hooks(net, torch.randn(1, 3, 8, 8), [("layer1.0", zero_channels(7))])


def test_ablation_effect_against_manual_computation(net):
    x = torch.randn(16, 3, 8, 8)
    labels = net(x).argmax(-1)
    effect = ablation_effect(net, x, labels, "layer2", 2)
    assert effect["accuracy_clean"] == 1.0
    with torch.no_grad():
        h = torch.relu(net.layer2[1](net.layer2[0](torch.relu(net.layer1[0](x)))))
        h[:, 2] = 0
        manual = net.head[2](h.mean((2, 3)))
    drop = (net(x).gather(1, labels[:, None]) - manual.gather(1, labels[:, None])).mean().item()
    assert effect["logit_drop"] == pytest.approx(drop, abs=1e-5)
    imp = channel_logit_drops(net, x, labels, "layer2")
    assert imp.shape == (6,) and imp[2].item() == pytest.approx(drop, abs=1e-5)
    sweep = scale_sweep(net, x, labels, "layer2", 2, [0.0, 1.0])
    assert sweep[1] - sweep[0] == pytest.approx(drop, abs=1e-5)


def test_bad_input_names_argument_and_shapes(net):
    with pytest.raises(ValueError, match=r"`images` has shape \(3, 8, 8\) but expected \(batch, \?, \?, \?\)"):
        ablation_effect(net, torch.randn(3, 8, 8), torch.zeros(3, dtype=torch.long), "layer2", 0)
    with pytest.raises(ValueError, match="`labels` has shape"):
        ablation_effect(net, torch.randn(3, 3, 8, 8), torch.zeros(4, dtype=torch.long), "layer2", 0)


@pytest.mark.cuda
def test_hooks_and_edits_follow_cuda_inputs(net):
    net = net.cuda()
    x = torch.randn(4, 3, 8, 8, device="cuda")
    _, cache = run_with_cache(net, x, ["layer2"])
    assert cache["layer2"].is_cuda
    imp = channel_logit_drops(net, x, net(x).argmax(-1), "layer2")
    assert imp.is_cuda
