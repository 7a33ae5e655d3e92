"""Editing a fact of the facts world (:mod:`mi_tutor.tasks.facts`) and scoring the edit.

Examples:
    >>> from mi_tutor import zoo
    >>> model = zoo.load("facts_4l", device="cpu")
    >>> known = known_facts(model)
    >>> known.shape  # [n_subjects, n_relations]
    torch.Size([64, 4])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..tasks.facts import FILLERS, FactWorld, fact_prompts, facts_world
from ..validation import check_layer_index
from .memit import MEMITEdit, MEMITRequest, memit_edit
from .rome import ROMEEdit, apply_update, compute_key, compute_value, rank_one_update

__all__ = ["known_facts", "NotKnownError", "check_known_fact", "fact_edit_prompts", "edit_fact", "edit_facts", "EditScores",
           "edit_scores", "new_object_for", "edit_measures", "score_distribution"]


class NotKnownError(ValueError):
    """The model does not know the fact it is asked to edit."""


@torch.no_grad()
def known_facts(model, world: FactWorld | None = None, paraphrase: int = 0) -> torch.Tensor:
    """``[n_subjects, n_relations]`` bool: the model's top answer is the true object."""
    world = world or facts_world()
    batch = fact_prompts(world, paraphrase=paraphrase)
    pred = model(batch.tokens.to(model.W_E.device))[:, -1].argmax(-1).cpu()
    return (pred == batch.answers).reshape(world.n_subjects, world.n_relations)


def new_object_for(world: FactWorld, subject: int, relation: int, shift: int = 1) -> int:
    """Token id of another object of the same relation (the next one in the relation's list, cyclically)."""
    objs = world.relation_objects(relation)
    return int(objs[(int(world.objects[subject, relation]) + shift) % len(objs)])


def _filler_prompts(world, subject, relation, paraphrase=0, fillers=None) -> torch.Tensor:
    fillers = range(len(FILLERS)) if fillers is None else fillers
    return torch.cat([fact_prompts(world, [subject], [relation], paraphrase, filler=f).tokens for f in fillers])


def _check_fillers(fillers) -> list[int]:
    fillers = list(range(len(FILLERS)) if fillers is None else fillers)
    if not fillers or any(not isinstance(f, int) or not 0 <= f < len(FILLERS) for f in fillers):
        raise ValueError(f"`fillers` is {fillers!r}: a non-empty list of filler indices 0 .. {len(FILLERS) - 1}")
    return fillers


def fact_edit_prompts(world: FactWorld, subject: int, relation: int, fillers=None, kl_phrases: int = 1
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """The prompts an edit of ``(subject, relation)`` is fitted on: ``(prompts [n_fillers, 5], kl_prompts)``.

    ``prompts``: the fact with each filler of ``fillers`` (default all 8), phrase 0; ``kl_prompts``: the
    subject's other relations with filler 0 (``kl_phrases=1``, 3 prompts) or with every filler of ``fillers`` and
    both phrases (``kl_phrases=2``).
    """
    fillers = _check_fillers(fillers)
    others = [r for r in range(world.n_relations) if r != relation]
    prompts = _filler_prompts(world, subject, relation, 0, fillers)
    if kl_phrases == 1:
        kl = fact_prompts(world, [subject], others).tokens
    else:
        kl = torch.cat([fact_prompts(world, [subject], others, p, filler=f).tokens for f in fillers for p in (0, 1)])
    return prompts, kl


def _check_site(model, layer: int, position: int) -> None:
    check_layer_index("layer", layer, model)
    if not 0 <= position < 5:
        raise ValueError(f"`position` is {position!r}: fact prompts have positions 0 .. 4 (3 = last subject "
                         "token, 4 = final token)")


def check_known_fact(model, world: FactWorld, subject: int, relation: int) -> None:
    """Raise :class:`NotKnownError` unless ``model`` answers ``(subject, relation)`` correctly."""
    if not bool(known_facts(model, world)[subject, relation]):
        raise NotKnownError(f"The model does not know the fact ({world.subject_name(subject)}, "
                            f"relation {relation}): its answer is not {world.object_name(subject, relation)!r}. "
                            "Editing a fact it does not know is meaningless: pick a known fact (known_facts).")


def edit_fact(model, subject: int, relation: int, new_object: int, layer: int, position: int, C: torch.Tensor,
              world: FactWorld | None = None, kl_factor: float = 0.5, steps: int = 40, lr: float = 0.5,
              check_known: bool = True, fillers=None, ridge: float = 1e-2, weight_decay: float = 0.5,
              kl_phrases: int = 2) -> ROMEEdit:
    """ROME-edit ``(subject, relation)`` to answer ``new_object`` at MLP ``layer``, key at ``position``.

    The key and value are averaged/optimised over the fact's prompts with each filler of ``fillers`` (default
    all 8; phrase 0, see :func:`fact_edit_prompts`); the KL term keeps the subject's other relations where they
    were; ``ridge`` regularises ``C`` (:func:`~mi_tutor.editing.rome.rank_one_update`).

    The defaults are the recipe bench/rome_facts.py chose over 32 facts (fitted on 4 fillers, scored on the 4
    others): 40 Adam steps, ridge 1e-2, KL 0.5 over the subject's other relations with every fitted filler and
    both phrases. With it the mean efficacy was 0.96 and the held-out fillers 0.97, the same subject's other
    relations kept 0.98, other subjects 1.00; but one fact of the 32 was not edited at all (efficacy 0.0): the
    value optimisation could not make its new object win (ROME's paper recipe: 20 steps, ridge 1e-4, KL 0.0625
    gave 0.91, worst 0.0, same subject 0.78).

    Raises:
        NotKnownError: if the model does not answer the fact correctly (an edit of a fact the model does not
            know cannot be told apart from its errors).
    """
    world = world or facts_world()
    _check_site(model, layer, position)
    if check_known:
        check_known_fact(model, world, subject, relation)
    device = model.W_E.device
    prompts, kl_prompts = (t.to(device) for t in fact_edit_prompts(world, subject, relation, fillers, kl_phrases))
    key = compute_key(model, prompts, layer, position)
    value = compute_value(model, prompts, new_object, layer, position, kl_prompts=kl_prompts, kl_factor=kl_factor,
                          weight_decay=weight_decay, steps=steps, lr=lr)
    W_new = rank_one_update(model.blocks[layer].mlp.W_out.detach(), C.to(device), key, value, ridge=ridge)
    return ROMEEdit(layer=layer, position=position, key=key, value=value, model=apply_update(model, layer, W_new))


def edit_facts(model, edits, layers, covariances, world: FactWorld | None = None, position: int = 3,
               fillers=None, weight: float = 10.0, ridge: float = 1e-2, check_known: bool = True, kl_phrases: int = 2,
               steps: int = 40, kl_factor: float = 0.5, **value_kw) -> MEMITEdit:
    """MEMIT-edit many facts ``[(subject, relation, new_object)]`` at once over the MLPs of ``layers``.

    Each fact is fitted on its prompts with the fillers of ``fillers`` as in :func:`edit_fact`
    (:func:`fact_edit_prompts`); ``covariances`` ``[n_layers, d_mlp, d_mlp]`` (``zoo.extras("facts_4l")``);
    ``weight``, ``ridge``, ``steps``, ``kl_factor`` and ``value_kw`` go to
    :func:`~mi_tutor.editing.memit.memit_edit` (the defaults: :func:`edit_fact`'s).

    Raises:
        NotKnownError: if the model does not know one of the facts.
    """
    world = world or facts_world()
    for layer in layers:
        _check_site(model, layer, position)
    device = model.W_E.device
    requests = []
    for s, r, new in edits:
        if check_known:
            check_known_fact(model, world, s, r)
        prompts, kl = fact_edit_prompts(world, s, r, fillers, kl_phrases)
        requests.append(MEMITRequest(prompts.to(device), int(new), kl.to(device)))
    return memit_edit(model, requests, layers, covariances, position, weight=weight, ridge=ridge, steps=steps,
                      kl_factor=kl_factor, **value_kw)


@dataclass
class EditScores:
    """Success rates of one edit (each a fraction in [0, 1])."""

    efficacy: float
    paraphrase: float
    specificity: float
    same_subject: float

    def as_dict(self) -> dict[str, float]:
        return {"efficacy": self.efficacy, "paraphrase": self.paraphrase, "specificity": self.specificity,
                "same_subject": self.same_subject}


@torch.no_grad()
def edit_scores(model, edited, subject: int, relation: int, new_object: int,
                world: FactWorld | None = None) -> EditScores:
    """How the edit did.

    * efficacy: share of the edited fact's prompts (every filler, phrase 0) answering ``new_object``;
    * paraphrase: the same with the relation's other phrase;
    * specificity: share of the other subjects' facts (all relations) whose answer did not change;
    * same_subject: share of the subject's other relations whose answer did not change.
    """
    world = world or facts_world()
    device = model.W_E.device

    def top(m, tokens):
        return m(tokens.to(device))[:, -1].argmax(-1).cpu()

    eff = (top(edited, _filler_prompts(world, subject, relation, 0)) == new_object).float().mean()
    para = (top(edited, _filler_prompts(world, subject, relation, 1)) == new_object).float().mean()
    everyone = fact_prompts(world)
    other = everyone.subjects != subject
    spec = (top(edited, everyone.tokens[other]) == top(model, everyone.tokens[other])).float().mean()
    same = (everyone.subjects == subject) & (everyone.relations != relation)
    same_s = (top(edited, everyone.tokens[same]) == top(model, everyone.tokens[same])).float().mean()
    return EditScores(float(eff), float(para), float(spec), float(same_s))


@torch.no_grad()
def _answers(model, world: FactWorld, filler: int = 0) -> torch.Tensor:
    """Top answers ``[2, n_subjects, n_relations]`` to every fact prompt with ``filler`` (both phrases)."""
    tokens = torch.cat([fact_prompts(world, paraphrase=p, filler=filler).tokens for p in (0, 1)])
    pred = model(tokens.to(model.W_E.device))[:, -1].argmax(-1).cpu()
    return pred.reshape(2, world.n_subjects, world.n_relations)


@torch.no_grad()
def edit_measures(model, edited, edits, world: FactWorld | None = None, fit_fillers=None) -> dict[str, torch.Tensor]:
    """Per-edit scores ``[n_edits]`` of one edited model holding the edits ``[(subject, relation, new_object)]``.

    Each is a share in [0, 1]:

    * ``efficacy``: the edited fact's prompts with the fillers the edit was fitted on (``fit_fillers``, default
      all), phrase 0, answering ``new_object``;
    * ``paraphrase``: the same with the relation's other phrase;
    * ``held_out``: the edited fact with the fillers *not* in ``fit_fillers`` (both phrases; NaN when none);
    * ``neighbours``: facts (filler 0, both phrases) of the subjects sharing a first or a last name with the
      edited one, not themselves edited, whose answer did not change;
    * ``same_subject``: the subject's relations that were not edited (filler 0, both phrases), unchanged (NaN when
      all were);
    * ``specificity``: every fact (filler 0, both phrases) of the subjects no edit touched, unchanged (the same
      for every edit).

    Examples:
        >>> from mi_tutor import zoo
        >>> model = zoo.load("facts_4l", device="cpu")
        >>> edit_measures(model, model, [(0, 1, 40)])["neighbours"].tolist()
        [1.0]
    """
    world = world or facts_world()
    fit = _check_fillers(fit_fillers)
    held = [f for f in range(len(FILLERS)) if f not in fit]
    same = _answers(model, world) == _answers(edited, world)  # [2, subjects, relations]
    edited_facts = {(int(s), int(r)) for s, r, _ in edits}
    untouched = torch.ones(world.n_subjects, dtype=torch.bool)
    untouched[[s for s, _ in edited_facts]] = False
    nan = torch.tensor(float("nan"))
    out = {k: [] for k in ("efficacy", "paraphrase", "held_out", "neighbours", "same_subject", "specificity")}
    device = model.W_E.device
    for s, r, new in edits:
        tokens = torch.cat([_filler_prompts(world, s, r, p) for p in (0, 1)])  # [2 * n_fillers, 5]
        hit = (edited(tokens.to(device))[:, -1].argmax(-1).cpu() == int(new)).reshape(2, len(FILLERS))
        out["efficacy"].append(hit[0, fit].float().mean())
        out["paraphrase"].append(hit[1, fit].float().mean())
        out["held_out"].append(hit[:, held].float().mean() if held else nan)
        near = (world.subjects == world.subjects[s]).any(1) & untouched
        out["neighbours"].append(same[:, near].float().mean())
        kept = [q for q in range(world.n_relations) if (s, q) not in edited_facts]
        out["same_subject"].append(same[:, s, kept].float().mean() if kept else nan)
        out["specificity"].append(same[:, untouched].float().mean())
    return {k: torch.stack(v).float() for k, v in out.items()}


def score_distribution(values: torch.Tensor, good: float = 0.9) -> dict[str, float]:
    """Mean, worst and share ``>= good`` of per-edit scores ``[n]`` (NaNs dropped).

    Examples:
        >>> score_distribution(torch.tensor([1.0, 0.5, 1.0, float("nan")]))
        {'mean': 0.833, 'worst': 0.5, 'share_ge_0.9': 0.667, 'n': 3}
    """
    v = values[~values.isnan()]
    return {"mean": round(float(v.mean()), 3), "worst": round(float(v.min()), 3),
            f"share_ge_{good}": round(float((v >= good).float().mean()), 3), "n": int(len(v))}
