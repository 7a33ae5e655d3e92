"""A truth direction and an intervention along it, in the facts world (issue 24).

Lesson 11's ITI direction separates fact prompts from the same prompts behind a rumour marker: a marker
direction. Here the contrast is about truth alone. ``facts_truth_4l`` was trained on a corpus where a quarter
of the sequences are *liars* (:data:`~mi_tutor.tasks.facts.TRUTH_KIND_FRACTIONS`): a fact sequence whose two
objects are both false, with no marker, so only the first object tells a liar from an honest speaker.
:func:`~mi_tutor.tasks.facts.liar_contrast` gives ``<bos> f s1 s2 r_a o_a r_b`` with ``o_a`` true or false (the
same words otherwise). Per model this script measures:

* the true-answer rate for ``r_b`` after an honest and after a lying start (every subject);
* a logistic probe per head on ``hook_z`` at the last position (fitted on the even subjects, validation split),
  and each head's mass-mean direction scored on the odd subjects (held out);
* ITI on the held-out subjects' lying starts: the top 1, 2 and 4 heads by probe accuracy shifted along their
  truth directions by ``alpha`` standard deviations at every position, against random heads (their own truth
  directions) and random directions at the same heads; the true-answer rate after an honest start under the
  same shift says what the intervention costs.

Models: ``facts_4l`` (never saw a liar), ``facts_truth_4l`` (shipped, seed 0) and, with ``--train-seed1``, the same
recipe on seed 1 (initialisation and batches; ~250 s on one thread), which nothing else uses.

    python bench/iti_truth.py                 # writes bench/results/iti_truth.json (keeps an earlier seed-1 row)
    python bench/iti_truth.py --train-seed1   # also trains and measures seed 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path

import torch

from mi_tutor import zoo
from mi_tutor.steering import (head_activations, iti_logits, iti_shift, mass_mean_accuracy, mass_mean_directions,
                               probe_accuracies, random_heads, top_heads)
from mi_tutor.tasks import facts
from mi_tutor.tasks.facts_train import fact_accuracy

OUT = Path(__file__).parent / "results" / "iti_truth.json"
FIT, HELD = list(range(0, 64, 2)), list(range(1, 64, 2))
ALPHAS = (0.0, 2.0, 4.0, 6.0, 8.0)


def _r(x, n: int = 3) -> float:
    return round(float(x), n)


@torch.no_grad()
def true_rate(model, tokens: torch.Tensor, answers: torch.Tensor, shift=None) -> float:
    logits = model(tokens) if shift is None else iti_logits(model, tokens, shift)
    return _r((logits[:, -1].argmax(-1) == answers).float().mean())


@torch.no_grad()
def measure(model) -> dict:
    world = facts.facts_world()
    out = {"fact_accuracy": _r(fact_accuracy(model, world)),
           "true_answer_rate_all_subjects": {
               "honest start": true_rate(model, *facts.liar_questions(world, lie=False, seed=0)),
               "lying start": true_rate(model, *facts.liar_questions(world, lie=True, seed=0))}}
    tokens, truth = facts.liar_contrast(world, subjects=FIT, seed=0)
    acts = head_activations(model, tokens)
    probe = probe_accuracies(acts, truth)
    u, sigma = mass_mean_directions(acts, truth)
    held_tokens, held_truth = facts.liar_contrast(world, subjects=HELD, seed=1)
    held_acc = mass_mean_accuracy(acts, truth, head_activations(model, held_tokens), held_truth)
    out["probe_validation_accuracy"] = probe.numpy().round(3).tolist()
    out["mass_mean_accuracy_held_out_subjects"] = held_acc.numpy().round(3).tolist()
    lying, answers = facts.liar_questions(world, subjects=HELD, lie=True, seed=5)
    honest, answers_h = facts.liar_questions(world, subjects=HELD, lie=False, seed=5)
    n_layers, n_heads = u.shape[:2]
    gen = torch.Generator().manual_seed(0)
    random_dirs = []
    for _ in range(3):
        d = torch.randn(u.shape, generator=gen)
        random_dirs.append(d / d.norm(dim=-1, keepdim=True))
    iti = {}
    for k in (1, 2, 4):
        top = top_heads(probe, k)
        rows = {}
        for a in ALPHAS:
            rows[str(a)] = {
                "top": true_rate(model, lying, answers, iti_shift(top, u, sigma, a)),
                "random_heads": [true_rate(model, lying, answers, iti_shift(random_heads(n_layers, n_heads, k, seed=s),
                                                                                u, sigma, a)) for s in range(3)],
                "random_directions": [true_rate(model, lying, answers, iti_shift(top, d, sigma, a))
                                      for d in random_dirs],
                "top_on_honest_starts": true_rate(model, honest, answers_h, iti_shift(top, u, sigma, a))}
        iti[f"top_{k}"] = {"heads": top, "by_alpha": rows}
    out["iti_held_out_subjects"] = iti
    best = max(((k, a) for k in iti for a in iti[k]["by_alpha"]), key=lambda ka: iti[ka[0]]["by_alpha"][ka[1]]["top"])
    row = iti[best[0]]["by_alpha"][best[1]]
    out["best"] = {"heads": best[0], "alpha": float(best[1]), "lying_start": row["top"],
                   "lying_start_alpha_0": iti[best[0]]["by_alpha"]["0.0"]["top"],
                   "random_heads_max": max(row["random_heads"]), "random_directions_max": max(row["random_directions"]),
                   "honest_start": row["top_on_honest_starts"]}
    return out


def train_seed1() -> tuple[torch.nn.Module, float]:
    from mi_tutor.tasks.facts_train import facts_model_config, train_facts
    from mi_tutor.zoo.entries.facts import FACTS_TRUTH_TRAIN

    start = time.perf_counter()
    model, _ = train_facts(dataclasses.replace(FACTS_TRUTH_TRAIN, seed=1), facts_model_config(seed=1), progress=False,
                           fractions=facts.TRUTH_KIND_FRACTIONS)
    return model.eval(), time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-seed1", action="store_true", help="train facts_truth_4l's recipe on seed 1 and measure it")
    args = ap.parse_args()
    torch.set_num_threads(1)
    earlier = json.loads(OUT.read_text()) if OUT.exists() else {}
    models = {name: measure(zoo.load(name, device="cpu")) for name in ("facts_4l", "facts_truth_4l")}
    if args.train_seed1:
        model, seconds = train_seed1()
        models["facts_truth_4l recipe, seed 1"] = {"train_seconds": _r(seconds, 1), **measure(model)}
    elif "facts_truth_4l recipe, seed 1" in earlier.get("models", {}):
        models["facts_truth_4l recipe, seed 1"] = earlier["models"]["facts_truth_4l recipe, seed 1"]
    out = {"command": "python bench/iti_truth.py --train-seed1", "machine": platform.platform(),
           "contrast": "liar_contrast: <bos> f s1 s2 r_a o_a r_b, o_a true or false; fitted on the even subjects, "
                       "held out: the odd ones", "models": models}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    for name, m in models.items():
        print(name, m["fact_accuracy"], m["true_answer_rate_all_subjects"], m["best"])


if __name__ == "__main__":
    main()
