"""An indirect-object-identification (IOI) task small enough to train on a CPU.

Every prompt is one of :data:`TEMPLATES` (14 words, three name slots) with
single-token names (:data:`NAMES`) filled in: one name, the indirect object (IO), appears
once and the subject (S) twice, and the answer at the last position (END) is
the IO::

    <bos> When Mary and John went to the store , John gave a drink to  -> Mary

The *order* says which of the three slots holds the IO (``"ABB"``: the first,
``"BAB"``: the second, the classic IOI order, ``"BBA"``: the last);
``order="mixed"`` draws it at random, which is what the zoo models train on
(a fixed order lets a model use a positional shortcut). ``S1`` and ``S2`` are
the first and second occurrence of the subject.

Which names and templates a draw uses is its *split* (:data:`SPLITS`):

* ``"classic"`` (the default): the first 20 names and 12 templates, every pair
  of names; the task the ``ioi_1l2h``, ``ioi_2l1h`` and ``ioi_2l2h`` zoo
  models trained on (each of its prompts can occur in their training);
* ``"train"``: the 32 :data:`TRAIN_NAMES` and the :data:`TRAIN_TEMPLATES`,
  without the held-out pairs of names (:func:`is_held_out_pair`);
* ``"test"``: the held-out :data:`TEST_TEMPLATES` filled with held-out pairs
  of train names: a prompt, a pair and a template that ``"train"`` never draws;
* ``"new_names"``: the test templates with one or both names from the 8
  :data:`NEW_NAMES`, tokens that ``"train"`` never contains.

Corrupted partners keep every position, so activations can be patched
position by position (:meth:`IOIBatch.corrupt`):

* ``"flip"``: the second S becomes the IO, so the name that appears once is
  now S: the answer flips and the logit difference ``IO - S`` turns negative;
* ``"abc"``: the second S becomes a third name, so every name appears once
  (the reference distribution of mean ablation, as in Wang et al.).

Examples:
    >>> batch = ioi_batch(2, seed=0, template=0, order="BAB")
    >>> batch.tokens.shape
    torch.Size([2, 15])
    >>> batch.text()[0]
    'When Anna and Tom went to the store, Anna gave a drink to'
    >>> batch.corrupt("flip").text()[0]
    'When Anna and Tom went to the store, Tom gave a drink to'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from ..validation import check_choice

__all__ = [
    "NAMES",
    "TEMPLATES",
    "SPLITS",
    "TRAIN_NAMES",
    "NEW_NAMES",
    "TRAIN_TEMPLATES",
    "TEST_TEMPLATES",
    "CLASSIC_D_VOCAB",
    "is_held_out_pair",
    "ORDERS",
    "VOCAB",
    "BOS_TOKEN",
    "D_VOCAB",
    "N_CTX",
    "ROLES",
    "IOIBatch",
    "ioi_batch",
    "tokenize",
    "decode",
    "name_token_ids",
    "template_word_ids",
]

_CLASSIC_NAMES = (
    "Mary", "John", "Alice", "Bob", "Tom", "Anna", "Kate", "Paul", "Sarah", "James",
    "Emma", "David", "Lucy", "Mark", "Laura", "Peter", "Rose", "Sam", "Clara", "Max",
)
#: Names that split ``"train"`` never draws (the ``"new_names"`` split uses them).
NEW_NAMES: tuple[str, ...] = ("Ruth", "Carl", "Eva", "Owen", "Ida", "Hugo", "Vera", "Finn")
#: Names of the ``"train"`` (and ``"test"``) split: the classic 20 and 12 more.
TRAIN_NAMES: tuple[str, ...] = (*_CLASSIC_NAMES, "Nina", "Leo", "Ella", "Ben", "Mia", "Jack", "Zoe", "Adam",
                                "Lily", "Noah", "Jane", "Ivan")
#: Single-token names (each is one token of :data:`VOCAB`).
NAMES: tuple[str, ...] = (*TRAIN_NAMES, *NEW_NAMES)

#: Fourteen words each; ``{0} {1} {2}`` are the name slots, the last word is END.
TEMPLATES: tuple[str, ...] = (
    "When {0} and {1} went to the store , {2} gave a drink to",
    "Then , {0} and {1} had a long argument , and {2} said to",
    "After {0} and {1} went to the park , {2} gave a ball to",
    "While {0} and {1} were at the cafe , {2} passed a cup to",
    "When {0} and {1} got a snack at school , {2} handed it to",
    "Friends {0} and {1} found a book , and then {2} gave it to",
    "{0} and {1} went to the beach . Then {2} threw a ball to",
    "At the party , {0} and {1} danced and {2} sent a note to",
    "The kids {0} and {1} sat down , and {2} read a story to",
    "Yesterday {0} met {1} at the station , and {2} sold a ticket to",
    "In the morning {0} and {1} cooked , and {2} gave a plate to",
    "Later , {0} and {1} played a game . {2} showed the cards to",
    "When {0} met {1} , {2} gave a long note and a book to",
    "At school {0} and {1} had a game , and {2} gave it to",
    "{0} and {1} went to the park and the beach . {2} said to",
    "The friends {0} and {1} were at the store . {2} handed it to",
    "Yesterday at the station {0} and {1} met , {2} sold a ticket to",
    "{0} and {1} cooked . {2} then gave a plate and a cup to",
    "At the party , {0} played with {1} and {2} gave a drink to",
    "{0} found {1} in the park , and then {2} threw a ball to",
)
_N_CLASSIC_TEMPLATES = 12
#: Indices of the templates split ``"train"`` never draws (two classic ones, three new; one new slot layout).
TEST_TEMPLATES: tuple[int, ...] = (2, 8, 13, 16, 18)
#: Indices of the templates of split ``"train"``.
TRAIN_TEMPLATES: tuple[int, ...] = tuple(t for t in range(len(TEMPLATES)) if t not in TEST_TEMPLATES)
#: The draws :func:`ioi_batch` knows (see the module's docstring).
SPLITS: tuple[str, ...] = ("classic", "train", "test", "new_names")

#: Where the IO sits among the three name slots (A = IO, B = S).
ORDERS: tuple[str, ...] = ("ABB", "BAB", "BBA")
#: The named positions of every prompt.
ROLES: tuple[str, ...] = ("S1", "IO", "S2", "END")

BOS_TOKEN = "<bos>"

def _words(templates) -> list[str]:
    return sorted({w for t in templates for w in t.split() if not w.startswith("{")})


_CLASSIC_WORDS = _words(TEMPLATES[:_N_CLASSIC_TEMPLATES])
_NEW_WORDS = [w for w in _words(TEMPLATES) if w not in _CLASSIC_WORDS]
#: Token strings; the id of a token is its index. The classic task's tokens come first
#: (ids below :data:`CLASSIC_D_VOCAB`), so the classic models read them unchanged.
VOCAB: tuple[str, ...] = (BOS_TOKEN, *_CLASSIC_NAMES, *_CLASSIC_WORDS, *NAMES[len(_CLASSIC_NAMES):], *_NEW_WORDS)
_ID = {w: i for i, w in enumerate(VOCAB)}
D_VOCAB = len(VOCAB)
#: Vocabulary size of the classic split's tokens (what ``ioi_1l2h``, ``ioi_2l1h``, ``ioi_2l2h`` read).
CLASSIC_D_VOCAB = 1 + len(_CLASSIC_NAMES) + len(_CLASSIC_WORDS)
#: Length of every prompt: BOS + 14 words.
N_CTX = 15

_SLOTS = [[i + 1 for i, w in enumerate(t.split()) if w.startswith("{")] for t in TEMPLATES]  # +1 for BOS
assert all(len(t.split()) == N_CTX - 1 for t in TEMPLATES)


def tokenize(text: str | list[str]) -> torch.Tensor:
    """Token ids of one sentence ``[pos]`` or of several of equal length ``[batch, pos]``.

    Words are separated by spaces; punctuation is its own token, a leading
    ``<bos>`` is added when missing.

    Examples:
        >>> decode(tokenize("When Mary and John went"))
        '<bos> When Mary and John went'
    """
    if isinstance(text, list):
        return torch.stack([tokenize(t) for t in text])
    words = text.replace(",", " ,").replace(".", " .").split()
    if not words or words[0] != BOS_TOKEN:
        words = [BOS_TOKEN, *words]
    unknown = [w for w in words if w not in _ID]
    if unknown:
        raise KeyError(f"tokenize: the words {unknown} are not in the IOI vocabulary (names: {', '.join(NAMES)})")
    return torch.tensor([_ID[w] for w in words])


def decode(tokens: torch.Tensor) -> str | list[str]:
    """Text of token ids: ``[pos]`` gives a string, ``[batch, pos]`` a list of strings.

    Examples:
        >>> decode(torch.tensor([1, 2]))
        'Mary John'
    """
    if tokens.dim() == 2:
        return [decode(t) for t in tokens]
    return " ".join(VOCAB[int(i)] for i in tokens).replace(" ,", ",").replace(" .", ".")


def template_word_ids(split: str = "train") -> torch.Tensor:
    """Token ids of the words (not the name slots) of the templates ``split`` draws, sorted ``[n_words]``.

    Examples:
        >>> bool(torch.isin(template_word_ids("train"), name_token_ids()).any())
        False
    """
    check_choice("split", split, SPLITS)
    temps = {"classic": range(_N_CLASSIC_TEMPLATES), "train": TRAIN_TEMPLATES}.get(split, TEST_TEMPLATES)
    return torch.tensor([_ID[w] for w in _words([TEMPLATES[t] for t in temps])])


def name_token_ids(names: tuple[str, ...] | None = None) -> torch.Tensor:
    """Token ids of ``names`` (default all :data:`NAMES`) ``[n_names]``."""
    return torch.tensor([_ID[n] for n in (NAMES if names is None else names)])


def is_held_out_pair(a: torch.Tensor | int, b: torch.Tensor | int) -> torch.Tensor:
    """Whether the names of token ids ``a`` and ``b`` form a held-out pair (about one pair in five).

    Split ``"train"`` never puts a held-out pair in one prompt, split ``"test"`` only
    held-out pairs. The rule is symmetric: the roles IO and S do not matter.

    Examples:
        >>> john, mary = tokenize("John Mary")[1:].tolist()
        >>> bool(is_held_out_pair(john, mary)), bool(is_held_out_pair(mary, john))
        (False, False)
    """
    return (torch.as_tensor(a) + torch.as_tensor(b)) % 5 == 0


@dataclass
class IOIBatch:
    """A batch of IOI prompts and what they mean.

    Attributes:
        tokens: ``[batch, pos]`` token ids (``pos = N_CTX``).
        io: ``[batch]`` token id of the indirect object (the answer of clean prompts).
        s: ``[batch]`` token id of the subject.
        pos: Role -> ``[batch]`` position of ``S1``, ``IO``, ``S2`` and ``END``.
        templates: ``[batch]`` template index of each prompt.
        kind: ``"clean"``, ``"flip"`` or ``"abc"``.
        third: ``[batch]`` the third name of an ``"abc"`` partner.
        split: The split drawn from (:data:`SPLITS`): ABC's third names and
            :meth:`resample`'s fresh names come from its names.
    """

    tokens: torch.Tensor
    io: torch.Tensor
    s: torch.Tensor
    pos: dict[str, torch.Tensor]
    templates: torch.Tensor
    kind: str = "clean"
    third: torch.Tensor | None = field(default=None, repr=False)
    split: str = "classic"

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def text(self) -> list[str]:
        """The prompts as sentences (without ``<bos>``)."""
        return [t.removeprefix(BOS_TOKEN + " ") for t in decode(self.tokens)]

    def answers(self) -> torch.Tensor:
        """``[batch]`` token id of the correct answer: IO for clean prompts, S for flipped ones."""
        if self.kind == "abc":
            raise ValueError("ABC prompts have no answer: every name appears once")
        return self.s if self.kind == "flip" else self.io

    def corrupt(self, kind: str = "flip", seed: int = 0) -> "IOIBatch":
        """A partner batch with every position kept and the second S replaced.

        Args:
            kind: ``"flip"`` (S2 becomes the IO: the answer flips) or ``"abc"``
                (S2 becomes a third name drawn with ``seed``).

        Returns:
            An :class:`IOIBatch` with the same ``io``, ``s`` and ``pos``; the
            logit difference of the partner is still measured as ``IO - S``.
        """
        check_choice("kind", kind, ["flip", "abc"])
        if self.kind != "clean":
            raise ValueError(f"corrupt() needs a clean batch, this one is {self.kind!r}")
        rows = torch.arange(len(self))
        tokens = self.tokens.clone()
        if kind == "flip":
            tokens[rows, self.pos["S2"]] = self.io
            return replace(self, tokens=tokens, kind="flip")
        third = self.third
        if third is None:
            third = _third_names(self.io, self.s, seed, _split_names(self.split))
        tokens[rows, self.pos["S2"]] = third
        return replace(self, tokens=tokens, kind="abc", third=third)

    def resample(self, seed: int = 1, keep_order: bool = False) -> "IOIBatch":
        """Partners with the same template per prompt and fresh names (and orders unless ``keep_order``).

        Every name slot stays a name slot and every filler a filler, so one
        position's activation can be swapped for the partner's (causal scrubbing).
        """
        if self.kind != "clean":
            raise ValueError(f"resample() needs a clean batch, this one is {self.kind!r}")
        g = torch.Generator().manual_seed(seed)
        rows = []
        for i, t in enumerate(self.templates.tolist()):
            order = ORDERS[int(torch.randint(3, (1,), generator=g))] if not keep_order else \
                ORDERS[[k for k, r in enumerate(ORDERS) if _SLOTS[t][k] == int(self.pos["IO"][i])][0]]
            rows.append(ioi_batch(1, seed=int(torch.randint(2**31, (1,), generator=g)), template=t, order=order,
                                  split=self.split))
        return IOIBatch(tokens=torch.cat([r.tokens for r in rows]), io=torch.cat([r.io for r in rows]),
                        s=torch.cat([r.s for r in rows]), pos={k: torch.cat([r.pos[k] for r in rows]) for k in ROLES},
                        templates=self.templates.clone(), split=self.split)

    def to(self, device: torch.device | str) -> "IOIBatch":
        """The batch with its tensors on ``device``."""
        return replace(self, tokens=self.tokens.to(device), io=self.io.to(device), s=self.s.to(device),
                       pos={k: v.to(device) for k, v in self.pos.items()}, templates=self.templates.to(device),
                       third=None if self.third is None else self.third.to(device))


def _split_names(split: str) -> tuple[str, ...]:
    return {"classic": _CLASSIC_NAMES, "new_names": NAMES}.get(split, TRAIN_NAMES)


def _third_names(io: torch.Tensor, s: torch.Tensor, seed: int, pool: tuple[str, ...]) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed + 7919)
    names = name_token_ids(pool)
    out = io.clone()
    for i in range(len(io)):
        while int(out[i]) in (int(io[i]), int(s[i])):
            out[i] = names[torch.randint(len(names), (1,), generator=g)]
    return out


def ioi_batch(n: int, seed: int = 0, template: int | None = None, order: str = "mixed",
              names: tuple[str, ...] | None = None, split: str = "classic") -> IOIBatch:
    """Draw ``n`` clean IOI prompts.

    Args:
        n: Number of prompts.
        seed: Seed of the draw (the same seed gives the same prompts).
        template: Use only this template (positions are then the same in every
            prompt of one order), or ``None`` for a random template of the split per prompt.
        order: One of :data:`ORDERS`, or ``"mixed"`` for a random order per prompt.
        names: Restrict the names drawn (default the split's names).
        split: Which names, pairs and templates (:data:`SPLITS`, see the module's docstring).

    Returns:
        An :class:`IOIBatch` of ``n`` prompts of length :data:`N_CTX`.

    Examples:
        >>> b = ioi_batch(3, seed=1, template=2, order="ABB")
        >>> b.pos["IO"].tolist(), b.pos["S2"].tolist(), b.pos["END"].tolist()
        ([2, 2, 2], [10, 10, 10], [14, 14, 14])
        >>> t = ioi_batch(100, seed=0, split="test")
        >>> set(t.templates.tolist()) <= set(TEST_TEMPLATES), bool(is_held_out_pair(t.io, t.s).all())
        (True, True)
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"ioi_batch: `n` must be a positive int, not {n!r}")
    check_choice("order", order, [*ORDERS, "mixed"])
    check_choice("split", split, SPLITS)
    if template is not None and not (isinstance(template, int) and 0 <= template < len(TEMPLATES)):
        raise ValueError(f"ioi_batch: `template` must be None or an int in [0, {len(TEMPLATES)}), not {template!r}")
    pool = torch.tensor([_ID[x] for x in (names or _split_names(split))])
    if len(pool) < 3:
        raise ValueError(f"ioi_batch: `names` needs at least 3 names, got {len(pool)}")
    g = torch.Generator().manual_seed(seed)
    temp_pool = torch.tensor({"classic": range(_N_CLASSIC_TEMPLATES), "train": TRAIN_TEMPLATES}.get(split, TEST_TEMPLATES))
    temps = (torch.full((n,), template) if template is not None
             else temp_pool[torch.randint(len(temp_pool), (n,), generator=g)])
    orders = (torch.full((n,), ORDERS.index(order)) if order != "mixed"
              else torch.randint(3, (n,), generator=g))
    if split == "classic":
        picks = torch.stack([torch.randperm(len(pool), generator=g)[:2] for _ in range(n)])  # [n, 2]
        io, s = pool[picks[:, 0]], pool[picks[:, 1]]
    else:
        io, s = _draw_pairs(n, pool, split, g)
    template_ids = torch.stack([_template_tokens(int(t)) for t in temps])  # [n, pos]
    slots = torch.tensor(_SLOTS)[temps]  # [n, 3]
    rows = torch.arange(n)
    io_slot = orders  # "ABB" -> 0, "BAB" -> 1, "BBA" -> 2
    s_slots = torch.tensor([[1, 2], [0, 2], [0, 1]])[orders]  # [n, 2]
    tokens = template_ids.clone()
    pos = {
        "IO": slots[rows, io_slot],
        "S1": slots[rows, s_slots[:, 0]],
        "S2": slots[rows, s_slots[:, 1]],
        "END": torch.full((n,), N_CTX - 1),
    }
    tokens[rows, pos["IO"]] = io
    tokens[rows, pos["S1"]] = s
    tokens[rows, pos["S2"]] = s
    return IOIBatch(tokens=tokens, io=io, s=s, pos={k: pos[k] for k in ROLES}, templates=temps, split=split)


def _draw_pairs(n: int, pool: torch.Tensor, split: str, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` ordered (IO, S) pairs of distinct names of ``pool`` allowed in ``split``."""
    a, b = pool[:, None].expand(-1, len(pool)), pool[None, :].expand(len(pool), -1)
    ok = a != b
    if split == "train":
        ok &= ~is_held_out_pair(a, b)
    elif split == "test":
        ok &= is_held_out_pair(a, b)
    else:  # new_names: at least one of the two names is new
        new = torch.isin(pool, name_token_ids(NEW_NAMES))
        ok &= new[:, None] | new[None, :]
    a, b = a[ok], b[ok]
    if len(a) == 0:
        raise ValueError(f"ioi_batch: no pair of the names given is allowed in split {split!r}")
    k = torch.randint(len(a), (n,), generator=g)
    return a[k], b[k]


_TEMPLATE_CACHE: dict[int, torch.Tensor] = {}


def _template_tokens(t: int) -> torch.Tensor:
    if t not in _TEMPLATE_CACHE:
        words = [BOS_TOKEN] + [w if not w.startswith("{") else NAMES[0] for w in TEMPLATES[t].split()]
        _TEMPLATE_CACHE[t] = torch.tensor([_ID[w] for w in words])
    return _TEMPLATE_CACHE[t]
