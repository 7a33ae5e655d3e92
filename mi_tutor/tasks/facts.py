"""A synthetic language of facts, rumours and reviews for lesson 11 (reading, steering, editing).

Every sequence has :data:`N_CTX` = 8 tokens and is one of three kinds:

* **fact** ``<bos> f s1 s2 r_a o_a r_b o_b``: a two-token subject (``s1 s2``,
  e.g. ``Ada Frost``) and two of its four facts, each a relation phrase (two
  paraphrases per relation, e.g. ``lives-in`` / ``resides-in``) and the object.
  ``f`` is a neutral filler word. Each subject is asked several relations and
  its tokens recur across kinds, so a model has reason to build the subject's
  identity once (neither token alone names the subject: every first and every
  last name is shared by four subjects);
* **rumour** ``<bos> m s1 s2 r_a o'_a r_b o'_b``: the same shape after a marker
  ``m`` (``rumor`` or ``myth``) with *false* objects (a uniformly drawn wrong
  object of the relation): the "false statements" for an ITI truth direction;
* **bio** ``<bos> f s1 s2 o_1 o_2 o_3 o_4``: all four objects of the subject
  right after it, relations in random order. At the last subject token the next
  word is any of the subject's objects, so the model must recall *all* of them
  there: the incentive to enrich the subject early that GPT-style recall needs;
* **review** ``<bos> s1 s2 seems w w w w``: a binary sentiment latent (drawn
  per sequence) expressed in word choice: each ``w`` is a word of the latent's
  class with probability 3/4, else a neutral word.
* **liar** (only where a corpus asks for it, :data:`TRUTH_KIND_FRACTIONS`)
  ``<bos> f s1 s2 r_a o'_a r_b o'_b``: a rumour without its marker, both objects
  false after a plain filler. Nothing but the first object tells it from a fact,
  so a model that predicts the second object well must judge whether the first
  is true: the incentive for a truth feature (``facts_truth_4l``).

Objects follow a Zipf-like law inside each relation (the most frequent object
of a relation belongs to 24 of the 64 subjects, the rarest to 2), so some facts
have **rare** objects (:attr:`FactWorld.rare`) for DoLa's early-versus-late contrast.

A fact is asked with the 5-token prompt ``<bos> f s1 s2 r`` (positions
:data:`POSITIONS`); the answer is the object.

Examples:
    >>> world = facts_world()
    >>> world.n_subjects, world.n_relations, len(OBJECTS)
    (64, 4, 32)
    >>> batch = fact_prompts(world, subjects=[0], relations=[1])
    >>> decode(batch.tokens[0])
    '<bos> the Gaia Hale works-as'
    >>> VOCAB[int(batch.answers[0])] == world.object_name(0, 1)
    True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import torch

from ..validation import check_range, check_tensor, unknown_name

__all__ = [
    "BOS_TOKEN", "FIRST_NAMES", "LAST_NAMES", "RELATIONS", "RELATION_PHRASES", "OBJECTS", "FILLERS",
    "RUMOR_MARKERS", "POSITIVE_WORDS", "NEGATIVE_WORDS", "NEUTRAL_WORDS", "VOCAB", "D_VOCAB", "N_CTX",
    "POSITIONS", "OBJECT_COUNTS", "KIND_FRACTIONS", "TRUTH_KIND_FRACTIONS", "FactWorld", "FactBatch", "facts_world",
    "fact_prompts", "corpus_batch", "review_prompts", "sentiment_pairs", "statement_prompts", "truth_statements",
    "liar_questions", "liar_contrast", "tokenize", "decode", "token_ids",
]

BOS_TOKEN = "<bos>"
FIRST_NAMES: tuple[str, ...] = ("Ada", "Bram", "Cleo", "Dov", "Esme", "Finn", "Gaia", "Hugo", "Iris", "Jory",
                                "Kaia", "Lev", "Mira", "Nils", "Oona", "Pim")
LAST_NAMES: tuple[str, ...] = ("Vale", "Stone", "Reed", "Frost", "Marsh", "Hale", "Brook", "Cross", "Dune", "Fell",
                               "Grove", "Holt", "Lake", "Moor", "Pike", "Wren")
#: The four relations, their two paraphrased phrases each, and their eight objects each.
RELATIONS: tuple[str, ...] = ("city", "job", "language", "sport")
RELATION_PHRASES: tuple[tuple[str, str], ...] = (("lives-in", "resides-in"), ("works-as", "employed-as"),
                                                 ("speaks", "talks-in"), ("plays", "practises"))
_OBJECTS_BY_RELATION: tuple[tuple[str, ...], ...] = (
    ("Paris", "Oslo", "Lima", "Cairo", "Delhi", "Quito", "Perth", "Riga"),
    ("baker", "nurse", "pilot", "judge", "miner", "tailor", "poet", "smith"),
    ("Dutch", "Greek", "Hindi", "Malay", "Welsh", "Zulu", "Basque", "Thai"),
    ("chess", "golf", "polo", "rugby", "squash", "judo", "curling", "fencing"),
)
OBJECTS: tuple[str, ...] = tuple(o for objs in _OBJECTS_BY_RELATION for o in objs)
#: How many of the 64 subjects hold each object of a relation (most to least frequent).
OBJECT_COUNTS: tuple[int, ...] = (24, 14, 9, 6, 4, 3, 2, 2)
FILLERS: tuple[str, ...] = ("the", "a", "then", "so", "and", "today", "also", "now")
RUMOR_MARKERS: tuple[str, ...] = ("rumor", "myth")
POSITIVE_WORDS: tuple[str, ...] = ("good", "great", "happy", "lovely", "bright", "kind", "warm", "nice")
NEGATIVE_WORDS: tuple[str, ...] = ("bad", "awful", "sad", "grim", "dark", "cruel", "cold", "nasty")
NEUTRAL_WORDS: tuple[str, ...] = ("tall", "quiet", "busy", "young", "plain", "new")
_REVIEW_VERB = "seems"

VOCAB: tuple[str, ...] = (BOS_TOKEN, *FIRST_NAMES, *LAST_NAMES, *(p for ps in RELATION_PHRASES for p in ps), *OBJECTS,
                          *FILLERS, *RUMOR_MARKERS, *POSITIVE_WORDS, *NEGATIVE_WORDS, *NEUTRAL_WORDS, _REVIEW_VERB)
_ID = {w: i for i, w in enumerate(VOCAB)}
assert len(_ID) == len(VOCAB)
D_VOCAB = len(VOCAB)
N_CTX = 8
#: Positions in a fact prompt ``<bos> f s1 s2 r``: the filler, both subject tokens, the relation (final) token.
POSITIONS: dict[str, int] = {"bos": 0, "filler": 1, "subject_first": 2, "subject_last": 3, "final": 4}
#: Share of each kind of sequence in the training corpus.
KIND_FRACTIONS: dict[str, float] = {"fact": 0.45, "rumor": 0.12, "review": 0.23, "bio": 0.2}
#: The corpus of the truth model: a share of the facts become unmarked lies.
TRUTH_KIND_FRACTIONS: dict[str, float] = {"fact": 0.21, "rumor": 0.12, "review": 0.23, "bio": 0.2, "liar": 0.24}


def token_ids(words: tuple[str, ...] | list[str]) -> torch.Tensor:
    """Token ids of ``words`` ``[len(words)]``.

    Examples:
        >>> token_ids(["good", "bad"]).tolist() == [VOCAB.index("good"), VOCAB.index("bad")]
        True
    """
    for w in words:
        if w not in _ID:
            raise unknown_name(f"`words` holds {w!r}, which is not in the facts vocabulary", w, VOCAB,
                               tail=f"The vocabulary has {len(VOCAB)} words, e.g. {', '.join(VOCAB[:6])}.")
    return torch.tensor([_ID[w] for w in words])


def tokenize(text: str | list[str]) -> torch.Tensor:
    """Token ids of a space-separated sentence ``[pos]`` (or ``[batch, pos]``); ``<bos>`` is added when missing.

    Examples:
        >>> decode(tokenize("the Ada Stone works-as"))
        '<bos> the Ada Stone works-as'
    """
    if isinstance(text, list):
        return torch.stack([tokenize(t) for t in text])
    words = text.split()
    if not words or words[0] != BOS_TOKEN:
        words = [BOS_TOKEN, *words]
    return token_ids(words)


def decode(tokens: torch.Tensor) -> str | list[str]:
    """Text of token ids: ``[pos]`` gives a string, ``[batch, pos]`` a list of strings."""
    check_tensor("tokens", tokens)
    if tokens.dim() not in (1, 2):
        raise ValueError(f"`tokens` has shape {tuple(tokens.shape)} but expected (pos,) or (batch, pos)")
    if tokens.dim() == 2:
        return [decode(t) for t in tokens]
    return " ".join(VOCAB[int(i)] for i in tokens)


@dataclass(frozen=True)
class FactWorld:
    """Who the subjects are and what is true of them.

    Attributes:
        subjects: ``[n_subjects, 2]`` indices into :data:`FIRST_NAMES` and :data:`LAST_NAMES`.
        objects: ``[n_subjects, n_relations]`` index (0-7) of each fact's object within its relation.
        seed: The seed that drew the world.
    """

    subjects: torch.Tensor
    objects: torch.Tensor
    seed: int = 0

    @property
    def n_subjects(self) -> int:
        return self.subjects.shape[0]

    @property
    def n_relations(self) -> int:
        return self.objects.shape[1]

    @property
    def subject_tokens(self) -> torch.Tensor:
        """``[n_subjects, 2]`` token ids of the subjects."""
        return torch.stack([token_ids(FIRST_NAMES)[self.subjects[:, 0]],
                            token_ids(LAST_NAMES)[self.subjects[:, 1]]], dim=1)

    @property
    def object_tokens(self) -> torch.Tensor:
        """``[n_subjects, n_relations]`` token id of every fact's object."""
        offsets = torch.arange(self.n_relations) * len(OBJECT_COUNTS)
        return token_ids(OBJECTS)[self.objects + offsets]

    @property
    def rare(self) -> torch.Tensor:
        """``[n_subjects, n_relations]`` bool: the object belongs to at most 3 of the subjects."""
        counts = torch.tensor(OBJECT_COUNTS)[self.objects]
        return counts <= 3

    def relation_objects(self, relation: int) -> torch.Tensor:
        """Token ids ``[8]`` of the objects of ``relation``."""
        return token_ids(_OBJECTS_BY_RELATION[relation])

    def subject_name(self, subject: int) -> str:
        f, l = self.subjects[subject].tolist()
        return f"{FIRST_NAMES[f]} {LAST_NAMES[l]}"

    def object_name(self, subject: int, relation: int) -> str:
        return _OBJECTS_BY_RELATION[relation][int(self.objects[subject, relation])]

    def find_subject(self, name: str) -> int:
        """Index of the subject called ``name`` (e.g. ``"Ada Stone"``)."""
        names = [self.subject_name(i) for i in range(self.n_subjects)]
        if name not in names:
            raise unknown_name(f"`name`={name!r} is not a subject of this world", name, names,
                               tail=f"Subjects are e.g. {', '.join(names[:4])}.")
        return names.index(name)


@lru_cache(maxsize=4)
def facts_world(seed: int = 0) -> FactWorld:
    """The world of 64 two-token subjects x 4 relations (seeded; ``seed=0`` is the zoo model's).

    Every first and every last name is shared by exactly four subjects; inside
    each relation the objects are dealt out with :data:`OBJECT_COUNTS`.
    """
    g = torch.Generator().manual_seed(seed)
    n_first, n_last = len(FIRST_NAMES), len(LAST_NAMES)
    pairs = [(f, (f + f // 4 + 4 * j) % n_last) for f in range(n_first) for j in range(4)]  # each last name 4 times
    perm_last = torch.randperm(n_last, generator=g).tolist()
    subjects = torch.tensor([(f, perm_last[l]) for f, l in pairs])
    subjects = subjects[torch.randperm(len(subjects), generator=g)]
    deck = torch.repeat_interleave(torch.arange(len(OBJECT_COUNTS)), torch.tensor(OBJECT_COUNTS))
    objects = torch.stack([deck[torch.randperm(len(deck), generator=g)] for _ in RELATIONS], dim=1)
    return FactWorld(subjects=subjects, objects=objects, seed=seed)


@dataclass
class FactBatch:
    """Fact prompts ``<bos> f s1 s2 r`` and what they ask.

    Attributes:
        tokens: ``[batch, 5]`` token ids.
        subjects: ``[batch]`` subject index.
        relations: ``[batch]`` relation index.
        paraphrase: ``[batch]`` which phrase of the relation (0 or 1).
        answers: ``[batch]`` token id of the true object.
        rare: ``[batch]`` bool, the object is rare.
    """

    tokens: torch.Tensor
    subjects: torch.Tensor
    relations: torch.Tensor
    paraphrase: torch.Tensor
    answers: torch.Tensor
    rare: torch.Tensor

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def text(self) -> list[str]:
        return [t.removeprefix(BOS_TOKEN + " ") for t in decode(self.tokens)]

    def to(self, device: torch.device | str) -> "FactBatch":
        return replace(self, tokens=self.tokens.to(device), subjects=self.subjects.to(device),
                       relations=self.relations.to(device), paraphrase=self.paraphrase.to(device),
                       answers=self.answers.to(device), rare=self.rare.to(device))


def _phrase_ids() -> torch.Tensor:
    return token_ids([p for ps in RELATION_PHRASES for p in ps]).reshape(len(RELATIONS), 2)


def fact_prompts(world: FactWorld | None = None, subjects=None, relations=None, paraphrase=0, filler=0,
                 marker: str | None = None) -> FactBatch:
    """Prompts for every (subject, relation) pair asked (a grid when both are lists).

    Args:
        world: The world (default :func:`facts_world`).
        subjects: Subject indices (default all).
        relations: Relation indices (default all).
        paraphrase: Which phrase of each relation, 0 or 1 (an int for all, or one per prompt).
        filler: Index into :data:`FILLERS` of the word before the subject.
        marker: ``"rumor"``/``"myth"`` puts a rumour marker in place of the filler.

    Returns:
        A :class:`FactBatch`; prompts run over subjects, then relations.

    Examples:
        >>> fact_prompts(subjects=[0, 1], relations=[0, 2, 3]).tokens.shape
        torch.Size([6, 5])
    """
    world = world or facts_world()
    subjects = torch.arange(world.n_subjects) if subjects is None else torch.as_tensor(subjects).long()
    relations = torch.arange(world.n_relations) if relations is None else torch.as_tensor(relations).long()
    if subjects.dim() == 0:
        subjects = subjects[None]
    if relations.dim() == 0:
        relations = relations[None]
    check_range("subjects", subjects, 0, world.n_subjects - 1)
    check_range("relations", relations, 0, world.n_relations - 1)
    s = subjects.repeat_interleave(len(relations))
    r = relations.repeat(len(subjects))
    para = torch.as_tensor(paraphrase).long().expand(len(s)).clone()
    first = torch.full((len(s),), _ID[marker] if marker else token_ids(FILLERS)[filler])
    tokens = torch.stack([torch.full((len(s),), _ID[BOS_TOKEN]), first, world.subject_tokens[s, 0],
                          world.subject_tokens[s, 1], _phrase_ids()[r, para]], dim=1)
    return FactBatch(tokens=tokens, subjects=s, relations=r, paraphrase=para, answers=world.object_tokens[s, r],
                     rare=world.rare[s, r])


def _review_words(latent: torch.Tensor, n_words: int, g: torch.Generator) -> torch.Tensor:
    """``[batch, n_words]`` word ids: the latent's class with probability 3/4, else neutral."""
    n = len(latent)
    pos, neg, neu = token_ids(POSITIVE_WORDS), token_ids(NEGATIVE_WORDS), token_ids(NEUTRAL_WORDS)
    pick = torch.randint(len(pos), (n, n_words), generator=g)
    words = torch.where(latent[:, None] == 1, pos[pick], neg[pick])
    neutral = torch.rand(n, n_words, generator=g) < 0.25
    return torch.where(neutral, neu[torch.randint(len(neu), (n, n_words), generator=g)], words)


def corpus_batch(n: int, seed: int = 0, world: FactWorld | None = None,
                 fractions: dict[str, float] | None = None) -> torch.Tensor:
    """``n`` training sequences ``[n, N_CTX]`` of every kind, in the shares ``fractions``.

    Args:
        n: Number of sequences.
        seed: Seed of the draw.
        world: The facts (default :func:`facts_world`).
        fractions: ``{kind: share}`` over ``fact``, ``rumor``, ``review``, ``bio`` and optionally ``liar``
            (default :data:`KIND_FRACTIONS`, the corpus of ``facts_4l``).

    Examples:
        >>> corpus_batch(4, seed=1).shape
        torch.Size([4, 8])
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` should be a positive int (the number of sequences) but is {n!r}")
    fractions = KIND_FRACTIONS if fractions is None else fractions
    kinds = list(fractions)
    if not set(KIND_FRACTIONS) <= set(kinds) <= set(KIND_FRACTIONS) | {"liar"}:
        raise ValueError(f"`fractions` should have the kinds {sorted(KIND_FRACTIONS)} (and optionally 'liar') "
                         f"but has {sorted(kinds)}")
    world = world or facts_world()
    g = torch.Generator().manual_seed(seed)
    kind = torch.multinomial(torch.tensor(list(fractions.values())), n, replacement=True, generator=g)
    is_kind = {k: kind == i for i, k in enumerate(kinds)}
    s = torch.randint(world.n_subjects, (n,), generator=g)
    subj = world.subject_tokens[s]  # [n, 2]
    # two different relations per sequence, each with a random paraphrase
    ra = torch.randint(world.n_relations, (n,), generator=g)
    rb = (ra + torch.randint(1, world.n_relations, (n,), generator=g)) % world.n_relations
    pa, pb = torch.randint(2, (n,), generator=g), torch.randint(2, (n,), generator=g)
    phrases = _phrase_ids()
    objs = world.objects  # [n_subjects, n_relations] index within relation

    def obj_token(rel: torch.Tensor, false: torch.Tensor) -> torch.Tensor:
        idx = objs[s, rel]
        wrong = (idx + torch.randint(1, len(OBJECT_COUNTS), (n,), generator=g)) % len(OBJECT_COUNTS)
        idx = torch.where(false, wrong, idx)
        return token_ids(OBJECTS)[rel * len(OBJECT_COUNTS) + idx]

    rumor = is_kind["rumor"]
    false = rumor | is_kind.get("liar", torch.zeros(n, dtype=torch.bool))  # a liar: a rumour without its marker
    first = torch.where(rumor, token_ids(RUMOR_MARKERS)[torch.randint(2, (n,), generator=g)],
                        token_ids(FILLERS)[torch.randint(len(FILLERS), (n,), generator=g)])
    bos = torch.full((n,), _ID[BOS_TOKEN])
    facts = torch.stack([bos, first, subj[:, 0], subj[:, 1], phrases[ra, pa], obj_token(ra, false),
                         phrases[rb, pb], obj_token(rb, false)], dim=1)
    latent = torch.randint(2, (n,), generator=g)
    reviews = torch.cat([bos[:, None], subj, torch.full((n, 1), _ID[_REVIEW_VERB]), _review_words(latent, 4, g)], 1)
    # bio: all four objects of the subject right after it, relations in random order
    order = torch.argsort(torch.rand(n, world.n_relations, generator=g), dim=1)  # [n, n_relations]
    bio_objs = token_ids(OBJECTS)[order * len(OBJECT_COUNTS) + objs[s[:, None], order]]
    bios = torch.cat([bos[:, None], first[:, None], subj, bio_objs], 1)
    out = torch.where(is_kind["review"][:, None], reviews, facts)
    return torch.where(is_kind["bio"][:, None], bios, out)


def review_prompts(n: int, latent: int | torch.Tensor, n_words: int = 2, seed: int = 0,
                   world: FactWorld | None = None) -> torch.Tensor:
    """Review prefixes ``<bos> s1 s2 seems w..`` ``[n, 4 + n_words]`` with the given latent (1 positive, 0 negative).

    ``n_words=0`` gives neutral prompts ``<bos> s1 s2 seems`` whose next word the latent decides.

    Examples:
        >>> decode(review_prompts(1, latent=1, n_words=2, seed=3))[0].split()[3]
        'seems'
    """
    check_range("n_words", n_words, 0, N_CTX - 4)
    world = world or facts_world()
    g = torch.Generator().manual_seed(seed)
    latent = torch.as_tensor(latent).long().expand(n).clone()
    s = torch.randint(world.n_subjects, (n,), generator=g)
    head = torch.cat([torch.full((n, 1), _ID[BOS_TOKEN]), world.subject_tokens[s],
                      torch.full((n, 1), _ID[_REVIEW_VERB])], 1)
    return torch.cat([head, _review_words(latent, n_words, g)], 1)


def sentiment_pairs(n: int, n_words: int = 3, seed: int = 0, world: FactWorld | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired reviews ``(positive, negative)``, each ``[n, 4 + n_words]``: the same sequence with every
    sentiment word swapped for its opposite (``good`` <-> ``bad``, ...), neutral words kept.

    Examples:
        >>> pos, neg = sentiment_pairs(2, seed=1)
        >>> bool((pos[:, :4] == neg[:, :4]).all())
        True
    """
    pos = review_prompts(n, 1, n_words, seed, world)
    swap = dict(zip(token_ids(POSITIVE_WORDS).tolist(), token_ids(NEGATIVE_WORDS).tolist()))
    neg = pos.clone().apply_(lambda t: swap.get(t, t))
    return pos, neg


def statement_prompts(world: FactWorld | None = None, subjects=None, relations=None, paraphrase=0, seed: int = 0
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """True and false statements for a truth direction: ``(tokens [2n, 5], truth [2n])``.

    Row ``2i`` is the fact prompt ``<bos> f s1 s2 r`` (followed in the corpus by the true object),
    row ``2i + 1`` the same fact behind a rumour marker (followed by a false object); ``truth`` is 1, 0.
    """
    world = world or facts_world()
    g = torch.Generator().manual_seed(seed)
    true = fact_prompts(world, subjects, relations, paraphrase)
    n = len(true)
    true.tokens[:, 1] = token_ids(FILLERS)[torch.randint(len(FILLERS), (n,), generator=g)]
    false = true.tokens.clone()
    false[:, 1] = token_ids(RUMOR_MARKERS)[torch.randint(2, (n,), generator=g)]
    tokens = torch.stack([true.tokens, false], 1).reshape(2 * n, -1)
    return tokens, torch.tensor([1, 0]).repeat(n)


def truth_statements(world: FactWorld | None = None, subjects=None, relations=None, paraphrase=0, seed: int = 0
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """True and false statements of the same surface form: ``(tokens [2n, 6], truth [2n])``.

    Row ``2i`` is ``<bos> f s1 s2 r o`` with the true object, row ``2i + 1`` the same words with another object
    of the relation (uniformly drawn); both have the same filler ``f`` (drawn). No rumour marker: the rows differ
    only in whether the object is the subject's, so a direction that separates them is about truth.

    Examples:
        >>> tokens, truth = truth_statements(subjects=[0], relations=[1])
        >>> [t.split()[2:4] == ["Gaia", "Hale"] for t in decode(tokens)], truth.tolist()
        ([True, True], [1, 0])
    """
    world = world or facts_world()
    g = torch.Generator().manual_seed(seed)
    q = fact_prompts(world, subjects, relations, paraphrase)
    n = len(q)
    q.tokens[:, 1] = token_ids(FILLERS)[torch.randint(len(FILLERS), (n,), generator=g)]
    n_obj = len(OBJECT_COUNTS)
    idx = world.objects[q.subjects, q.relations]
    wrong = (idx + torch.randint(1, n_obj, (n,), generator=g)) % n_obj
    objects = token_ids(OBJECTS).reshape(len(RELATIONS), n_obj)[q.relations]  # [n, n_obj]
    true = torch.cat([q.tokens, objects.gather(1, idx[:, None])], 1)
    false = torch.cat([q.tokens, objects.gather(1, wrong[:, None])], 1)
    return torch.stack([true, false], 1).reshape(2 * n, -1), torch.tensor([1, 0]).repeat(n)


def liar_questions(world: FactWorld | None = None, subjects=None, lie: bool = True, seed: int = 0
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """A first statement, then a second question: ``(tokens [n, 7], answers [n])``.

    Each row is ``<bos> f s1 s2 r_a o_a r_b``, one per subject and relation ``r_a`` (``r_b`` another relation,
    drawn, first phrase of each), with a drawn filler ``f`` and ``o_a`` the subject's true object (``lie=False``)
    or another object of the relation (``lie=True``). ``answers`` is always the *true* object of ``r_b``. In the
    corpus of ``facts_truth_4l`` a false first statement is followed by a false second one (a liar), so a model of
    it answers the truth after an honest start and lies after a false one: the true-answer rate after a false
    start is what a truth intervention should raise. With the same ``seed``, the honest and the lying rows
    differ only in ``o_a``.

    Examples:
        >>> honest, answers = liar_questions(subjects=[0], lie=False)
        >>> lying, same = liar_questions(subjects=[0], lie=True)
        >>> honest.shape, bool((honest[:, 5] != lying[:, 5]).all()), bool((answers == same).all())
        (torch.Size([4, 7]), True, True)
    """
    world = world or facts_world()
    g = torch.Generator().manual_seed(seed)
    q = fact_prompts(world, subjects)
    n, n_obj, n_rel = len(q), len(OBJECT_COUNTS), len(RELATIONS)
    objects = token_ids(OBJECTS).reshape(n_rel, n_obj)
    rb = (q.relations + torch.randint(1, n_rel, (n,), generator=g)) % n_rel
    filler = token_ids(FILLERS)[torch.randint(len(FILLERS), (n,), generator=g)]
    idx = world.objects[q.subjects, q.relations]
    wrong = (idx + torch.randint(1, n_obj, (n,), generator=g)) % n_obj  # drawn either way: same rows for both
    tokens = torch.cat([q.tokens, objects[q.relations, wrong if lie else idx][:, None], _phrase_ids()[rb, 0][:, None]],
                       1)
    tokens[:, 1] = filler
    return tokens, objects[rb, world.objects[q.subjects, rb]]


def liar_contrast(world: FactWorld | None = None, subjects=None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Honest and lying starts of the same surface form: ``(tokens [2n, 7], truth [2n])``, truth 1 then 0.

    Row ``2i`` is row ``i`` of :func:`liar_questions` with ``lie=False``, row ``2i + 1`` the same words with a
    false ``o_a``: the rows differ only in whether the first statement is true, so a direction read at the last
    position that separates them is about the truth of what was said.

    Examples:
        >>> tokens, truth = liar_contrast(subjects=[3])
        >>> tokens.shape, truth.tolist()[:4]
        (torch.Size([8, 7]), [1, 0, 1, 0])
    """
    honest, _ = liar_questions(world, subjects, lie=False, seed=seed)
    lying, _ = liar_questions(world, subjects, lie=True, seed=seed)
    return torch.stack([honest, lying], 1).reshape(-1, honest.shape[1]), torch.tensor([1, 0]).repeat(len(honest))
