"""The tiny hooked transformer: names, shapes, hooks, bad input, data, training and the zoo models."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mi_tutor import zoo
from mi_tutor.transformer import (
    BOS,
    HookedTransformer,
    SequenceConfig,
    TransformerTrainConfig,
    TransformerConfig,
    attention_pattern,
    get_act_name,
    induction_batch,
    repeated_random_tokens,
    train_transformer,
)
from mi_tutor.validation import ShapeError

SMALL = dict(d_model=16, n_heads=2, d_head=8, d_vocab=12, n_ctx=10, init_range=0.3)


def small(**kw) -> HookedTransformer:
    return HookedTransformer(TransformerConfig(**{**SMALL, **kw})).eval()


def toks(batch=3, pos=10, d_vocab=12, seed=0):
    return torch.randint(0, d_vocab, (batch, pos), generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------ config and names
def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="d_model"):
        TransformerConfig(d_model=0)
    with pytest.raises(ValueError, match="normalization_type"):
        TransformerConfig(normalization_type="RMS")


def test_hook_names_and_shapes():
    model = small(n_layers=2, attn_only=False, d_mlp=20, normalization_type="LN")
    _, cache = model.run_with_cache(toks())
    expected = {
        "hook_embed": (3, 10, 16), "hook_pos_embed": (3, 10, 16),
        "blocks.1.hook_resid_pre": (3, 10, 16), "blocks.1.hook_resid_mid": (3, 10, 16),
        "blocks.1.hook_resid_post": (3, 10, 16), "blocks.0.hook_attn_out": (3, 10, 16),
        "blocks.0.hook_mlp_out": (3, 10, 16), "blocks.0.attn.hook_q": (3, 10, 2, 8),
        "blocks.0.attn.hook_z": (3, 10, 2, 8), "blocks.0.attn.hook_attn_scores": (3, 2, 10, 10),
        "blocks.0.attn.hook_pattern": (3, 2, 10, 10), "blocks.0.attn.hook_result": (3, 10, 2, 16),
        "blocks.0.mlp.hook_pre": (3, 10, 20), "blocks.0.mlp.hook_post": (3, 10, 20),
        "blocks.0.ln1.hook_scale": (3, 10, 1), "blocks.1.ln2.hook_normalized": (3, 10, 16),
        "ln_final.hook_scale": (3, 10, 1),
    }
    for name, shape in expected.items():
        assert tuple(cache[name].shape) == shape, name
    assert set(cache) == set(model.hook_names())


def test_weight_names_and_shapes():
    model = small(n_layers=3, attn_only=False, d_mlp=20)
    assert model.W_Q.shape == model.W_K.shape == model.W_V.shape == (3, 2, 16, 8)
    assert model.W_O.shape == (3, 2, 8, 16)
    assert model.W_in.shape == (3, 16, 20) and model.W_out.shape == (3, 20, 16)
    assert model.W_E.shape == (12, 16) and model.W_pos.shape == (10, 16) and model.W_U.shape == (16, 12)
    assert model.QK.shape == model.OV.shape == (3, 2, 16, 16)
    assert torch.allclose(model.OV[1, 0].AB, model.W_V[1, 0] @ model.W_O[1, 0])


def test_shorthand_names():
    assert get_act_name("pattern", 1) == "blocks.1.attn.hook_pattern"
    assert get_act_name("k6") == "blocks.6.attn.hook_k"
    assert get_act_name("resid_post", 0) == "blocks.0.hook_resid_post"
    assert get_act_name("post", 2) == "blocks.2.mlp.hook_post"
    assert get_act_name("scale") == "ln_final.hook_scale"
    assert get_act_name("normalized", 1, "ln2") == "blocks.1.ln2.hook_normalized"
    with pytest.raises(KeyError, match="Unknown"):
        get_act_name("patern", 0)
    model = small(n_layers=2)
    _, cache = model.run_with_cache(toks())
    assert cache["pattern", 1] is cache["blocks.1.attn.hook_pattern"]
    assert cache["embed"] is cache["hook_embed"]
    assert ("q", 0) in cache and ("q", 5) not in cache


def test_forward_matches_hand_computation():
    """A 1-layer attention-only model recomputed from its weights by hand."""
    model = small(n_layers=1)
    for p in model.parameters():  # random biases, so a forgotten bias would show
        torch.nn.init.normal_(p, std=0.3)
    t = toks()
    x = model.W_E[t] + model.W_pos[: t.shape[1]]
    out = model.blocks[0].attn.b_O.clone()
    for h in range(2):
        q = x @ model.W_Q[0, h] + model.b_Q[0, h]
        k = x @ model.W_K[0, h] + model.b_K[0, h]
        v = x @ model.W_V[0, h] + model.b_V[0, h]
        s = q @ k.transpose(-1, -2) / math.sqrt(8)
        s = s + torch.full((10, 10), -1e9).triu(1)
        out = out + (s.softmax(-1) @ v) @ model.W_O[0, h]
    want = (x + out) @ model.W_U + model.b_U
    assert torch.allclose(model(t), want, atol=1e-4)
    loss = F.cross_entropy(want[:, :-1].reshape(-1, 12), t[:, 1:].reshape(-1))
    assert torch.allclose(model(t, return_type="loss"), loss, atol=1e-5)


def test_attention_pattern_reference_matches_model():
    model = small(n_layers=1)
    _, cache = model.run_with_cache(toks())
    p = attention_pattern(cache["q", 0], cache["k", 0])
    assert torch.allclose(p, cache["pattern", 0], atol=1e-6)
    assert torch.allclose(p.sum(-1), torch.ones(3, 2, 10))
    assert p.triu(1).abs().max() == 0


def test_variants_run():
    t = toks(pos=6)
    for kw in [dict(attn_only=False, act_fn="gelu"), dict(normalization_type="LN"),
               dict(positional_embedding_type="shortformer"), dict(n_layers=0)]:
        logits = small(**kw)(t)
        assert logits.shape == (3, 6, 12) and torch.isfinite(logits).all()
    assert "hook_resid_mid" not in " ".join(small().hook_names())


def test_seeded_init_leaves_global_rng_alone():
    torch.manual_seed(5)
    a = torch.rand(1)
    torch.manual_seed(5)
    m1 = small(seed=3)
    b = torch.rand(1)
    assert a == b
    assert torch.equal(m1.W_E, small(seed=3).W_E) and not torch.equal(m1.W_E, small(seed=4).W_E)


# ------------------------------------------------------------------ hooks
def test_run_with_hooks_edits_and_cleans_up():
    model, t = small(n_layers=2), toks()
    clean = model(t)
    seen = []

    def zero(act, hook):
        seen.append(hook.name)
        return torch.zeros_like(act)

    edited = model.run_with_hooks(t, fwd_hooks=[("blocks.1.hook_attn_out", zero)])
    assert seen == ["blocks.1.hook_attn_out"] and not torch.allclose(clean, edited)
    assert torch.allclose(model(t), clean)  # hooks removed
    with model.hooks(fwd_hooks=[(lambda n: n.endswith("hook_attn_out"), zero)]):
        both = model(t)
    # with both attention outputs zeroed, only the direct path embed -> unembed remains
    direct = (model.W_E[t] + model.W_pos[:10]) @ model.W_U + model.b_U
    assert torch.allclose(both, direct, atol=1e-5)
    assert all(not hp.fwd_hooks for hp in model.hook_dict.values())


def test_permanent_hooks_and_reset():
    model, t = small(), toks()
    clean = model(t)
    model.add_hook("hook_embed", lambda a, h: a * 0, is_permanent=True)
    model.add_hook("hook_pos_embed", lambda a, h: a * 0)
    model.reset_hooks()
    assert not torch.allclose(model(t), clean)  # the permanent hook survives
    model.reset_hooks(including_permanent=True)
    assert torch.allclose(model(t), clean)


def test_hook_layer_and_attached_hooks():
    model = small(n_layers=2)
    layers = []
    model.run_with_hooks(toks(), fwd_hooks=[("blocks.0.attn.hook_z", lambda a, h: layers.append(h.layer())),
                                            ("blocks.1.attn.hook_z", lambda a, h: layers.append(h.layer()))])
    assert layers == [0, 1]
    with pytest.raises(ValueError, match="hook_embed"):
        model.hook_dict["hook_embed"].layer()
    model.add_hook("hook_embed", lambda a, h: None)
    assert len(model.hook_dict["hook_embed"].fwd_hooks) == 1
    model.reset_hooks()
    assert not model.hook_dict["hook_embed"].fwd_hooks


def test_unknown_hook_name_lists_near_matches():
    model = small(n_layers=2)
    with pytest.raises(KeyError, match="blocks.1.attn.hook_pattern"):
        model.run_with_hooks(toks(), fwd_hooks=[("blocks.1.attn.hook_patern", lambda a, h: None)])
    _, cache = model.run_with_cache(toks())
    with pytest.raises(KeyError, match="Did you mean"):
        cache["blocks.0.attn.hook_zz"]


def test_hook_returning_wrong_shape_raises():
    model = small()
    with pytest.raises(ValueError, match=r"blocks.1.attn.hook_z.*\(3, 10, 2, 8\)"):
        model.run_with_hooks(toks(), fwd_hooks=[("blocks.1.attn.hook_z", lambda a, h: a[:, :-1])])
    assert all(not hp.fwd_hooks for hp in model.hook_dict.values())


def test_bad_tokens_raise_clear_errors():
    model = small()
    with pytest.raises(ValueError, match="d_vocab=12"):
        model(torch.tensor([[1, 12]]))
    with pytest.raises(ValueError, match="vocabulary"):
        model(torch.tensor([[-1, 2]]))
    with pytest.raises(ShapeError, match="n_ctx is 10"):
        model(torch.zeros(1, 11, dtype=torch.long))
    with pytest.raises(ShapeError, match="integer"):
        model(torch.zeros(1, 4))
    with pytest.raises(ShapeError, match=r"\(2, 2, 2\)"):
        model(torch.zeros(2, 2, 2, dtype=torch.long))
    assert model(torch.tensor([1, 2, 3])).shape == (1, 3, 12)



@pytest.mark.parametrize("kw", [{}, {"attn_only": False, "normalization_type": "LN"},
                                {"positional_embedding_type": "shortformer", "normalization_type": "LN"}])
def test_start_at_layer_with_past_kv_continues_the_run(kw):
    """From block L at positions p.. with the cached keys and values of the positions before: the same logits."""
    model, x = small(n_layers=3, **kw), toks()
    logits, cache = model.run_with_cache(x)
    for layer in range(4):
        resid = cache[f"blocks.{layer}.hook_resid_pre"] if layer < 3 else cache["blocks.2.hook_resid_post"]
        for p in (0, 4, 9):
            past = [None if L < layer else (cache["k", L][:, :p], cache["v", L][:, :p]) for L in range(3)]
            out = model(resid[:, p:], start_at_layer=layer, past_kv=past)
            torch.testing.assert_close(out, logits[:, p:], atol=1e-5, rtol=1e-5)
    wrong = model(cache["resid_pre", 1][:, 4:], start_at_layer=1)  # without the past the positions see less
    assert not torch.allclose(wrong, logits[:, 4:], atol=1e-3)


def test_start_at_layer_errors_name_the_argument():
    model, x = small(), toks()
    _, cache = model.run_with_cache(x)
    resid = cache["resid_pre", 1]
    with pytest.raises(ValueError, match="start_at_layer.*0 .. 2"):
        model(resid, start_at_layer=3)
    with pytest.raises(ShapeError, match=r"tokens.*\(3, 10, 7\)"):
        model(resid[..., :7], start_at_layer=1)
    with pytest.raises(ValueError, match="past_kv.*start_at_layer"):
        model(x, past_kv=[None, None])
    with pytest.raises(ShapeError, match="past_kv.*2 layers"):
        model(resid, start_at_layer=1, past_kv=[None])
    with pytest.raises(ValueError, match=r"past_kv\[1\]` is None"):
        model(resid, start_at_layer=1, past_kv=[None, None])
    with pytest.raises(ShapeError, match="n_ctx is 10"):
        model(resid, start_at_layer=1, past_kv=[None, (cache["k", 1], cache["v", 1])])
    with pytest.raises(ValueError, match="loss"):
        model(resid, return_type="loss", start_at_layer=1)

# ------------------------------------------------------------------ data and training
def test_repeated_random_tokens():
    t = repeated_random_tokens(4, 7, 20, seed=3)
    assert t.shape == (4, 15) and (t[:, 0] == BOS).all() and (t[:, 1:] != BOS).all()
    assert torch.equal(t[:, 1:8], t[:, 8:]) and torch.equal(t, repeated_random_tokens(4, 7, 20, seed=3))
    assert not torch.equal(t, repeated_random_tokens(4, 7, 20, seed=4))


def test_induction_batch_has_repeats():
    cfg = SequenceConfig(d_vocab=50, n_ctx=40, min_repeat=5, max_repeat=5, n_repeats=1, bigram_temperature=0.0)
    t = induction_batch(8, cfg, seed=1)
    assert t.shape == (8, 40) and (t[:, 0] == BOS).all() and t.max() < 50 and (t[:, 1:] > 0).all()
    assert torch.equal(t, induction_batch(8, cfg, seed=1))
    for row in t.tolist():  # some 5-gram occurs twice
        grams = [tuple(row[i:i + 5]) for i in range(1, 36)]
        assert len(set(grams)) < len(grams)


def test_training_lowers_loss_and_keeps_snapshots():
    model = small(n_layers=1)
    data = SequenceConfig(d_vocab=12, n_ctx=10, max_repeat=4, bigram_temperature=3.0)
    cfg = TransformerTrainConfig(steps=60, batch_size=32, lr=1e-2, warmup=5, checkpoint_steps=(0, 30, 60))
    model, log = train_transformer(model, lambda n, s: induction_batch(n, data, s), cfg, progress=False, device="cpu")
    assert len(log.losses) == 60 and log.checkpoint_steps == [0, 30, 60]
    assert sum(log.losses[-10:]) < sum(log.losses[:10])
    assert log.checkpoints[0]["W_E"].dtype == torch.float16 and not model.training


# ------------------------------------------------------------------ zoo models
@pytest.fixture(scope="module")
def zoo_models():
    return zoo.load("attn_only_1l", device="cpu"), zoo.load("attn_only_2l", device="cpu")


def _scores(model, seq_len=30, seed=7):
    from mi_tutor.circuits_transformer import head_scores

    return head_scores(model, repeated_random_tokens(32, seq_len, model.cfg.d_vocab, seed=seed))


def test_zoo_2l_has_induction_circuit(zoo_models):
    one, two = zoo_models
    s2, s1 = _scores(two), _scores(one)
    assert s2["previous_token"][0].max() > 0.4 and s2["induction"][1].max() > 0.4
    assert s1["induction"].max() < 0.2 and s2["induction"][0].max() < 0.2


def test_zoo_2l_loss_drops_on_repeat(zoo_models):
    from mi_tutor.circuits_transformer import per_token_loss

    t = repeated_random_tokens(32, 30, 64, seed=8)
    with torch.no_grad():
        loss2, loss1 = per_token_loss(zoo_models[1](t), t), per_token_loss(zoo_models[0](t), t)
    assert loss2[:, 30:].mean() < 0.5 * loss2[:, :30].mean()
    assert loss1[:, 30:].mean() > 0.7 * loss1[:, :30].mean()


def test_zoo_checkpoints_show_phase_change():
    run = zoo.snapshots("attn_only_2l", device="cpu")
    steps, models = run.steps, run.models
    assert steps == sorted(steps) and steps[0] == 0 and len(steps) >= 12 and len(models) == len(steps)
    assert run.curves["loss"].shape == (1000,) and run.curves["loss"][-50:].mean() < run.curves["loss"][:50].mean()
    ind = [_scores(m, seq_len=20)["induction"][1].max().item() for m in models]
    assert ind[0] < 0.2 and ind[-1] > 0.4
    jumps = torch.tensor(ind).diff()
    assert jumps.max() > 0.2  # a sudden rise between two snapshots
    assert zoo.weights_path("attn_only_2l", "_checkpoints").stat().st_size < 2.2e6


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_follows_device():
    model = zoo.load("attn_only_2l", device="cuda")
    t = repeated_random_tokens(4, 10, 64)  # on the CPU: the model moves them
    logits, cache = model.run_with_cache(t)
    assert logits.device.type == "cuda" and cache["pattern", 1].device.type == "cuda"
    from mi_tutor.circuits_transformer import direct_logit_attribution, head_scores

    assert head_scores(model, t)["induction"].shape == (2, 4)
    dla, _ = direct_logit_attribution(model, t)
    assert dla.device.type == "cuda"
