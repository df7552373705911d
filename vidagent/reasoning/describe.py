"""Open descriptions of a scene, grounded in the scene memory.

Without a language model the summary is a template over memory facts. With one
(``llm.generate(prompt, max_new_tokens) -> str``) the model phrases the same facts; its text is
used only when it names no kind of object that the memory lacks (else the template is used).
"""

from __future__ import annotations

import re
from collections import Counter

from vidagent.memory import ObjectMemory, SceneMemory
from vidagent.query.plan import Plan
from vidagent.reasoning.labels import display_name, label_matches, parse_phrase, singular

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


def _prompt(objects: list[ObjectMemory], memory: SceneMemory) -> str:
    facts = "\n".join(f"- {o.facts()}" for o in objects[:MAX_LISTED]) or "- (no objects)"
    return (
        "You describe a video for a user. Use only the facts below; do not mention any object "
        "that is not listed. Times are in seconds; positions are parts of the frame.\n"
        f"Video: {memory.duration:.1f} s, {memory.width}x{memory.height}.\n"
        f"Objects:\n{facts}\n"
        "Write a short description (2 to 4 sentences):\n"
    )


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
        text = str(llm.generate(_prompt(objects, memory), LLM_MAX_NEW_TOKENS)).strip()
    except Exception:  # a failing optional model must not fail the question
        return template, objects
    if not text or mentions_unknown_objects(text, [o.label for o in objects]):
        return template, objects
    return text, objects
