"""The circuit of an IOI zoo model, order by order, on held-out prompts.

For each order of the names (IO before S1, between S1 and S2, after S2) and each held-out template
(split ``"test"``: templates and name pairs the training never drew), 40 prompts of one template
share their positions, so activations can be patched position by position. Measured per order
(the mean over the templates):

* accuracy and the logit difference IO - S at END, clean, flipped (S2 -> IO) and ABC (S2 -> a third name);
* denoising patching of ``attn_out`` and ``mlp_out`` at S1, IO, S2 and END, for the flip and for ABC;
* each head's ``hook_z`` patched at S1, IO, S2 and END (flip);
* each head's direct contribution to the logit difference at END (the model has no LayerNorm);
* the logit difference with each head mean-ablated over the ABC prompts;
* path patching (flip, denoising) from each layer-0 head into the last layer's queries, keys and values;
* causal scrubbing (every head output outside a hypothesis resampled from prompts of the same
  template and order with other names) of "layer 0 at the name slots after the first and at END,
  the last layer at END", and of the same with each part removed or layer 0 moved to the first slot.

Run::

    PYTHONPATH=$PWD nice -n 10 python bench/ioi_circuit.py MODEL [SPLIT]

Writes ``bench/results/ioi_circuit_<MODEL>.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from mi_tutor import patching, zoo
from mi_tutor.tasks import ORDERS, TEST_TEMPLATES, ioi_batch
from mi_tutor.tasks.ioi_train import ioi_accuracy

ROLES = ("S1", "IO", "S2", "END")


def ld(logits, b):
    return patching.logit_diff(logits, b.io, b.s).mean()


def order_batches(order: str, split: str = "test", n: int = 40, seed: int = 5000):
    templates = TEST_TEMPLATES if split in ("test", "new_names") else range(12)
    return [ioi_batch(n, seed=seed + t, template=t, order=order, split=split) for t in templates]


def measure_batch(model, b) -> dict:
    cfg = model.cfg
    flip, abc = b.corrupt("flip"), b.corrupt("abc")
    with torch.no_grad():
        c, f, a = (float(ld(model(x.tokens), b)) for x in (b, flip, abc))
    pos = {r: int(b.pos[r][0]) for r in ROLES}
    out = {"accuracy": ioi_accuracy(model, b), "clean_ld": c, "flip_ld": f, "abc_ld": a}
    for kind, corrupt, low in (("flip", flip, f), ("abc", abc, a)):
        metric = lambda logits, low=low: patching.normalized_metric(ld(logits, b), c, low)  # noqa: E731
        comps = ["attn_out"] + ([] if cfg.attn_only else ["mlp_out"])
        for comp in comps:
            m = patching.patch_residual(model, b.tokens, corrupt.tokens, metric, component=comp)
            out[f"{comp}_{kind}"] = {f"L{L}": {r: round(float(m[L, p]), 3) for r, p in pos.items()}
                                     for L in range(cfg.n_layers)}
        if kind == "flip":
            hz = patching.patch_heads(model, b.tokens, corrupt.tokens, metric, per_position=True)
            out["head_z_flip"] = {f"L{L}H{h}": {r: round(float(hz[L, h, p]), 3) for r, p in pos.items()}
                                  for L in range(cfg.n_layers) for h in range(cfg.n_heads)}
    names = [f"blocks.{L}.attn.hook_result" for L in range(cfg.n_layers)]
    _, cache = patching.run_cached(model, b.tokens, names + [f"blocks.{L}.hook_mlp_out" for L in range(cfg.n_layers)
                                                             if not cfg.attn_only])
    direction = (model.W_U[:, b.io] - model.W_U[:, b.s]).T  # [batch, d_model]
    out["dla_end"] = {}
    for L in range(cfg.n_layers):
        for h in range(cfg.n_heads):
            out["dla_end"][f"L{L}H{h}"] = round(float((cache[names[L]][:, -1, h] * direction).sum(-1).mean().detach()), 3)
        if not cfg.attn_only:
            out["dla_end"][f"MLP{L}"] = round(float((cache[f"blocks.{L}.hook_mlp_out"][:, -1] * direction)
                                                    .sum(-1).mean().detach()), 3)
    out.update(paths_and_scrubbing(model, b, flip, c, f))
    out["mean_ablated_ld"] = {}
    heads = patching.all_heads(model)
    for head in heads:
        keep = [h for h in heads if h != head]
        out["mean_ablated_ld"][f"L{head[0]}H{head[1]}"] = round(
            patching.knockout_metric(model, b.tokens, keep, abc.tokens, lambda x: ld(x, b)), 3)
    return out


def paths_and_scrubbing(model, b, flip, clean_ld: float, flip_ld: float) -> dict:
    """Path patching from each layer-0 head into the layer-1 heads' queries, keys and values (flip, denoising),
    and causal scrubbing of the hypothesis "layer 0 at the name slots after the first and at END, the last
    layer at END" beside the same hypothesis with one part taken out."""
    cfg = model.cfg
    metric = lambda logits: patching.normalized_metric(ld(logits, b), clean_ld, flip_ld)  # noqa: E731
    late = sorted({int(b.pos[r][0]) for r in ("IO", "S2")} - {min(int(b.pos[r][0]) for r in ("S1", "IO"))})  # after the first
    receivers = {x: [patching.Receiver(cfg.n_layers - 1, h, x) for h in range(cfg.n_heads)] for x in ("q", "k", "v")}
    paths = {f"L0H{h}": {x: round(float(patching.path_patch(model, flip.tokens, b.tokens, metric, (0, h), rec)), 3)
                         for x, rec in receivers.items()} for h in range(cfg.n_heads)}
    resample = b.resample(seed=7, keep_order=True).tokens
    last = cfg.n_layers - 1
    first = min(int(b.pos[r][0]) for r in ("S1", "IO"))
    end = int(b.pos["END"][0])
    hypotheses = {  # (layer, head) -> the positions where its output is kept; every other head output is resampled
        "layer 0 at the later name slots and END, the last layer at END": {
            **{(0, h): late + [end] for h in range(cfg.n_heads)}, **{(last, h): [end] for h in range(cfg.n_heads)}},
        "without the last layer at END": {(0, h): late + [end] for h in range(cfg.n_heads)},
        "without layer 0 at the later name slots": {
            **{(0, h): [end] for h in range(cfg.n_heads)}, **{(last, h): [end] for h in range(cfg.n_heads)}},
        "without layer 0 at END": {
            **{(0, h): late for h in range(cfg.n_heads)}, **{(last, h): [end] for h in range(cfg.n_heads)}},
        "layer 0 at the first name slot instead of the later ones": {
            **{(0, h): [first, end] for h in range(cfg.n_heads)}, **{(last, h): [end] for h in range(cfg.n_heads)}},
    }
    scrub = {name: round(patching.causal_scrub(model, b.tokens, resample, lambda x: ld(x, b), keep).score, 3)
             for name, keep in hypotheses.items()}
    return {"paths_flip": paths, "scrub": scrub}


def average(rows: list[dict]):
    first = rows[0]
    if isinstance(first, dict):
        return {k: average([r[k] for r in rows]) for k in first}
    return round(sum(rows) / len(rows), 3)


def main(name: str, split: str = "test") -> dict:
    torch.set_num_threads(1)
    model = zoo.load(name, device="cpu")
    result = {"model": name, "split": split, "prompts": "40 per (held-out template, order)",
              "orders": {o: average([measure_batch(model, b) for b in order_batches(o, split)]) for o in ORDERS}}
    out = Path(__file__).parent / "results" / f"ioi_circuit_{name}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:]), indent=1)[:6000])
