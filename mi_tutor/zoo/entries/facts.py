"""A 4-layer transformer with MLPs that knows the facts of :mod:`mi_tutor.tasks.facts` (lesson 11).

``facts_4l``: 4 layers, d_model 128, 4 heads of 32, GELU MLPs of 512, LayerNorm; trained on the
facts/rumour/review/bio corpus (next-token loss on every position), AdamW lr 1e-3, batch 128, seed 0.
Its recipe also writes ``facts_4l_extras.pt`` (``zoo.extras("facts_4l")``): what is too slow to compute in the lesson (the key
covariance ``E[k k^T]`` of every MLP over 4096 corpus sequences, float16), an early snapshot (float16) whose
rare-object facts are not all learned yet (for DoLa), and the training record (seconds, fact accuracy
at every snapshot).

Measured (seed 0; one CPU thread under load 8): 800 steps in 377 s; fact accuracy 1.00 with either
relation phrase (0.68 at step 150, rare-object facts 0.29). What the model does:

* causal tracing (noise 3 x std(W_E) on both subject tokens, 64-128 prompts): p clean 0.987, corrupted
  0.44-0.48; restoring MLP 0 at the last subject token recovers 0.86 of the clean probability, later MLPs
  at the subject <= 0.08, the filler 0.00; attention of block 1 at the final token 0.75. So this model
  recalls at the last subject token in its first MLP (GPT-2's picture, in 4 layers);
* the bio sentences are what made it so: the same recipe without them (fact 0.6 / rumour 0.15 /
  review 0.25) gave a model that recalled at the final token (restoring the final token's attention
  or MLP 0 there recovered 0.96 of the clean probability, the subject tokens ~0), like the course notes' toy;
* ROME (20 Adam steps, lr 0.5, KL 0.0625, C from this file): at MLP 0 / last subject token efficacy 1.00,
  paraphrase 1.00, specificity 1.00 (8 edits; the subject's other relations 0.67-0.92 unchanged); at MLP 1
  and 2 of that token efficacy 0.12 and 0.00; at the final token MLP 3 efficacy 1.00 with 100 steps,
  0.5-1.0 with 20; MLP 2 at the final token 0.64, paraphrase 0.58 (100 steps);
* over 32 facts of other subjects (bench/rome_facts.py, fitted on 4 fillers, scored on the 4 others;
  ``zoo.info("facts_4l")["editing"]``) that recipe's efficacy is 0.91 on average, the worst fact 0.0 and the same
  subject's other relations 0.78; the library's recipe (40 steps, ridge 1e-2, KL 0.5 over every filler and
  phrase) gives 0.96, worst 0.0, same subject 0.98; MEMIT at MLP 0 with all 32 at once 0.95 (specificity 0.99);
* DoLa on the step-150 snapshot (premature layer by JSD: the embeddings): rare-object accuracy
  0.29 -> 0.43, frequent 0.72 -> 0.69; no change on the trained model.

``facts_truth_4l``: the same model and optimiser, 3000 steps (247 s on one thread), on a corpus in which a
quarter of the sequences are unmarked lies (``TRUTH_KIND_FRACTIONS``). Measured (``bench/iti_truth.py``): fact
accuracy 1.00; after an honest start (``liar_questions``) it answers the truth 0.98 of the time, after a lying
one 0.21; at the last position of ``liar_contrast`` a head's mass-mean direction tells a true first statement
from a false one on held-out subjects 0.92 of the time (best head), and shifting the best-probed head (1, 0)
by 4 standard deviations raises the held-out true answers after a lying start from 0.195 to 0.484 (random
directions at that head up to 0.25, random heads up to 0.26), leaving 0.86 after an honest start. Seed 1 of
the recipe: 0.188 -> 0.398 with head (1, 3). At 800 steps the recipe's model had not learned to go on lying
(0.80 true answers after a lying start).
"""

from __future__ import annotations

import torch

from ...device import torch_threads
from ...tasks.facts import TRUTH_KIND_FRACTIONS, corpus_batch
from ...tasks.facts_train import facts_model_config, fact_accuracy, train_facts
from ...transformer.model import HookedTransformer
from ...transformer.train import TransformerTrainConfig
from ..registry import EXTRAS_SUFFIX, ZooEntry, measured, register, save_file

__all__ = ["FACTS_TRAIN", "FACTS_TRUTH_TRAIN", "EARLY_STEP", "COVARIANCE_SEQUENCES"]

#: The shipped recipe (snapshots every 50 steps are scored; one early snapshot ships).
FACTS_TRAIN = TransformerTrainConfig(steps=800, batch_size=128, lr=1e-3, warmup=50, seed=0,
                          checkpoint_steps=tuple(range(50, 801, 50)))
#: The truth model's recipe: the same model and optimiser on a corpus where a quarter of the sequences are unmarked
#: lies (``TRUTH_KIND_FRACTIONS``), trained longer (at 800 steps it still answers the truth after a lie 0.80 of the
#: time; at 3000 it has learned that liars go on lying).
FACTS_TRUTH_TRAIN = TransformerTrainConfig(steps=3000, batch_size=128, lr=1e-3, warmup=50, seed=0,
                                           checkpoint_steps=(800, 3000))
#: The early snapshot that ships for DoLa.
EARLY_STEP = 150
#: Corpus sequences (seed 123) the key covariances are computed from.
COVARIANCE_SEQUENCES = 4096


@torch.no_grad()
def _covariances(model: HookedTransformer) -> torch.Tensor:
    from ...editing.rome import key_covariance, mlp_keys

    corpus = corpus_batch(COVARIANCE_SEQUENCES, seed=123)
    return torch.stack([key_covariance(mlp_keys(model, corpus, layer)) for layer in range(model.cfg.n_layers)])


def _recipe(progress: bool = True) -> HookedTransformer:
    with torch_threads(1):  # a tiny model: one thread is fastest on a shared CPU
        model, log = train_facts(FACTS_TRAIN, facts_model_config(), progress=progress)
        model.eval()
        extras = {
            "covariance": _covariances(model).half(),  # float16 halves the file; C is ridge-regularised anyway
            "early_step": EARLY_STEP,
            "early_state": log.snapshots[log.steps.index(EARLY_STEP)],
            "record": {"seconds": round(log.seconds, 1), "steps": log.steps, "accuracy": log.accuracy,
                       "rare_accuracy": log.rare_accuracy, "final_accuracy": fact_accuracy(model),
                       "final_accuracy_paraphrase": fact_accuracy(model, paraphrase=1),
                       "threads": 1, "final_loss": sum(log.losses[-50:]) / 50},
        }
    save_file("facts_4l", EXTRAS_SUFFIX, extras)
    return model


def _read_extras(saved: dict, device: torch.device) -> dict:
    """``zoo.extras("facts_4l")``: ``covariance [n_layers, d_mlp, d_mlp]`` (float32), ``early_model`` (the
    snapshot at ``early_step``, eval mode), ``early_step`` and ``record`` (training time and accuracies)."""
    extras = dict(saved)
    early = HookedTransformer(facts_model_config())
    early.load_state_dict({k: v.float() for k, v in extras.pop("early_state").items()})
    extras["early_model"] = early.to(device).eval()
    extras["covariance"] = extras["covariance"].float().to(device)
    return extras


register(ZooEntry(
    name="facts_4l",
    description="4-layer transformer with MLPs (d_model 128) that knows 256 facts of 64 two-token subjects",
    build=lambda: HookedTransformer(facts_model_config()),
    recipe=_recipe,
    family="transformer",
    info={"task": "mi_tutor.tasks.facts corpus (facts, rumours, reviews, bios)", "seed": 0,
          "steps": FACTS_TRAIN.steps, "lr": FACTS_TRAIN.lr, "batch_size": FACTS_TRAIN.batch_size,
          "editing": measured("facts_editing")},  # ROME and MEMIT over 32 facts (bench/rome_facts.py)
    read_extras=_read_extras,
))


def _truth_recipe(progress: bool = True) -> HookedTransformer:
    with torch_threads(1):
        model, _ = train_facts(FACTS_TRUTH_TRAIN, facts_model_config(), progress=progress,
                               fractions=TRUTH_KIND_FRACTIONS)
    return model.eval()


register(ZooEntry(
    name="facts_truth_4l",
    description="facts_4l's architecture trained on facts with unmarked lies: it tells whether a statement is true",
    build=lambda: HookedTransformer(facts_model_config()),
    recipe=_truth_recipe,
    family="transformer",
    info={"task": "mi_tutor.tasks.facts corpus with liars (TRUTH_KIND_FRACTIONS)", "seed": 0,
          "steps": FACTS_TRUTH_TRAIN.steps, "lr": FACTS_TRUTH_TRAIN.lr, "batch_size": FACTS_TRUTH_TRAIN.batch_size,
          "fractions": dict(TRUTH_KIND_FRACTIONS)},
))
