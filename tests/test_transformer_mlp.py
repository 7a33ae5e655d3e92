"""The transformer's MLP and LayerNorm variants: hook names, cache coverage, the maths behind each hook."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mi_tutor import zoo
from mi_tutor.transformer import HookedTransformer, TransformerConfig, get_act_name

SMALL = dict(n_layers=2, d_model=16, n_heads=2, d_head=8, d_vocab=12, n_ctx=10, d_mlp=32, init_range=0.3)


def model_of(**kw) -> HookedTransformer:
    return HookedTransformer(TransformerConfig(**{**SMALL, **kw})).eval()


def toks(batch=3, pos=10, seed=0):
    return torch.randint(0, 12, (batch, pos), generator=torch.Generator().manual_seed(seed))


BLOCK_HOOKS = ["hook_resid_pre", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_attn_scores",
               "attn.hook_pattern", "attn.hook_z", "attn.hook_result", "hook_attn_out"]
MLP_HOOKS = ["hook_resid_mid", "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out"]
LN_HOOKS = ["ln1.hook_scale", "ln1.hook_normalized", "ln2.hook_scale", "ln2.hook_normalized"]


@pytest.mark.parametrize("norm", [None, "LN"])
@pytest.mark.parametrize("attn_only", [True, False])
def test_hook_names_and_cache_cover_every_hook(norm, attn_only):
    model = model_of(normalization_type=norm, attn_only=attn_only)
    names = set(model.hook_names())
    for layer in range(2):
        for h in BLOCK_HOOKS + ["hook_resid_post"]:
            assert f"blocks.{layer}.{h}" in names
        for h in MLP_HOOKS:
            assert (f"blocks.{layer}.{h}" in names) == (not attn_only)
        for h in LN_HOOKS:
            wanted = norm == "LN" and (h.startswith("ln1") or not attn_only)
            assert (f"blocks.{layer}.{h}" in names) == wanted, h
    assert ("ln_final.hook_scale" in names) == (norm == "LN")
    _, cache = model.run_with_cache(toks())
    assert set(cache) == names  # run_with_cache records every hook point


def test_hook_names_are_in_forward_order():
    model = model_of(normalization_type="LN", attn_only=False)
    fired: list[str] = []
    model.run_with_hooks(toks(), fwd_hooks=[(lambda n: True, lambda a, hook: fired.append(hook.name))])
    assert fired == model.hook_names()


def test_residual_stream_and_mlp_maths():
    model = model_of(normalization_type="LN", attn_only=False, act_fn="gelu")
    logits, c = model.run_with_cache(toks())
    for L in range(2):
        torch.testing.assert_close(c["resid_mid", L], c["resid_pre", L] + c["attn_out", L])
        torch.testing.assert_close(c["resid_post", L], c["resid_mid", L] + c["mlp_out", L])
        torch.testing.assert_close(c["post", L], F.gelu(c["pre", L]))
        mlp = model.blocks[L].mlp
        torch.testing.assert_close(c["mlp_out", L], c["post", L] @ mlp.W_out + mlp.b_out)
        ln2 = model.blocks[L].ln2
        torch.testing.assert_close(c["pre", L], (c["normalized", L, "ln2"] * ln2.w + ln2.b) @ mlp.W_in + mlp.b_in)
        x = c["resid_pre", L]
        torch.testing.assert_close(c["scale", L, "ln1"], x.std(-1, unbiased=False, keepdim=True), atol=1e-4, rtol=1e-4)
        normed = c["normalized", L, "ln1"]
        torch.testing.assert_close(normed.mean(-1), torch.zeros_like(normed.mean(-1)), atol=1e-5, rtol=0)
    final = c["ln_final.hook_normalized"] * model.ln_final.w + model.ln_final.b
    torch.testing.assert_close(logits, final @ model.W_U + model.b_U)
    assert c["pre", 0].shape == (3, 10, 32) and c["scale"].shape == (3, 10, 1)


def test_relu_mlp_without_layernorm():
    model = model_of(normalization_type=None, attn_only=False)
    _, c = model.run_with_cache(toks())
    torch.testing.assert_close(c["post", 1], c["pre", 1].clamp(min=0))
    torch.testing.assert_close(c["pre", 1], c["resid_mid", 1] @ model.W_in[1] + model.blocks[1].mlp.b_in)


def test_editing_an_mlp_hook_changes_the_output():
    model = model_of(normalization_type="LN", attn_only=False)
    tokens = toks()
    clean = model(tokens)
    zeroed = model.run_with_hooks(tokens, fwd_hooks=[(get_act_name("post", 1), lambda a, h: a * 0)])
    assert not torch.allclose(clean, zeroed)
    # zeroing the MLP's hidden layer leaves only b_out: the same as patching mlp_out to b_out
    b_out = model.blocks[1].mlp.b_out
    same = model.run_with_hooks(tokens, fwd_hooks=[("blocks.1.hook_mlp_out", lambda a, h: torch.zeros_like(a) + b_out)])
    torch.testing.assert_close(zeroed, same)
    # a hook on a LayerNorm scale is honoured too
    doubled = model.run_with_hooks(tokens, fwd_hooks=[("blocks.0.ln1.hook_scale", lambda a, h: a * 2)])
    assert not torch.allclose(clean, doubled)


def test_mlp_ln_model_trains():
    torch.manual_seed(0)
    model = model_of(normalization_type="LN", attn_only=False).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    tokens = toks(8)
    first = None
    for _ in range(30):
        loss = model(tokens, return_type="loss")
        first = first if first is not None else loss.item()
        opt.zero_grad(); loss.backward(); opt.step()
    assert loss.item() < 0.7 * first


def test_attention_only_zoo_models_still_load():
    """Backward compatibility: lesson 8's shipped weights load into the attention-only default."""
    model = zoo.load("attn_only_2l", device="cpu")
    assert not any("mlp" in n or "ln" in n for n in model.hook_names())
    assert model(torch.zeros(1, 5, dtype=torch.long)).shape == (1, 5, 64)
