"""Toy models of superposition (lessons 5 and 6): batched sweeps trained offline.

- ``tms_dimensionality``: 100 features in 10 dimensions, importance 1, twenty
  instances whose feature probability runs from 1 down to 1/20; the
  dimensions-per-feature curve over sparsity and its sticky fractions.
- ``tms_phase_2in1``: the phase-diagram grid of 2 features in 1 dimension
  (9 relative importances x 9 densities x 4 repeats = 324 instances).
- ``tms_5in2``: 5 features in 2 dimensions, importance ``0.9^j``, ten
  instances from ``p = 1`` to ``p = 0.05`` (the pentagon).
- ``tms_privileged``: the hidden-ReLU model, 10 features in 5 neurons,
  importance ``0.75^j``, densities 1, 0.1 and 0.01 with 6 repeats each.
- ``tms_16in6``: one model, 16 equally important features in 6 dimensions
  at ``p = 0.05``; its hidden activations are lesson 6's toy data with
  known ground-truth features (the rows of ``W``).
"""

from __future__ import annotations

from ...device import get_device
import torch

from ...superposition.data import importance_decay, log_spaced
from ...superposition.model import ToyModel, ToyModelConfig
from ...superposition.phase import PhaseDiagramConfig, phase_grid_model
from ...superposition.train import ToyTrainConfig, train_toy_model
from ..registry import ZooEntry, register

DIMENSIONALITY_CONFIG = ToyModelConfig(n_features=100, d_hidden=10, n_instances=20)
DIMENSIONALITY_TRAIN = ToyTrainConfig(steps=6000, batch_size=512, lr=3e-3, schedule="cosine", seed=0)
PHASE_CONFIG = PhaseDiagramConfig()
PHASE_TRAIN = ToyTrainConfig(steps=2000, batch_size=1024, lr=1e-2, schedule="cosine", seed=0)


FIVE_IN_TWO_CONFIG = ToyModelConfig(n_features=5, d_hidden=2, n_instances=10)
FIVE_IN_TWO_TRAIN = ToyTrainConfig(steps=4000, batch_size=1024, lr=1e-2, schedule="cosine", seed=0)
PRIVILEGED_PROBABILITIES = (1.0, 0.1, 0.01)
PRIVILEGED_REPEATS = 6
PRIVILEGED_CONFIG = ToyModelConfig(n_features=10, d_hidden=5, n_instances=18, hidden_relu=True)
PRIVILEGED_TRAIN = ToyTrainConfig(steps=2500, batch_size=1024, lr=1e-2, schedule="cosine", seed=0)


SIXTEEN_IN_SIX_CONFIG = ToyModelConfig(n_features=16, d_hidden=6, n_instances=1)
SIXTEEN_IN_SIX_TRAIN = ToyTrainConfig(steps=2000, batch_size=1024, lr=1e-2, schedule="cosine", seed=0)


def _build_16in6() -> ToyModel:
    return ToyModel(SIXTEEN_IN_SIX_CONFIG, 1.0, 0.05)


def _build_5in2() -> ToyModel:
    return ToyModel(FIVE_IN_TWO_CONFIG, importance_decay(5, 0.9), log_spaced(1.0, 0.05, 10))


def _build_privileged() -> ToyModel:
    prob = torch.tensor(PRIVILEGED_PROBABILITIES).repeat_interleave(PRIVILEGED_REPEATS)
    return ToyModel(PRIVILEGED_CONFIG, importance_decay(10, 0.75), prob)


def _trained(build, cfg: ToyTrainConfig):
    def recipe(progress: bool = True) -> ToyModel:
        model = build().to(get_device())
        train_toy_model(model, cfg, progress=progress)
        return model
    return recipe


def dimensionality_probabilities():
    """Feature probability of each instance of ``tms_dimensionality``: ``20 ** -linspace(0, 1, 20)``."""
    return log_spaced(1.0, 1 / 20, DIMENSIONALITY_CONFIG.n_instances)


def _build_dimensionality() -> ToyModel:
    return ToyModel(DIMENSIONALITY_CONFIG, 1.0, dimensionality_probabilities())


def _recipe_dimensionality(progress: bool = True) -> ToyModel:
    model = _build_dimensionality().to(get_device())
    train_toy_model(model, DIMENSIONALITY_TRAIN, progress=progress)
    return model


def _recipe_phase(progress: bool = True) -> ToyModel:
    model = phase_grid_model(PHASE_CONFIG, get_device())
    train_toy_model(model, PHASE_TRAIN, progress=progress)
    return model


register(ZooEntry(
    name="tms_dimensionality",
    description="toy model, 100 features in 10 dims, 20 sparsities from p=1 to p=0.05 (dimensionality sweep)",
    build=_build_dimensionality,
    recipe=_recipe_dimensionality,
    family="toy",
    info={"seed": 0, "n_features": 100, "d_hidden": 10, "n_instances": 20, "steps": DIMENSIONALITY_TRAIN.steps},
))

register(ZooEntry(
    name="tms_phase_2in1",
    description="toy models, 2 features in 1 dim on a 9x9 grid of importance x density, 4 repeats each",
    build=lambda: phase_grid_model(PHASE_CONFIG),
    recipe=_recipe_phase,
    family="toy",
    info={"seed": 0, "grid": "9 importances (0.1-10) x 9 densities (1-0.01) x 4 repeats", "steps": PHASE_TRAIN.steps},
))

register(ZooEntry(
    name="tms_5in2",
    description="toy models, 5 features in 2 dims, importance 0.9^j, 10 densities from p=1 to p=0.05 (pentagon)",
    build=_build_5in2,
    recipe=_trained(_build_5in2, FIVE_IN_TWO_TRAIN),
    family="toy",
    info={"seed": 0, "steps": FIVE_IN_TWO_TRAIN.steps},
))

register(ZooEntry(
    name="tms_privileged",
    description="hidden-ReLU toy models, 10 features in 5 neurons, p in (1, 0.1, 0.01), 6 repeats each",
    build=_build_privileged,
    recipe=_trained(_build_privileged, PRIVILEGED_TRAIN),
    family="toy",
    info={"seed": 0, "steps": PRIVILEGED_TRAIN.steps, "repeats": PRIVILEGED_REPEATS},
))

register(ZooEntry(
    name="tms_16in6",
    description="toy model, 16 features in 6 dims at p=0.05 (ground truth for the SAE of lesson 6)",
    build=_build_16in6,
    recipe=_trained(_build_16in6, SIXTEEN_IN_SIX_TRAIN),
    family="toy",
    info={"seed": 0, "steps": SIXTEEN_IN_SIX_TRAIN.steps},
))
