"""1-layer transformers trained on (a + b) mod p until they grok (lesson 10).

``grokking_p53`` has the architecture of Nanda et al. (2023) at half width (d_model 64, 4 heads of 16,
d_mlp 256, ReLU, no LayerNorm) and groks p = 53 with 40 % of the pairs for training; its float16
snapshots every 100 steps ship in ``grokking_p53_checkpoints.pt`` (``zoo.snapshots("grokking_p53")``). ``grokking_p53_wd0`` is the same
recipe without weight decay: it memorises and never generalises in the same number of steps.
``grokking_p53_s1`` and ``grokking_p53_wd0_s1`` are the two recipes on seed 1 (initialisation and split), for
measuring lesson 10's claims on a seed the lesson does not use; seed 1 groks only after step 3000, so its
weight-decay run goes on to step 6000.

``grokking_p113_nanda`` is the full-size run of Nanda et al. by their recipe (``NANDA_113``: p = 113, 30 %
train, d_model 128, AdamW lr 1e-3, weight decay 1, 14000 full-batch steps; 989 s on one thread at
0.09 s/step): train accuracy 0.99 at step 150, test accuracy 0.5 at 6250 and 0.95 at 6950, five neuron key
frequencies, snapshots every 1000 steps (``bench/grokking_seeds.py --nanda`` measures its progress
measures). ``grokking_p113`` is the same task and model at lr 3e-3, which groks in 2500 steps (its
clean-up has only begun); lesson 10 analyses the half-width p = 53 run, whose clean-up is complete.
"""

from __future__ import annotations

import dataclasses

import torch

from ...device import torch_threads
from ...grokking.runs import GrokRun, load_run_dict
from ...grokking.train import GrokConfig
from ..registry import SNAPSHOTS_SUFFIX, Snapshots, ZooEntry, register, save_file

#: The shipped run: p = 53, 40 % of the pairs, AdamW lr 3e-3, weight decay 1, 3000 full-batch steps.
GROK_P53 = GrokRun(p=53, train_frac=0.4, data_seed=0, d_model=64, n_heads=4, d_head=16, d_mlp=256, model_seed=0,
                   train=GrokConfig(steps=3000, lr=3e-3, weight_decay=1.0, betas=(0.9, 0.98), warmup=10,
                                    log_every=20, checkpoint_every=100))
#: The control: the same recipe with weight decay 0.
GROK_P53_WD0 = dataclasses.replace(GROK_P53, train=dataclasses.replace(GROK_P53.train, weight_decay=0.0))
#: The same two recipes on another seed (initialisation and train/test split), which lesson 10 never uses: the
#: tests measure the lesson's claims on them too (``tests/test_grokking.py``). Seed 1 is still on its plateau at
#: step 3000 (test accuracy 0.41) and groks later (0.5 at step 3850, 0.99 at 4700), so its run is 6000 steps
#: long, with the recipe's first 3000 steps in its curves.
GROK_P53_S1 = dataclasses.replace(GROK_P53, data_seed=1, model_seed=1,
                                  train=dataclasses.replace(GROK_P53.train, steps=6000))
GROK_P53_WD0_S1 = dataclasses.replace(GROK_P53_WD0, data_seed=1, model_seed=1)
#: Nanda et al.'s task and model (p = 113, 30 % train, d_model 128) at lr 3e-3 instead of 1e-3: groks in 2500 steps
#: (test accuracy 0.95 at step 2300, 0.995 at 2500; 1808 s on one loaded thread). Clean-up has only begun.
NANDA_113_LR3 = GrokRun(p=113, train_frac=0.3, train=GrokConfig(steps=2500, lr=3e-3, weight_decay=1.0, log_every=50,
                                                                 checkpoint_every=200))
#: The recipe of Nanda et al.: p = 113, 30 % train, AdamW lr 1e-3, weight decay 1, betas (0.9, 0.98), 10-step
#: warm-up, full batch; 14000 steps (their phases: memorisation to ~1.4k, circuit formation to ~9.4k, clean-up
#: to ~13k). Shipped as ``grokking_p113_nanda``.
NANDA_113 = GrokRun(p=113, train_frac=0.3, train=GrokConfig(steps=14000, lr=1e-3, weight_decay=1.0, log_every=50,
                                                             checkpoint_every=200))
#: Snapshots kept in the shipped files (steps between them): all of the grokking run, a few of the control.
KEEP_EVERY = {"grokking_p53": 100, "grokking_p53_wd0": 1000, "grokking_p113": 400, "grokking_p53_s1": 400,
              "grokking_p53_wd0_s1": 1000, "grokking_p113_nanda": 1000}


def _recipe(name: str, spec: GrokRun):
    def recipe(progress: bool = True):
        with torch_threads(1):  # tiny full-batch model: one thread is fastest on a shared CPU
            model, log = spec.train_run(progress)
        save_file(name, SNAPSHOTS_SUFFIX, spec.snapshot(log, KEEP_EVERY[name]))
        return model
    return recipe


def _read_snapshots(name: str):
    def read(saved: dict, device: torch.device) -> Snapshots:
        steps, models, curves = load_run_dict(saved, device)
        return Snapshots(name, steps, models, curves=curves, recipe=dict(saved["run"]))
    return read


for _name, _spec, _what in (("grokking_p53", GROK_P53, "weight decay 1, groks"),
                            ("grokking_p53_wd0", GROK_P53_WD0, "weight decay 0 control, does not grok"),
                            ("grokking_p53_s1", GROK_P53_S1, "weight decay 1, seed 1, 6000 steps: groks at ~4000"),
                            ("grokking_p53_wd0_s1", GROK_P53_WD0_S1, "weight decay 0 control, seed 1")):
    register(ZooEntry(
        name=_name,
        description=f"1-layer transformer (d_model 64, d_mlp 256) on (a+b) mod 53, 40% train, {_what}",
        build=_spec.build,
        recipe=_recipe(_name, _spec),
        family="grokking",
        info={"task": "(a + b) mod 53, tokens 'a b ='", "train_frac": _spec.train_frac, "seed": _spec.model_seed,
              "steps": _spec.train.steps, "lr": _spec.train.lr, "weight_decay": _spec.train.weight_decay,
              "checkpoints": f"every {KEEP_EVERY[_name]} steps, float16"},
        read_snapshots=_read_snapshots(_name),
    ))

register(ZooEntry(
    name="grokking_p113",
    description="Nanda et al.'s 1-layer transformer (d_model 128, d_mlp 512) on (a+b) mod 113, 30% train, lr 3e-3, groks",
    build=NANDA_113_LR3.build,
    recipe=_recipe("grokking_p113", NANDA_113_LR3),
    family="grokking",
    info={"task": "(a + b) mod 113, tokens 'a b ='", "train_frac": 0.3, "seed": 0, "steps": 2500, "lr": 3e-3,
          "weight_decay": 1.0, "checkpoints": "every 400 steps, float16"},
    read_snapshots=_read_snapshots("grokking_p113"),
))

register(ZooEntry(
    name="grokking_p113_nanda",
    description="Nanda et al.'s recipe: 1-layer transformer (d_model 128, d_mlp 512) on (a+b) mod 113, 30% train, "
                "lr 1e-3, weight decay 1, 14000 steps",
    build=NANDA_113.build,
    recipe=_recipe("grokking_p113_nanda", NANDA_113),
    family="grokking",
    info={"task": "(a + b) mod 113, tokens 'a b ='", "train_frac": 0.3, "seed": 0, "steps": NANDA_113.train.steps,
          "lr": 1e-3, "weight_decay": 1.0, "checkpoints": "every 1000 steps, float16"},
    read_snapshots=_read_snapshots("grokking_p113_nanda"),
))
