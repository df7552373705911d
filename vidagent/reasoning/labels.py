"""Matching the noun phrases of a question against object labels.

"red ball" matches the labels "ball" and "red ball"; "people" matches "person"; "kids" matches
"child"; "vehicles" matches "car", "truck" and "bus". A colour word in both phrase and label
must agree ("red ball" does not match the label "blue ball").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vidagent.query.lexicon import singular as _singular
from vidagent.query.plan import COLORS


# words whose referents are the same kind of thing (query word -> acceptable label heads)
_SYNONYM_GROUPS = [
    {"person", "human", "pedestrian", "individual"},
    {"man", "guy", "gentleman"},
    {"woman", "lady"},
    {"kid", "child", "toddler", "youngster"},
    {"boy"},
    {"girl"},
    {"baby", "infant"},
    {"car", "automobile", "auto", "sedan"},
    {"bike", "bicycle", "cycle"},
    {"motorcycle", "motorbike", "scooter"},
    {"dog", "puppy", "pup", "doggy", "hound"},
    {"cat", "kitten", "kitty"},
    {"airplane", "plane", "aeroplane", "aircraft", "jet"},
    {"boat", "ship", "vessel"},
    {"tv", "television", "monitor"},
    {"phone", "cellphone", "smartphone", "mobile"},
    {"sofa", "couch"},
    {"cup", "mug"},
    {"horse", "pony"},
    {"bird"},
    {"ball"},
    {"truck", "lorry"},
]
# broader words that accept every label of a group of kinds
_HYPERNYMS = {
    "person": {"person", "man", "woman", "kid", "child", "boy", "girl", "baby", "player",
               "pedestrian", "human", "guy", "lady", "rider", "skier", "surfer", "skateboarder"},
    "vehicle": {"car", "truck", "bus", "van", "motorcycle", "bike", "train", "vehicle", "taxi",
                "jeep", "tractor", "boat", "airplane"},
    "animal": {"dog", "cat", "horse", "bird", "cow", "sheep", "elephant", "bear", "zebra",
               "giraffe", "animal", "deer", "goat", "pig", "rabbit", "mouse", "fish", "duck",
               "monkey", "lion", "tiger"},
    "kid": {"kid", "child", "boy", "girl", "toddler"},
}
# words that refer to any tracked object ("how many objects are there?")
GENERIC_WORDS = {"object", "thing", "item", "anything", "something", "everything", "entity",
                 "stuff"}
_DETERMINERS = {
    "a", "an", "the", "this", "that", "these", "those", "all", "every", "each", "any", "some",
    "both", "my", "its", "his", "her", "their", "one", "two", "three", "four", "five", "other",
    "another",
}
_PREPOSITIONS = {
    "on", "in", "at", "near", "next", "beside", "behind", "with", "of", "to", "from", "by",
    "under", "above", "below", "over", "that", "which", "who", "moving", "walking", "running",
    "left", "right",
}
_SIZE_WORDS = {"big": "large", "large": "large", "huge": "large", "giant": "large",
               "bigger": "large", "larger": "large", "small": "small", "little": "small",
               "tiny": "small", "smaller": "small"}
_COLOR_ALIASES = {"grey": "gray", "violet": "purple", "golden": "yellow", "crimson": "red",
                  "navy": "blue", "beige": "brown", "tan": "brown"}


def singular(word: str) -> str:
    """English singular of one lower-case word (the query parser's rules, one source of truth).

    For matching, "-sses" is always a plural ("glasses" matches the label "glass"), even where
    the parser keeps the word whole as an invariant noun (eyeglasses).
    """
    out = _singular(word)
    if out == word and word.endswith("sses"):
        return word[:-2]
    return out


@dataclass(frozen=True)
class Phrase:
    """A parsed noun phrase: head noun (singular), modifiers, colour/size words, plurality."""

    text: str
    head: str
    modifiers: tuple[str, ...]
    color: str | None
    size: str | None
    plural: bool


def parse_phrase(text: str) -> Phrase:
    """Split "the two red balls on the left" into head "ball", colour "red", plural True."""
    words = [w for w in re.split(r"[^a-z0-9']+", str(text).lower()) if w]
    while words and words[0] in _DETERMINERS:
        words.pop(0)
    cut = next((i for i, w in enumerate(words) if i > 0 and w in _PREPOSITIONS), len(words))
    words = words[:cut]
    if not words:
        return Phrase(text, "", (), None, None, False)
    head_raw = words[-1]
    head = singular(head_raw)
    plural = head != head_raw
    mods = tuple(w for w in words[:-1] if w not in _DETERMINERS)
    color = None
    size = None
    for w in mods:
        w = _COLOR_ALIASES.get(w, w)
        if w in COLORS and color is None:
            color = w
        if w in _SIZE_WORDS and size is None:
            size = _SIZE_WORDS[w]
    return Phrase(" ".join(words), head, mods, color, size, plural)


def _kind(head: str) -> str:
    for group in _SYNONYM_GROUPS:
        if head in group:
            return sorted(group)[0]
    return head


def label_matches(phrase: str, label: str) -> bool:
    """True when the noun phrase ``phrase`` can refer to an object labelled ``label``."""
    q, lab = parse_phrase(phrase), parse_phrase(label)
    if not q.head or not lab.head:
        return False
    if q.color and lab.color and q.color != lab.color:
        return False
    if q.head in GENERIC_WORDS:
        return True
    if q.head == lab.head or _kind(q.head) == _kind(lab.head):
        return True
    hyper = _HYPERNYMS.get(q.head) or _HYPERNYMS.get(_kind(q.head))
    return bool(hyper) and (lab.head in hyper or _kind(lab.head) in {_kind(h) for h in hyper})


def display_name(label: str, n: int) -> str:
    """The label in singular or plural form for ``n`` objects ("1 dog", "2 dogs", "people")."""
    p = parse_phrase(label)
    words = list(p.modifiers) + [p.head] if p.head else [label]
    if n == 1 or not p.head:
        return " ".join(words)
    head = p.head
    plural = {"person": "people", "man": "men", "woman": "women", "child": "children",
              "mouse": "mice", "sheep": "sheep", "fish": "fish", "deer": "deer"}.get(head)
    if plural is None:
        if head.endswith(("s", "x", "z", "ch", "sh")):
            plural = head + "es"
        elif head.endswith("y") and head[-2:-1] not in "aeiou":
            plural = head[:-1] + "ies"
        else:
            plural = head + "s"
    return " ".join(words[:-1] + [plural])
