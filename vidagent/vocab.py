"""The shared vocabulary: noun number, kinds of things, and matching a phrase to an object label.

Every layer that compares words uses this module (the query parser, the tracker's label filter,
the scene memory and reasoning); it imports nothing from the rest of the package.

* ``singular`` / ``plural``: English noun number from the ``inflect`` library, checked against
  the ``lemminflect`` lexicon so that singular words ending in "s" stay whole ("bus", "lens",
  "octopus"); nouns used only in the plural ("pants", "jeans", "scissors") are invariant.
* ``label_matches(phrase, label)``: whether a noun phrase of a question can name an object with
  that label: same head noun up to number ("people" / "person"), synonyms ("puppy" / "dog"),
  broader words ("vehicle" accepts "car"; "person" accepts "man", "child"), generic words
  ("object"); colour words in both must agree.
* ``phrase_matches(label, phrases)``: the same test in both directions plus word containment
  ("sports ball" / "ball"), for filtering detections by a prompt.
* ``COLORS``: the eleven colour names of CONTRACT.md, and ``COLOR_WORDS`` mapping colour words
  of questions onto them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import inflect
from lemminflect import getAllLemmas

COLORS = (
    "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "gray",
)
# colour words of questions -> the CONTRACT colour they name
COLOR_WORDS = {
    **{c: c for c in COLORS},
    "violet": "purple", "grey": "gray", "silver": "gray", "golden": "yellow", "gold": "yellow",
    "navy": "blue", "beige": "brown", "tan": "brown", "maroon": "red", "crimson": "red",
    "scarlet": "red", "turquoise": "blue", "cyan": "blue", "magenta": "pink", "lime": "green",
}
SIZE_WORDS = {
    "big": "large", "large": "large", "huge": "large", "giant": "large", "tall": "large",
    "enormous": "large", "small": "small", "little": "small", "tiny": "small", "short": "small",
    "mini": "small",
}

# nouns that are used in the plural only, or whose plural is the detector's usual name: kept as
# written (inflect would give "pant", "jean", "short")
PLURAL_ONLY = frozenset("""
pants jeans trousers shorts scissors glasses sunglasses eyeglasses goggles binoculars tongs
pliers clothes headphones earphones earbuds cattle police news species series physics
mathematics tweezers leggings overalls pajamas pyjamas
""".split())
# where the lexicon keeps a collective noun whole but a detector names the member
_MEMBER = {"people": "person", "persons": "person"}

_ENGINE = inflect.engine()


@lru_cache(maxsize=8192)
def _singular_word(word: str) -> str:
    if len(word) < 3 or word in PLURAL_ONLY or not word.isalpha():
        return word
    if word in _MEMBER:
        return _MEMBER[word]
    cand = _ENGINE.singular_noun(word)
    if not cand or cand == word:
        return word
    lemmas = getAllLemmas(word)
    nouns = lemmas.get("NOUN")
    if nouns is not None:
        if cand in nouns:
            return cand
        others = [n for n in nouns if n != word]
        return others[0] if others else word  # "bus", "lens", "octopus": already singular
    if lemmas:
        return word  # a known word that is no noun ("is", "was", "his")
    # unknown to the lexicon (names, misspellings): only a plain "-s"/"-es"/"-ies" plural
    if word.endswith(("ss", "us", "is", "as")):
        return word
    return cand


def singular(text: str) -> str:
    """Singular of a noun or noun phrase (only the last word changes).

    "dogs" -> "dog", "people" -> "person", "children" -> "child", "boxes" -> "box",
    "red cars" -> "red car"; "bus", "glass", "sheep", "pants" come back unchanged.
    """
    text = " ".join(str(text).strip().lower().split())
    head, _, last = text.rpartition(" ")
    one = _singular_word(last)
    return f"{head} {one}" if head else one


@lru_cache(maxsize=4096)
def _plural_word(word: str) -> str:
    if word in PLURAL_ONLY or not word.isalpha():
        return word
    if word == "person":
        return "people"
    return _ENGINE.plural_noun(word) or word


def plural(text: str) -> str:
    """Plural of a singular noun or noun phrase ("dog" -> "dogs", "person" -> "people")."""
    text = " ".join(str(text).strip().lower().split())
    head, _, last = text.rpartition(" ")
    many = _plural_word(last)
    return f"{head} {many}" if head else many


def is_plural(word: str) -> bool:
    """True when ``word`` is the plural form of a noun ("dogs", "people", "children")."""
    w = str(word).lower()
    return _singular_word(w) != w or w in ("people", "police", "cattle")


def parts_of_speech(word: str) -> frozenset[str]:
    """The universal parts of speech the lexicon knows for ``word`` ({"NOUN", "VERB"}, ...);
    empty for a word it does not know."""
    return frozenset(getAllLemmas(str(word).lower()))


# ----------------------------------------------------------------------------- kinds of things
# words whose referents are the same kind of thing
SYNONYM_GROUPS = (
    frozenset({"person", "human", "pedestrian", "individual"}),
    frozenset({"man", "guy", "gentleman"}),
    frozenset({"woman", "lady"}),
    frozenset({"kid", "child", "toddler", "youngster"}),
    frozenset({"baby", "infant"}),
    frozenset({"car", "automobile", "auto", "sedan"}),
    frozenset({"bike", "bicycle", "cycle"}),
    frozenset({"motorcycle", "motorbike", "scooter"}),
    frozenset({"dog", "puppy", "pup", "doggy", "hound"}),
    frozenset({"cat", "kitten", "kitty"}),
    frozenset({"airplane", "plane", "aeroplane", "aircraft", "jet"}),
    frozenset({"boat", "ship", "vessel"}),
    frozenset({"tv", "television", "monitor"}),
    frozenset({"phone", "cellphone", "smartphone", "mobile"}),
    frozenset({"sofa", "couch"}),
    frozenset({"cup", "mug"}),
    frozenset({"horse", "pony"}),
    frozenset({"truck", "lorry"}),
)
# broader words -> the kinds they accept
HYPERNYMS = {
    "person": frozenset({"person", "man", "woman", "kid", "child", "boy", "girl", "baby",
                         "player", "pedestrian", "human", "guy", "lady", "rider", "skier",
                         "surfer", "skateboarder", "dancer", "runner", "cyclist", "driver",
                         "worker", "athlete", "swimmer", "biker"}),
    "vehicle": frozenset({"car", "truck", "bus", "van", "motorcycle", "bike", "train", "vehicle",
                          "taxi", "jeep", "tractor", "boat", "airplane", "suv", "tram"}),
    "animal": frozenset({"dog", "cat", "horse", "bird", "cow", "sheep", "elephant", "bear",
                         "zebra", "giraffe", "animal", "deer", "goat", "pig", "rabbit", "mouse",
                         "fish", "duck", "monkey", "lion", "tiger", "fox", "wolf", "squirrel",
                         "camel", "panda", "lizard", "snake", "turtle", "parrot"}),
    "kid": frozenset({"kid", "child", "boy", "girl", "toddler"}),
}
# words that refer to any tracked object ("how many objects are there?")
GENERIC_WORDS = frozenset({"object", "thing", "item", "anything", "something", "everything",
                           "entity", "stuff"})
_DETERMINERS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "all", "every", "each", "any", "some",
    "both", "my", "its", "his", "her", "their", "one", "two", "three", "four", "five", "other",
    "another",
})
_PHRASE_END = frozenset({
    "on", "in", "at", "near", "next", "beside", "behind", "with", "of", "to", "from", "by",
    "under", "above", "below", "over", "that", "which", "who", "moving", "walking", "running",
    "left", "right",
})


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
    words = [w for w in re.split(r"[^a-z0-9']+", str(text).lower().replace("_", " ")) if w]
    while words and words[0] in _DETERMINERS:
        words.pop(0)
    cut = next((i for i, w in enumerate(words) if i > 0 and w in _PHRASE_END), len(words))
    words = words[:cut]
    if not words:
        return Phrase(str(text), "", (), None, None, False)
    head_raw = words[-1]
    head = singular(head_raw)
    if head == head_raw and head_raw.endswith("sses"):
        head = head_raw[:-2]  # "glasses" also names a "glass" label
    mods = tuple(w for w in words[:-1] if w not in _DETERMINERS)
    color = next((COLOR_WORDS[w] for w in mods if w in COLOR_WORDS), None)
    size = next((SIZE_WORDS[w] for w in mods if w in SIZE_WORDS), None)
    return Phrase(" ".join(words), head, mods, color, size, head != head_raw)


def kind(head: str) -> str:
    """One name per synonym group ("puppy" -> "dog"'s group name); other words unchanged."""
    for group in SYNONYM_GROUPS:
        if head in group:
            return min(group)
    return head


def label_matches(phrase: str, label: str) -> bool:
    """True when the question's noun phrase ``phrase`` can refer to an object labelled ``label``."""
    q, lab = parse_phrase(phrase), parse_phrase(label)
    if not q.head or not lab.head:
        return False
    if q.color and lab.color and q.color != lab.color:
        return False
    if q.head in GENERIC_WORDS:
        return True
    if q.head == lab.head or kind(q.head) == kind(lab.head):
        return True
    hyper = HYPERNYMS.get(q.head) or HYPERNYMS.get(kind(q.head))
    return bool(hyper) and (lab.head in hyper or kind(lab.head) in {kind(h) for h in hyper})


def phrase_matches(label: str, phrases: list[str]) -> bool:
    """True when a detection ``label`` names one of the prompt ``phrases`` or is named by it:
    ``label_matches`` either way ("people" / "person", "puppy" / "dog"), or one's words (up to
    number) contained in the other's ("ball" / "sports ball")."""
    lw = {singular(w) for w in parse_phrase(label).text.split()}
    for p in phrases:
        if label_matches(p, label) or label_matches(label, p):
            return True
        pw = {singular(w) for w in parse_phrase(p).text.split()}
        if lw and pw and (pw <= lw or lw <= pw):
            return True
    return False


def display_name(label: str, n: int) -> str:
    """The label in singular or plural form for ``n`` objects ("dog", "dogs", "people")."""
    p = parse_phrase(label)
    if not p.head:
        return str(label)
    words = list(p.modifiers) + [p.head if n == 1 else plural(p.head)]
    return " ".join(words)
