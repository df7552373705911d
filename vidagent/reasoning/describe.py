"""Open descriptions of a scene, grounded in the scene memory.

Without a language model the summary is a template over memory facts. With one
(``llm.generate(prompt, max_new_tokens) -> str``) the model rewrites that summary in its own
words; its text is used only when it passes :func:`grounded` (it names every kind of object
described, no kind of object the memory lacks, no wrong count or colour of a kind, and does
not repeat itself); otherwise the template is used.
"""

from __future__ import annotations

import re
from collections import Counter

from vidagent.memory import ObjectMemory, SceneMemory
from vidagent.query.plan import Plan
from vidagent.vocab import COLORS, display_name, label_matches, parse_phrase, singular

MAX_LISTED = 12  # objects described one by one; the rest are only counted
LLM_MAX_NEW_TOKENS = 200  # length budget of the language model's summary

# nouns of things a summary might invent (COCO categories and common synonyms)
OBJECT_NOUNS = {
    "person", "people", "man", "woman", "child", "kid", "boy", "girl", "baby", "bicycle", "bike",
    "car", "motorcycle", "airplane", "plane", "bus", "train", "truck", "boat", "ship",
    "traffic light", "hydrant", "sign", "bench", "bird", "cat", "dog", "puppy", "horse", "sheep",
    "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie",
    "suitcase", "frisbee", "skis", "snowboard", "ball", "kite", "bat", "glove", "skateboard",
    "surfboard", "racket", "bottle", "glass", "cup", "fork", "knife", "spoon", "bowl", "banana",
    "apple", "sandwich", "orange", "broccoli", "carrot", "pizza", "donut", "cake", "chair",
    "couch", "sofa", "plant", "bed", "table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy", "toothbrush", "van", "animal", "vehicle", "player",
    "cyclist", "rider", "pedestrian", "toy", "box", "tree", "house", "fish", "duck", "monkey",
    "rabbit", "goat", "pig", "chicken", "lion", "tiger", "deer",
}
_NOT_OBJECTS_IN_CONTEXT = {"orange"}  # also a colour name


def _objects_for(plan: Plan, memory: SceneMemory) -> list[ObjectMemory]:
    if not plan.targets:
        return memory.present
    seen: dict[int, ObjectMemory] = {}
    for phrase in plan.targets:
        for o in memory.find(phrase):
            seen.setdefault(o.id, o)
    return sorted(seen.values(), key=lambda o: o.id)


def _object_sentence(o: ObjectMemory, memory: SceneMemory) -> str:
    name = display_name(o.label, 1)
    color = f"{o.color} " if o.color else ""
    place = "the center" if o.mean_position == "center" else f"the {o.mean_position}"
    m = o.motion.direction
    moving = "stays roughly in place" if m == "none" else f"moves {m}"
    span = f"from {o.first_time:.1f} s to {o.last_time:.1f} s"
    if o.first_frame == 0 and o.last_frame >= memory.num_frames - 1:
        span = "for the whole video"
    return (f"A {color}{name} (id {o.id}) is visible {span}, mostly in {place} of the frame, "
            f"and {moving}.")


def template_summary(objects: list[ObjectMemory], memory: SceneMemory) -> str:
    """A factual summary of ``objects`` built from memory facts only."""
    head = f"The video lasts {memory.duration:.1f} s ({memory.width}x{memory.height})."
    if not objects:
        return head + " No tracked objects appear in it."
    counts = Counter(parse_phrase(o.label).head or o.label for o in objects)
    kinds = [f"{n} {display_name(k, n)}" for k, n in counts.items()]
    listing = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    n = len(objects)
    text = [head, f"It shows {n} tracked object{'s' if n > 1 else ''}: {listing}."]
    text += [_object_sentence(o, memory) for o in objects[:MAX_LISTED]]
    if n > MAX_LISTED:
        text.append(f"{n - MAX_LISTED} more objects are not described one by one.")
    return " ".join(text)


def _prompt(objects: list[ObjectMemory], memory: SceneMemory, draft: str) -> str:
    facts = "\n".join(f"- {o.facts()}" for o in objects[:MAX_LISTED]) or "- (no objects)"
    return (
        "Rewrite the description of a video below in fluent English, in 2 to 4 sentences. "
        "Use only these facts; do not add any object, number, colour or event.\n"
        f"Facts (one tracked object per line):\n{facts}\n"
        f"Description: {draft}\n"
        "Rewritten description:"
    )


_NUMBER_WORDS = {"no": 0, "zero": 0, "one": 1, "a": 1, "an": 1, "single": 1, "two": 2,
                 "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "both": 2}


_ADJECTIVES = {"big", "large", "small", "little", "tiny", "huge", "moving", "other", "second",
               "first", "third", "tracked", "different", "similar"}


def _kind_forms(kind: str) -> set[str]:
    return {kind, display_name(kind, 2).split()[-1]}


def grounded(text: str, objects: list[ObjectMemory]) -> bool:
    """Whether a model's description agrees with the memory facts about ``objects``.

    It must name every kind of object (head noun, singular or plural; at most 6 kinds are
    required), no kind of object that no label matches (``OBJECT_NOUNS``), give no wrong count
    ("three boxes" when there are two) or colour ("a red ball" when no ball is red) of a kind,
    and not repeat a sentence.
    """
    low = " ".join(str(text).lower().split())
    if not low:
        return False
    sentences = [x.strip() for x in re.split(r"[.!?]+", low) if x.strip()]
    if len(sentences) != len(set(sentences)):
        return False
    labels = [o.label for o in objects]
    if mentions_unknown_objects(low, labels):
        return False
    by_kind: dict[str, list[ObjectMemory]] = {}
    for o in objects:
        by_kind.setdefault(parse_phrase(o.label).head or o.label, []).append(o)
    words = re.findall(r"[a-z0-9]+", low)
    singular_words = [singular(w) for w in words]
    if len(by_kind) <= 6:
        for kind in by_kind:
            if not any(label_matches(w, kind) for w in set(singular_words) if w.isalpha()):
                return False
    for kind, objs in by_kind.items():
        forms = _kind_forms(kind)
        colors = {o.color for o in objs if o.color}
        for i, w in enumerate(words):
            if w not in forms:
                continue
            # "two red balls": the word before the noun, or the one before an adjective
            before = words[max(0, i - 2): i]
            if len(before) == 2 and not (before[1] in COLORS or before[1] in _ADJECTIVES):
                before = before[1:]
            for b in before:
                n = int(b) if b.isdigit() else _NUMBER_WORDS.get(b)
                if n is not None and b not in ("a", "an") and n != len(objs):
                    return False
                if b in COLORS and colors and b not in colors:
                    return False
    return True


def mentions_unknown_objects(text: str, labels: list[str]) -> bool:
    """True when ``text`` names a kind of object (from ``OBJECT_NOUNS``) that no label matches."""
    words = [singular(w) for w in re.split(r"[^a-z]+", text.lower()) if w]
    joined = " ".join(words)
    for noun in OBJECT_NOUNS:
        n = singular(noun)
        if noun in _NOT_OBJECTS_IN_CONTEXT:
            continue
        if re.search(rf"\b{re.escape(n)}\b", joined):
            if not any(label_matches(n, lab) or label_matches(lab, n) for lab in labels):
                return True
    return False


def describe(plan: Plan, memory: SceneMemory, llm=None) -> tuple[str, list[ObjectMemory]]:
    """(summary text, objects it is about). The language model is optional; see module doc."""
    objects = _objects_for(plan, memory)
    if plan.targets and not objects:
        names = " or ".join(display_name(t, 1) for t in plan.targets)
        return f"No {names} appears in the video.", []
    template = template_summary(objects, memory)
    if llm is None:
        return template, objects
    try:
        text = str(llm.generate(_prompt(objects, memory, template), LLM_MAX_NEW_TOKENS)).strip()
    except Exception:  # a failing optional model must not fail the question
        return template, objects
    if not grounded(text, objects):
        return template, objects
    return text, objects
