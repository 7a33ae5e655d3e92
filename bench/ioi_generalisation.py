"""Which recipe makes a small IOI transformer answer prompts it never saw? One variant per call.

Trains a 2-layer transformer (MLPs, no LayerNorm) on split ``"train"`` of :mod:`mi_tutor.tasks.ioi`
(mixed orders, the END cross-entropy, AdamW, batches of 128) and measures it on split ``"test"``
(held-out templates filled with held-out name pairs), 1000 prompts per order, every 1000 steps.
``key=value`` options (defaults in brackets): ``L`` layers [2], ``H`` heads [4], ``D`` d_model [64],
``M`` d_mlp [128], ``steps`` [3000], ``lr`` [3e-3], ``wd`` weight decay [0.01], ``B`` batch [128],
``seed`` [0], ``warmup`` [100], ``cos=1`` cosine decay to 0, ``fill`` the filler noise of
:func:`mi_tutor.tasks.ioi_train.noisy_fillers` [0], ``freeze=W_E,W_U`` parameters kept at their
initialisation, ``nomlp=1`` layers whose MLP is removed (zeroed and frozen), ``xr`` a fraction of
prompts whose two names are replaced by other tokens [0]: template words, or with ``K`` > 0 that many
extra "nonce name" tokens added to the vocabulary (never a held-out pair of real names).

With ``fill``, ``cos``, ``D``, ``M``, ``lr`` and ``steps`` alone the run is exactly
:func:`~mi_tutor.tasks.ioi_train.train_ioi` with ``IOITrainConfig(filler_noise=..., schedule="cosine")``
(the same weights, bit for bit). Run (one thread each; adds its row to ``bench/results/ioi_generalisation.json``)::

    PYTHONPATH=$PWD python bench/ioi_generalisation.py d128f10kcos lr=1e-3 D=128 M=256 steps=10000 fill=0.3 cos=1
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from mi_tutor.device import seed_everything
from mi_tutor.tasks import ORDERS, ioi_batch
from mi_tutor.tasks import ioi as I
from mi_tutor.tasks.ioi_train import end_logits, ioi_accuracy, ioi_model_config, noisy_fillers
from mi_tutor.transformer import HookedTransformer
from mi_tutor.transformer.train import adamw_with_warmup

OUT = Path(__file__).parent / "results" / "ioi_generalisation.json"
DEFAULTS = {"L": 2, "H": 4, "D": 64, "M": 128, "steps": 3000, "lr": 3e-3, "wd": 0.01, "B": 128, "seed": 0,
            "warmup": 100, "cos": 0, "fill": 0.0, "freeze": "", "nomlp": "", "xr": 0.0, "K": 0}


def parse(options: dict) -> dict:
    """``key=value`` strings over :data:`DEFAULTS`, each as the type of its default."""
    o = dict(DEFAULTS)
    for key, value in options.items():
        if key not in DEFAULTS:
            raise KeyError(f"unknown option {key!r}: the options are {', '.join(DEFAULTS)}")
        kind = type(DEFAULTS[key])
        o[key] = int(float(value)) if kind is int else kind(value)
    return o


def build(o: dict) -> HookedTransformer:
    """The variant's model: ``K`` extra tokens in the vocabulary, MLPs of ``nomlp`` removed, ``freeze`` frozen."""
    model = HookedTransformer(ioi_model_config(o["L"], o["H"], o["D"] // o["H"], d_model=o["D"], d_mlp=o["M"] or None,
                                               seed=o["seed"], d_vocab=I.D_VOCAB + o["K"])).train()
    for layer in [int(x) for x in str(o["nomlp"]).split(",") if x]:
        for p in model.blocks[layer].mlp.parameters():
            p.data.zero_()
            p.requires_grad_(False)
    for name in [x for x in str(o["freeze"]).split(",") if x]:
        getattr(model, name).requires_grad_(False)
    return model


def made_up_names(b, o: dict, pool: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokens and answers with a fraction ``xr`` of the prompts' two names replaced by two tokens of ``pool``
    (never a held-out pair of real names, never a token the prompt already holds elsewhere)."""
    tokens, io = b.tokens.clone(), b.io.clone()
    if o["xr"] <= 0:
        return tokens, io
    real = I.name_token_ids()
    for i in (torch.rand(len(io), generator=g) < o["xr"]).nonzero().flatten().tolist():
        for _ in range(10):
            a, c = pool[torch.randperm(len(pool), generator=g)[:2]]
            if bool(torch.isin(torch.stack([a, c]), real).all()) and bool(I.is_held_out_pair(a, c)):
                continue
            rest = torch.ones(tokens.shape[1], dtype=torch.bool)
            for role in ("IO", "S1", "S2"):
                rest[b.pos[role][i]] = False
            if torch.isin(torch.stack([a, c]), tokens[i][rest]).any():
                continue
            tokens[i, b.pos["IO"][i]], tokens[i, b.pos["S1"][i]], tokens[i, b.pos["S2"][i]], io[i] = a, c, c, a
            break
    return tokens, io


def main(name: str, **options) -> dict:
    torch.set_num_threads(1)
    o = parse(options)
    seed_everything(o["seed"])
    model = build(o)
    opt, sched = adamw_with_warmup(model, o["lr"], o["wd"], o["warmup"], cosine_steps=o["steps"] if o["cos"] else None)
    g = torch.Generator().manual_seed(o["seed"] + 99)  # as train_ioi's filler-noise stream
    names = I.name_token_ids()[:len(I.TRAIN_NAMES)]
    pool = torch.cat([names, torch.arange(I.D_VOCAB, I.D_VOCAB + o["K"])]) if o["K"] else \
        torch.cat([names, I.template_word_ids("train")])
    pool = pool[~torch.isin(pool, I.tokenize(", .")[1:])]
    test = {k: ioi_batch(1000, seed=77000 + i, order=k, split="test") for i, k in enumerate(ORDERS)}
    train = {k: ioi_batch(1000, seed=78000 + i, order=k, split="train") for i, k in enumerate(ORDERS)}
    curve, t0 = {}, time.time()
    for step in range(1, o["steps"] + 1):
        b = ioi_batch(o["B"], seed=o["seed"] * 1_000_003 + step, order="mixed", split="train")
        tokens, io = made_up_names(b, o, pool, g)
        if o["fill"] > 0:
            tokens = noisy_fillers(tokens, o["fill"], g, "train")
        loss = F.cross_entropy(end_logits(model, tokens), io)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 1000 == 0 or step == o["steps"]:
            model.eval()
            curve[step] = [round(ioi_accuracy(model, test[k]), 3) for k in ORDERS]
            model.train()
            print(name, step, round(loss.item(), 4), curve[step], flush=True)
    model.eval()
    row = {"name": name, "cfg": {k: str(v) for k, v in options.items()}, "seconds": round(time.time() - t0),
           "curve": curve, "train": [round(ioi_accuracy(model, train[k]), 3) for k in ORDERS],
           "test": [round(ioi_accuracy(model, test[k]), 3) for k in ORDERS]}
    results = json.loads(OUT.read_text()) if OUT.exists() else {"runs": []}
    results["runs"] = [r for r in results["runs"] if r["name"] != name] + [row]
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    torch.save(model.state_dict(), f"/tmp/ioi_generalisation_{name}.pt")  # the zoo's weights when this run is a recipe
    return row


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], **dict(a.split("=", 1) for a in sys.argv[2:]))))
