"""Does facts_4l represent truth? Probes on true and false statements of the same surface form (issue 24).

Lesson 11's ITI direction separates fact prompts from the same prompts behind a rumour marker: a marker
direction. Here the statements are ``<bos> f s1 s2 r o`` with the true object or a wrong one
(:func:`mi_tutor.tasks.facts.truth_statements`, no marker), the probes and mass-mean directions are fitted on
the even subjects and scored on the odd ones, and the top-2 heads are shifted along the truth direction on
the odd subjects' questions (plain and after a rumour marker), against random heads.

    nice -n 10 python bench/iti_truth.py     # writes bench/results/iti_truth.json
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from mi_tutor import zoo
from mi_tutor.steering import (head_activations, iti_logits, iti_shift, mass_mean_directions, probe_accuracies,
                               random_heads, top_heads)
from mi_tutor.tasks import facts

OUT = Path(__file__).parent / "results" / "iti_truth.json"


def main() -> None:
    torch.set_num_threads(1)
    model, world = zoo.load("facts_4l", device="cpu"), facts.facts_world()
    fit, held = list(range(0, 64, 2)), list(range(1, 64, 2))
    tokens, truth = facts.truth_statements(world, subjects=fit, seed=0)
    acts = head_activations(model, tokens)
    probe = probe_accuracies(acts, truth)  # validation split of the fitted subjects
    u, sigma = mass_mean_directions(acts, truth)
    t_tokens, t_truth = facts.truth_statements(world, subjects=held, seed=1)
    proj = lambda a: torch.einsum("blhd,lhd->blh", a, u)
    p_fit, p_held = proj(acts), proj(head_activations(model, t_tokens))
    threshold = (p_fit[truth == 1].mean(0) + p_fit[truth == 0].mean(0)) / 2
    held_acc = ((p_held > threshold) == t_truth.bool()[:, None, None]).float().mean(0)
    top = top_heads(probe, 2)
    rates = {}
    for marker in (None, "rumor"):
        q = facts.fact_prompts(world, subjects=held, marker=marker)
        rate = lambda heads, a: round(float((iti_logits(model, q.tokens, iti_shift(heads, u, sigma, a))[:, -1]
                                             .argmax(-1) == q.answers).float().mean()), 3)
        rates[marker or "plain"] = {str(a): {"top": rate(top, a), "random": [rate(random_heads(4, 4, 2, seed=s), a)
                                                                               for s in range(3)]}
                                    for a in (0.0, 4.0, 8.0)}
    out = {"command": "nice -n 10 python bench/iti_truth.py", "model": "facts_4l",
           "probe_validation_accuracy": probe.numpy().round(3).tolist(),
           "mass_mean_accuracy_held_out_subjects": held_acc.numpy().round(3).tolist(), "top_heads": top,
           "true_answer_rate_held_out_subjects": rates,
           "finding": "facts_4l's heads do not tell true from false statements of the same form (held-out accuracy "
                      "0.48-0.54, chance 0.5): it was never trained on false statements without a marker, so a "
                      "truth direction needs a model that is (a new zoo entry with verdicts); shifting along this "
                      "direction does not raise the true-answer rate after a rumour marker above random heads."}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: out[k] for k in ("mass_mean_accuracy_held_out_subjects", "true_answer_rate_held_out_subjects")}))


if __name__ == "__main__":
    main()
