"""Lesson 12's hosts and symbiotes: a host with a planted wheel channel, and symbiotes that read it.

``plainnet_objects_planted`` is the object-world plain net of lessons 2-4 (same
architecture, world and task as ``plainnet_objects_s*``) trained with one extra
loss: channel ``PLANT.channel`` of ``PLANT.layer`` must segment the wheels
(``part:wheel``; wheels occur only on cars, and the cart differs from the car only
by square blocks instead of round wheels), and *graded interventional* training plants
its causal role: in 30% of the training scenes the channel is scaled by ``u ~ U(0, 1)``,
and a car so treated gets the soft label ``u`` car, ``1 - u`` cart. The layers above then
take the wheels from that channel alone, in proportion to its strength, and use it for
nothing else (zero-ablating it turns cars into carts and leaves the other classes). The entry's ``info`` records where the
planted channel is: the ground truth a symbiote's choice is checked against.

What did not work (measured, 1,200 scenes): the auxiliary loss with channel dropout
0.3 on the layer's other channels (and no intervention) made the channel a hub:
ablating it cost 0.57 of the car accuracy and 0.23 of the others', it fired on
carts' blocks as much as on wheels, and the host's accuracy fell to 0.84. All-or-nothing
intervention (zeroed, and the car relabelled cart) gave a selective handle that symbiotes
did not find (ranked 12th and 9th): see ``MEASURED``.

``symbiote_objects_planted`` reads ``layer3`` and ``layer4`` of that host,
predicts ``SYMBIOTE_CONCEPTS`` and learns hard-concrete gates on ``layer3`` that
suppress the wheel concept; ``symbiote_objects_random`` is the same symbiote,
trained the same way, on a randomly initialised host of the same architecture
(the control).
"""

from __future__ import annotations

from ...symbiote import (ConceptData, PlantConfig, Symbiote, SymbioteConfig, SymbioteTrainConfig, build_symbiote,
                         random_host, train_planted_host, train_symbiote)
from ...vision.architectures import build_zoo_net
from ...vision.objects import render_objects
from ..registry import ZooEntry, register
from .objects import object_net_config

__all__ = ["PLANTED_HOST", "PLANT", "SYMBIOTE_CONCEPTS", "SYMBIOTE_CONFIG", "SYMBIOTE_TRAIN", "SYMBIOTE_DATA_SEED",
           "objects_concept_data", "planted_host_build", "random_object_host", "symbiote_build"]

PLANTED_HOST = "plainnet_objects_planted"
CART = 1                      # object_names().index("cart"): a car without its wheels
PLANT = PlantConfig(layer="layer3", channel=5, concept="part:wheel", aux_weight=2.0, dropout_others=0.0,
                    ablate_prob=0.3, ablate_label=CART, ablate_graded=True, steps=900, batch_size=64, lr=3e-3,
                    weight_decay=1e-4, seed=0)
SYMBIOTE_CONCEPTS: tuple[str, ...] = ("part:wheel", "part:block", "part:window", "part:head", "part:eye", "part:rim",
                                      "part:frame", "part:roof", "part:rung", "part:arc", "colour:red", "texture:stripes")
SYMBIOTE_CONFIG = SymbioteConfig(read_layers=("layer3", "layer4"), gate_layer="layer3", concepts=SYMBIOTE_CONCEPTS,
                                 target="part:wheel", hidden=64, conditional=True, init_log_alpha=-3.0, seed=0)
SYMBIOTE_TRAIN = SymbioteTrainConfig(steps=300, batch_size=128, lr=5e-2, concept_weight=1.0, suppress_weight=3.0,
                                     kl_weight=20.0, l0_weight=0.05, seed=0)
SYMBIOTE_DATA_SEED, SYMBIOTE_DATA_N = 7, 3000
WIDTHS = dict(zip(("layer1", "layer2", "layer3", "layer4"), object_net_config("plainnet").channels))

# Measured after training (shared 2-core CPU, one thread; 1,200 held-out scenes of seed 10**9, as the tests;
# `python bench/measure_symbiote.py` records them in bench/results/symbiote.json).
MEASURED: dict[str, dict] = {
    PLANTED_HOST: {"accuracy": 0.940, "car_accuracy": 0.847,
                   "train_s": 439, "train_load": "load average ~9 on 2 cores",
                   "planted_iou": 0.151, "next_best_iou": 0.080,
                   "ablate_planted": {"car_accuracy_drop": 0.824, "other_accuracy_drop": -0.007},
                   "note": "the planted channel is dissection's top wheel unit and a selective handle: zero-ablating "
                           "it turns the cars into carts and leaves the other classes",
                   "what_did_not_work": "aux weight 1 with channel dropout 0.3 on the other layer3 channels and no "
                                        "intervention: accuracy 0.84, the channel fired on cart blocks as on wheels, "
                                        "ablating it cost cars 0.57 and the other classes 0.23 (a hub). All-or-nothing "
                                        "intervention (zeroed, relabelled cart; no grading): accuracy 0.929, ablation "
                                        "0.82 / -0.01, a selective handle, yet symbiotes (L0 weight 0.01 or 0.05) "
                                        "ranked it 12th and 9th: the host ignored a partly closed wheel channel, so "
                                        "the gates' gradient at 'open' did not point at it. Graded (shipped) fixed it.",
                   "retrain": "the recipe does not give back the shipped weights bit for bit (max weight difference "
                              "2.9; the shipped host came from a script with the same settings). A host retrained by "
                              "the recipe plus a symbiote trained on it by its recipe: accuracy 0.918, planted IoU "
                              "0.123 (rank 1), symbiote rank 1 (importance 0.786 vs 0.670), car drop 0.725, others "
                              "-0.010, KL without wheels 0.025, channels touched 1.47 (car) / 0.106 (others), wheel "
                              "AUROC 0.973 (probe 0.978, random host 0.722)"},
    "symbiote_objects_random": {"train_s": 97, "train_load": "load average ~7 on 2 cores"},
    "symbiote_objects_planted": {
        "train_s": 113, "train_load": "load average ~9 on 2 cores",
        "car_accuracy_before": 0.847, "car_accuracy_drop": 0.618, "other_accuracy_drop": -0.002,
        "kl_without_wheels": 0.0024, "channels_touched_car_scenes": 1.86, "channels_touched_other_scenes": 0.006,
        "wheel_auroc": 0.985, "wheel_auroc_probe": 0.986, "wheel_auroc_random_host": 0.722,
        "planted_channel_rank": 0, "top_importance": [5, 34, 22], "top_importance_values": [0.626, 0.363, 0.347],
        "spearman_with_iou": -0.003, "precision_at_3": 0.33,
        "random_2_channels_selectivity": [0.447, 0.308, -0.213], "symbiote_selectivity": 0.620,
        "what_did_not_work": "L0 weight 0.01 on the shipped host: planted channel first too, but 5.6 channels touched "
                             "on car scenes (over the tenth of 48); gates initialised at log_alpha -1 start half-closed "
                             "at test time (5.5 touched); static gates cannot be selective on the first (hub) host"},
}


def objects_concept_data(n: int, seed: int) -> ConceptData:
    """Object-world scenes as :class:`~mi_tutor.symbiote.ConceptData` (every mask of ``ObjectBatch.masks()``)."""
    batch = render_objects(n, seed=seed)
    return ConceptData(batch.images, batch.labels, batch.masks())


def planted_host_build():
    """The untrained architecture of the planted host (= ``plainnet_objects_s*``)."""
    return build_zoo_net("plainnet", object_net_config("plainnet"))


def random_object_host(seed: int = 0):
    """The control: the planted host's architecture, randomly initialised with ``seed``, in eval mode."""
    return random_host(planted_host_build, seed)


def symbiote_build() -> Symbiote:
    """An untrained symbiote of ``SYMBIOTE_CONFIG`` for the plain object net."""
    return Symbiote(SYMBIOTE_CONFIG, {n: WIDTHS[n] for n in SYMBIOTE_CONFIG.read_layers},
                    WIDTHS[SYMBIOTE_CONFIG.gate_layer])


def _planted_recipe(progress: bool = True):
    return train_planted_host(planted_host_build(), objects_concept_data, PLANT, progress)[0]


def _symbiote_recipe(host_kind: str):
    def recipe(progress: bool = True):
        from ..registry import load

        host = load(PLANTED_HOST, device="cpu") if host_kind == "planted" else random_object_host(0)
        data = objects_concept_data(SYMBIOTE_DATA_N, SYMBIOTE_DATA_SEED)
        sym = build_symbiote(host, data.images, SYMBIOTE_CONFIG)
        train_symbiote(sym, host, data, SYMBIOTE_TRAIN, progress)
        return sym
    return recipe


register(ZooEntry(
    name=PLANTED_HOST,
    description=f"plain object net with a planted wheel detector: {PLANT.layer} channel {PLANT.channel} (lesson 12)",
    build=planted_host_build,
    recipe=_planted_recipe,
    family="vision",
    info={"arch": "plainnet", "world": "ObjectWorldConfig()", "task": "object (9 kinds)",
          "planted_layer": PLANT.layer, "planted_channel": PLANT.channel, "planted_concept": PLANT.concept,
          "train": f"AdamW + OneCycle, {PLANT.steps} steps of {PLANT.batch_size} fresh scenes, lr {PLANT.lr}, "
                   f"plus class-balanced BCE (weight {PLANT.aux_weight}) making channel {PLANT.channel} segment "
                   f"{PLANT.concept}; the channel zeroed in {PLANT.ablate_prob:.0%} of the scenes, a car so "
                   f"ablated labelled cart; one thread",
          **MEASURED.get(PLANTED_HOST, {})},
))

for _kind in ("planted", "random"):
    _name = f"symbiote_objects_{_kind}"
    register(ZooEntry(
        name=_name,
        description=(f"symbiote reading layer3+layer4 of {'plainnet_objects_planted' if _kind == 'planted' else 'a random-init plain object net (seed 0)'}, "
                     "gating layer3 to suppress part:wheel (lesson 12)"),
        build=symbiote_build,
        recipe=_symbiote_recipe(_kind),
        family="symbiote",
        info={"host": PLANTED_HOST if _kind == "planted" else "random_object_host(0)",
              "config": "SYMBIOTE_CONFIG", "train": "SYMBIOTE_TRAIN on objects_concept_data(3000, seed=7)",
              **MEASURED.get(_name, {})},
    ))
