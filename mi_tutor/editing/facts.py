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
from .rome import ROMEEdit, apply_update, compute_key, compute_value, rank_one_update

__all__ = ["known_facts", "NotKnownError", "edit_fact", "EditScores", "edit_scores", "new_object_for"]


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


def _filler_prompts(world, subject, relation, paraphrase=0) -> torch.Tensor:
    return torch.cat([fact_prompts(world, [subject], [relation], paraphrase, filler=f).tokens
                      for f in range(len(FILLERS))])


def edit_fact(model, subject: int, relation: int, new_object: int, layer: int, position: int, C: torch.Tensor,
              world: FactWorld | None = None, kl_factor: float = 0.0625, steps: int = 20, lr: float = 0.5,
              check_known: bool = True) -> ROMEEdit:
    """ROME-edit ``(subject, relation)`` to answer ``new_object`` at MLP ``layer``, key at ``position``.

    The key and value are averaged/optimised over the fact's prompts with every filler (paraphrase 0); the KL
    term keeps the subject's other relations where they were.

    Raises:
        NotKnownError: if the model does not answer the fact correctly (an edit of a fact the model does not
            know cannot be told apart from its errors).
    """
    world = world or facts_world()
    check_layer_index("layer", layer, model)
    if not 0 <= position < 5:
        raise ValueError(f"`position` is {position!r}: fact prompts have positions 0 .. 4 (3 = last subject "
                         "token, 4 = final token)")
    if check_known and not bool(known_facts(model, world)[subject, relation]):
        raise NotKnownError(f"The model does not know the fact ({world.subject_name(subject)}, "
                            f"relation {relation}): its answer is not {world.object_name(subject, relation)!r}. "
                            "Editing a fact it does not know is meaningless: pick a known fact (known_facts).")
    device = model.W_E.device
    prompts = _filler_prompts(world, subject, relation).to(device)
    others = [r for r in range(world.n_relations) if r != relation]
    kl_prompts = fact_prompts(world, [subject], others).tokens.to(device)
    key = compute_key(model, prompts, layer, position)
    value = compute_value(model, prompts, new_object, layer, position, kl_prompts=kl_prompts, kl_factor=kl_factor,
                          steps=steps, lr=lr)
    W_new = rank_one_update(model.blocks[layer].mlp.W_out.detach(), C.to(device), key, value)
    return ROMEEdit(layer=layer, position=position, key=key, value=value, model=apply_update(model, layer, W_new))


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
