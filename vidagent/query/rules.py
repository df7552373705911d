"""The deterministic parser: question -> ``Plan`` by patterns, with no model.

It is the fallback of ``QueryParser`` and good on its own. Steps:

1. normalise (lower case, ASCII, control characters removed) and repair typos word by word;
2. pick the task by ordered patterns (``task_by_rules`` also says how sure it is);
3. pull out constraints, each consuming its words: time spans, ordinals, motion, relations,
   comparisons, positions;
4. chunk what is left into noun phrases (runs of words that are not question words, verbs,
   prepositions or spatial/time words); each phrase is copied from the question, lower case,
   with its head noun in the singular ("red cars" -> "red car"); colours and sizes in a phrase
   also become ``attributes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lemminflect import getAllLemmas

from vidagent.query.constraints import finish_constraints, take_constraints
from vidagent.query.lexicon import (
    COLOR_WORDS,
    COMPOUNDS,
    ED_NOUNS,
    ING_NOUNS,
    NOUNS,
    OTHER_ADJECTIVES,
    SIZE_WORDS,
    SPACE_WORDS,
    STOP,
    TIME_WORDS,
    VERBS,
    fix_typo,
    is_abstract,
    is_adverb,
    normalize,
    parts_of_speech,
    singular,
    words,
)
from vidagent.query.plan import MAX_TARGETS, Plan, clean_phrase
from vidagent.query.tasks import DIR_WORDS, MOVE_VERBS, task_patterns

__all__ = ["RuleResult", "analyse", "clean_question", "parse_rules", "singular", "task_by_rules"]


_COLORED = re.compile(r"\b([a-z]+) colou?red\b")


def clean_question(text: str) -> str:
    """Normalised question with typos repaired, words joined by single spaces.

    "<x> colored" keeps a colour word ("red colored car" -> "red car") and drops another
    ("wine colored pickup" -> "pickup")."""
    out: list[str] = []
    for w in words(normalize(text)):
        out.extend(fix_typo(w).split())
    q = " ".join(out)
    q = _COLORED.sub(lambda m: m[1] if m[1] in COLOR_WORDS else "", q)
    return " ".join(q.split())


# ----------------------------------------------------------------------------- task patterns
_AUX_START = re.compile(r"^(?:is|are|was|were|does|do|did|can|could|will|has|have|had)\b")
_QUESTION_WORD = re.compile(r"\b(?:how|what|which|who|where|when|why|whose|whom)\b")


_NON_EXPRESSION_START = re.compile(
    r"^(?:how|what|wat|which|who|whom|whose|where|when|why|whether|is|are|was|were|am|does|do|"
    r"did|can|could|will|would|has|have|had|should|shall|may|might|must|please|count|describe|"
    r"tell|show|give|list|name|find|segment|mask|outline|highlight|select|track|isolate|point|"
    r"mark|circle|annotate|detect|locate|summari[sz]e|explain|narrate|caption|identify|get|"
    r"in|at|during|between|after|before|from|within|for|number|total|amount|any|so|and|or|"
    r"if|i|we|you|let|look|see|say|check|compare)\b")
_NP_START = re.compile(r"^(?:the|a|an|all|every|each|that|this|those|these|both|any)\b")


def task_by_rules(question: str, *, expression: bool = False,
                  question_mark: bool = False) -> tuple[str, float]:
    """The task a cleaned question asks for, and how sure the patterns are (0..1).

    ``expression`` marks a referring expression (task "segment" for sure); a text that starts
    like a noun phrase ("the dog moving left") and has no ``question_mark`` is one too.
    """
    if expression:
        return "segment", 1.0
    q = question
    if not question_mark and _NP_START.search(q):
        return "segment", 0.8
    if not question_mark and not _NON_EXPRESSION_START.search(q) \
            and not re.search(r"\b(?:tell|show|give|list|name) (?:me|us)\b|\b(?:describe|explain|"
                              r"count|summari[sz]e)\b|\b(?:where|what|how|when|why|who) (?:is|are|"
                              r"was|were|does|do|did|many|much|long)\b", q):
        # "black dog jumping over the fence", "cars which are faster than ours": a statement that
        # is neither a question nor an instruction names objects
        return "segment", 0.8
    for task, rx, conf in task_patterns():
        if rx.search(q):
            return task, conf
    if _AUX_START.search(q):
        # "is the man sleeping?": a yes/no question about a named object's state is open;
        # "is a dog sleeping?", "does anyone ...": whether such a thing is there
        definite = re.search(r"^[a-z]+ (?:the|his|her|their|its|this|these|those)\b", q)
        return ("describe", 0.5) if definite else ("exists", 0.5)
    if re.search(r"^(?:please )?(?:tell|give|say|explain|list|name)\b", q):
        return "describe", 0.4
    if not _QUESTION_WORD.search(q) and words(q):
        return "segment", 0.5  # a bare noun phrase reads as a referring expression
    return "describe", 0.3


# ----------------------------------------------------------------------------- constraints
_NUM = r"(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty)"
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30}
_UNIT = r"(seconds?|secs?|s|minutes?|mins?|m)\b"


def _num(text: str) -> float:
    return float(_NUMBER_WORDS.get(text, text)) if text in _NUMBER_WORDS else float(text)


def _scale(unit: str) -> float:
    return 60.0 if unit.startswith("m") else 1.0


_TIME_RULES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"\b(?:in|during|within|over|for) the (?:last|final|closing) " + _NUM + r" ?"
                + _UNIT), lambda m: {"last": _num(m[1]) * _scale(m[2])}),
    (re.compile(r"\b(?:in|during|within|over|for) the (?:last|final|closing) (second|minute)\b"),
     lambda m: {"last": _scale(m[1])}),
    (re.compile(r"\b(?:in|during|within|over) the first (second|minute)\b"),
     lambda m: (0.0, _scale(m[1]), "seconds")),
    (re.compile(r"\bbetween (?:the )?" + _NUM + r"(?: " + _UNIT + r")? and " + _NUM + r" ?"
                + _UNIT), lambda m: (_num(m[1]) * _scale(m[4]), _num(m[3]) * _scale(m[4]),
                                    "seconds")),
    (re.compile(r"\bfrom (?:second )?" + _NUM + r"(?: " + _UNIT + r")? (?:to|until|till) "
                r"(?:second )?" + _NUM + r"(?: ?" + _UNIT + r")?"),
     lambda m: (_num(m[1]) * _scale(m[4] or m[2] or "s"), _num(m[3]) * _scale(m[4] or m[2] or "s"),
                "seconds")),
    (re.compile(r"\b(?:in|during|within|over) the (?:first|opening) " + _NUM + r" ?" + _UNIT),
     lambda m: (0.0, _num(m[1]) * _scale(m[2]), "seconds")),
    (re.compile(r"\b(?:before|by|until|till|up to) (?:the )?" + _NUM + r" ?" + _UNIT
                + r"(?: mark)?"), lambda m: (0.0, _num(m[1]) * _scale(m[2]), "seconds")),
    (re.compile(r"\b(?:after|past|from|beyond|later than) (?:the )?" + _NUM + r" ?" + _UNIT
                + r"(?: mark)?"), lambda m: (_num(m[1]) * _scale(m[2]), None, "seconds")),
    (re.compile(r"\b(?:at|around|about) (?:the )?" + _NUM + r" ?" + _UNIT + r"(?: mark)?"),
     lambda m: (_num(m[1]) * _scale(m[2]), _num(m[1]) * _scale(m[2]), "seconds")),
    (re.compile(r"\bat (?:second|sec) " + _NUM + r"\b"),
     lambda m: (_num(m[1]), _num(m[1]), "seconds")),
    (re.compile(r"\b(?:in|during|within|over) the first half(?: of (?:the )?(?:video|clip|footage|"
                r"scene))?\b"), lambda m: (0.0, 0.5, "fraction")),
    (re.compile(r"\b(?:in|during|within|over) the (?:second|last|latter) half(?: of (?:the )?"
                r"(?:video|clip|footage|scene))?\b"), lambda m: (0.5, 1.0, "fraction")),
    (re.compile(r"\b(?:at|in|near|towards?|during|around) the (?:very )?(?:start|beginning|"
                r"opening)(?: of (?:the )?(?:video|clip|footage|scene))?\b|\bearly (?:on|in the "
                r"(?:video|clip))\b|\bat first\b|\binitially\b|\bin the first (?:few )?(?:frames?|"
                r"moments?|part)\b"), lambda m: (0.0, 0.2, "fraction")),
    (re.compile(r"\b(?:at|in|near|towards?|during|around) the (?:very )?(?:end|ending|finish)"
                r"(?: of (?:the )?(?:video|clip|footage|scene))?\b|\blate in the (?:video|clip)\b|"
                r"\bin the (?:last|final) (?:few )?(?:frames?|moments?|part)\b|\bat last\b|"
                r"\bfinally\b"), lambda m: (0.8, 1.0, "fraction")),
    (re.compile(r"\b(?:in|on|at|during|around|near|towards?) the middle of the (?:video|clip|"
                r"footage)\b|"
                r"\bhalfway through\b|\bmidway\b"), lambda m: (0.4, 0.6, "fraction")),
]


_ANCHOR = re.compile(
    r"\b(after|before|once|until|till|since) (?:the |a |an )?([a-z' ]+?) (?:has |had |have |"
    r"is |was |first )?(appears?|appeared|shows? up|showed up|enters?|entered|arrives?|arrived|"
    r"comes? in|leaves?|left|disappears?|disappeared|exits?|exited|goes away|went away|vanish(?:es|"
    r"ed)?|is gone|gets? out of (?:view|frame|the frame))\b")
_LEAVING = re.compile(r"^(?:leave|left|disappear|exit|go|went|vanish|is gone|get)")


def _take_anchor(q: str) -> tuple[dict | None, str]:
    """"after the dog leaves" -> {"anchor": {"target": "dog", "event": "leave", "side": "after"}}."""
    m = _ANCHOR.search(q)
    if not m:
        return None, q
    phrase = _last_phrase(m[2])
    if not phrase:
        return None, q
    event = "leave" if _LEAVING.match(m[3]) else "appear"
    side = "before" if m[1] in ("before", "until", "till") else "after"
    return {"anchor": {"target": phrase, "event": event, "side": side}}, _blank(q, m)


_OF_WHAT = re.compile(r" of (?:the |a |an |his |her |their |its |this |that )?([a-z]+)")


def _of_a_thing(q: str, m: re.Match) -> bool:
    """"at the end of the line", "at the start of the track": a part of a thing, not a time
    (the end of the video, of the race, of the day stays a time)."""
    if not re.search(r"\b(?:start|beginning|opening|end|ending|finish)$", m[0]):
        return False
    of = _OF_WHAT.match(q[m.end():])
    return bool(of) and not is_abstract(of[1]) and of[1] not in TIME_WORDS


def _take_time(q: str) -> tuple[dict | None, str]:
    anchor, rest = _take_anchor(q)
    if anchor:
        return anchor, rest
    for rx, make in _TIME_RULES:
        m = next((m for m in rx.finditer(q) if not _of_a_thing(q, m)), None)
        if m:
            made = make(m)
            if isinstance(made, dict):
                return made, _blank(q, m)
            start, end, unit = made
            if end is not None and start is not None and end < start:
                start, end = end, start
            return {"start": start, "end": end, "unit": unit}, _blank(q, m)
    # "what does the girl do after bending down in the middle": a bare "in the middle" that ends
    # a question about what happens before/after/while something is the middle of the video
    m = _BARE_MIDDLE.search(q)
    if m and _TEMPORAL_CLAUSE.search(q[: m.start()]):
        return {"start": 0.4, "end": 0.6, "unit": "fraction"}, _blank(q, m)
    return None, q


_BARE_MIDDLE = re.compile(r"\b(?:in|at|around|near|towards?) the middle\s*\??\s*$")
_TEMPORAL_CLAUSE = re.compile(r"^\s*(?:what|how|who)\b.*\b(?:after|before|while|when)\b")


_ORD_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
              "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "last": -1}
_ORD = r"(first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th|last)"
_OPPOSITE = {"left": "right", "right": "left", "top": "bottom", "bottom": "top",
             "largest": "smallest", "smallest": "largest", "earliest": "latest",
             "latest": "earliest"}
_SUPER = {"leftmost": "left", "rightmost": "right", "topmost": "top", "highest": "top",
          "uppermost": "top", "bottommost": "bottom", "lowest": "bottom", "largest": "largest",
          "biggest": "largest", "smallest": "smallest", "tiniest": "smallest",
          "furthest left": "left", "furthest right": "right", "farthest left": "left",
          "farthest right": "right"}


def _take_ordinal(q: str) -> tuple[dict | None, str]:
    m = re.search(r"\b(?:the )?" + _ORD + r" (?:one |[a-z]+ )?(?:from|to|on|at) the "
                  r"(left|right|top|bottom)\b", q)
    if m:
        rank, by = _ORD_WORDS[m[1]], m[2]
        # keep the noun if the pattern swallowed one ("second car from the left")
        noun = re.match(r"(?:the )?\S+ (\S+) ", m[0])
        kept = noun[1] if noun and noun[1] not in ("one", "from", "to", "on", "at") else ""
        if rank < 0:
            rank, by = 1, _OPPOSITE[by]
        return {"rank": rank, "by": by}, _blank(q, m, keep=kept)
    sup = "|".join(sorted(_SUPER, key=len, reverse=True))
    m = re.search(r"\b(?:the )?(?:" + _ORD + r" )?(" + sup + r")\b", q)
    if m:
        rank = _ORD_WORDS.get(m[1] or "first", 1)
        by = _SUPER[m[2]]
        if rank < 0:
            rank, by = 1, _OPPOSITE[by]
        return {"rank": rank, "by": by}, _blank(q, m)
    m = re.search(r"\b(?:the )?" + _ORD + r" ([a-z]+) (?:to|that|which) (?:appears?|shows? up|"
                  r"enters?|arrives?|comes? in)\b", q)
    if m and m[1] in ("first", "last"):
        by = "earliest" if m[1] == "first" else "latest"
        return {"rank": 1, "by": by}, _blank(q, m, keep=m[2])
    m = re.search(r"\b(?:that|which|who) (?:appears?|shows? up|enters?|arrives?|comes? in|"
                  r"comes? into view|leaves?) (first|last)\b",
                  q)
    if m:
        return {"rank": 1, "by": "earliest" if m[1] == "first" else "latest"}, _blank(q, m)
    # a bare ordinal ("the second ball", "the last car"): in a video, the order of appearance
    m = re.search(r"\bthe " + _ORD + r" ([a-z]+)\b", q)
    if m and m[2] not in _NOT_COUNTED:
        rank = _ORD_WORDS[m[1]]
        by = "earliest" if rank > 0 else "latest"
        return {"rank": max(rank, 1), "by": by}, _blank(q, m, keep=m[2])
    return None, q


# nouns after "the first/second/..." that are not objects counted in order of appearance
_NOT_COUNTED = frozenset(
    "second seconds minute minutes frame frames half part time times moment moments place "
    "one ones clip video scene shot start end beginning".split()
)


_DIR_MAP = {"left": "left", "leftward": "left", "leftwards": "left", "right": "right",
            "rightward": "right", "rightwards": "right", "up": "up", "upward": "up",
            "upwards": "up", "down": "down", "downward": "down", "downwards": "down"}


def _take_motion(q: str) -> tuple[str | None, str]:
    m = re.search(r"\b" + MOVE_VERBS + r" (?:to the |towards the |toward the |to |from )?(?:the )?("
                  + DIR_WORDS[3:-1] + r")\b(?! (?:of|side of|to right|to left))", q)
    if m:
        d = _DIR_MAP[m[1]]
        if re.search(r"\bfrom (?:the )?" + m[1] + r"\b", m[0]):
            d = {"left": "right", "right": "left", "up": "down", "down": "up"}[d]
        return d, _blank(q, m)
    m = re.search(r"\bfrom (?:the )?(left|right|top|bottom) (?:to|towards?) (?:the )?"
                  r"(left|right|top|bottom)\b", q)
    if m:
        return {"left": "left", "right": "right", "top": "up", "bottom": "down"}[m[2]], _blank(q, m)
    m = re.search(r"\b(?:standing still|stationary|not moving|motionless|still)\b", q)
    if m and not re.search(r"\bstill (?:there|visible|in)\b", q):
        return "none", _blank(q, m)
    return None, q


_PRED = [
    (r"(?:to|on|at) the (?:extreme |far |very )?left(?: hand)?(?: side| end| part)? of|left of",
     "left_of"),
    (r"(?:to|on|at) the (?:extreme |far |very )?right(?: hand)?(?: side| end| part)? of|right of",
     "right_of"),
    (r"on top of|above|over|higher than", "above"),
    (r"below|under|underneath|beneath|lower than", "below"),
    ((r"beside|next to|near|nearby|close to|closer to|by|alongside|adjacent to|around|"
     r"at the side of|in front of|behind|far from|away from"), "near"),
    ((r"touching|touches|touch|in contact with|holding|holds|carrying|carries|riding|rides|"
     r"sitting on|standing on|lying on|on"), "touching"),
]
_PRED_RE = [(re.compile(r"\b(?:" + p + r")\b"), name) for p, name in _PRED]


def _take_relation(q: str) -> tuple[tuple[str, str, str] | None, str]:
    """Find "<phrase> <predicate> <phrase>"; returns (subject text, predicate, object text)."""
    best = None
    for rx, name in _PRED_RE:
        for m in rx.finditer(q):
            obj_m = re.match(r"\s+(?:the |a |an |some |any )?([a-z0-9' ]+)", q[m.end():])
            if not obj_m:
                continue
            obj = _first_phrase(obj_m[1])
            before = q[: m.start()]
            if m[0].split()[0] in _SPATIAL_PREPOSITIONS:
                before += " " + m[0].split()[0]  # "high above": the adverb sees its preposition
            subj = _last_phrase(before)
            if not obj or not subj:
                continue
            if name == "touching" and m[0] == "on" and _is_space_phrase(obj_m[1]):
                continue  # "on the left" is a position, not a relation
            if name == "near" and m[0] in ("by",) and obj in ("far",):
                continue
            # spatial words outrank verbs of contact ("walking on a leash", "holding"), which
            # mostly sit in descriptive clauses; then the earliest in the question wins
            rank = (name == "touching", m.start())
            if best is None or rank < best[0]:
                best = (rank, subj, name, obj)
    if best is None:
        return None, q
    _, subj, name, obj = best
    return (subj, name, obj), q


def _is_space_phrase(text: str) -> bool:
    words_ = text.split()
    while words_ and words_[0] in ("very", "extreme", "far"):  # "on the extreme left"
        words_ = words_[1:]
    first = words_[:1]
    return bool(first) and (first[0] in SPACE_WORDS or first[0] in TIME_WORDS
                            or first[0] in ("screen", "frame"))


_CMP_BY = [
    (r"bigger|larger|biggest|largest|taller|tallest|wider|widest|heavier|huger", "size", "most"),
    (r"smaller|smallest|tinier|tiniest|shorter than|narrower|lighter", "size", "least"),
    (r"faster|fastest|quicker|quickest|speedier|more quickly|moves? more", "speed", "most"),
    (r"slower|slowest|more slowly|moves? less", "speed", "least"),
    ((r"(?:further|farther|more|most)(?: to the)? left|(?:closer|nearer|closest|nearest) to the left|"
     r"leftmost|left-most"), "left", "most"),
    ((r"(?:further|farther|more|most)(?: to the)? right|(?:closer|nearer|closest|nearest) to the right|"
     r"rightmost|right-most"), "right", "most"),
    ((r"higher|highest|topmost|(?:closer|nearer|closest|nearest) to the top|more to the top|"
     r"further up|farther up"), "top", "most"),
    ((r"lower|lowest|bottommost|(?:closer|nearer|closest|nearest) to the bottom|"
     r"more to the bottom|further down|farther down"), "bottom", "most"),
    (r"first|earlier|earliest|sooner|before", "earliest", "most"),
    (r"longer|longest|more time|most time|stays? (?:visible )?longer|remains? longer",
     "duration", "most"),
    (r"shorter|shortest|less time|least time", "duration", "least"),
    (r"last|later|latest", "latest", "most"),
]


def _take_compare(q: str) -> tuple[dict | None, str]:
    for p, by, order in _CMP_BY:
        m = re.search(r"\b(?:" + p + r")\b", q)
        if m:
            return {"by": by, "order": order}, _blank(q, m)
    return None, q


_POS_RE = re.compile(
    r"\b(?:on|in|at|to|towards?|near|from)? ?(?:the )?(?:very )?"
    r"(top|upper|bottom|lower)[ -]?(left|right)(?: corner| side| part| half)?\b|"
    r"\b(?:on|in|at|to|towards?|near)? ?(?:the )?(?:very |extreme |far )?(left|right|top|bottom|"
    r"center|centre|middle|upper|lower)(?>(?: hand side| side| part| half| corner| edge| end| "
    r"area| region)?)"
    r"(?: of (?:the )?(?:frame|screen|image|video|picture|scene|view|clip))?\b(?! of)")


def _compound_head(q: str, m: re.Match) -> bool:
    """A position word in a compound noun: the head right after a noun ("tank top", "table
    top") or the first word of a listed compound ("his right arm", "the left hand")."""
    if not m[3]:
        return False
    nxt = q[m.end():].split()[:1]
    if m[0].endswith(m[3]) and nxt and f"{m[3]} {nxt[0]}" in COMPOUNDS \
            and q[m.end():].split()[1:2] != ["side"]:
        return True
    if not m[0].strip().startswith(m[3]):
        return False
    prev = q[: m.start()].split()[-1:]
    if prev and prev[0] in COLOR_WORDS:
        return True  # "wearing a red top": a garment
    if not prev or not _is_content(prev[0]) or prev[0] in SIZE_WORDS \
            or prev[0] in OTHER_ADJECTIVES:
        return False
    return prev[0] in NOUNS or "NOUN" in parts_of_speech(prev[0])


def _take_position(q: str) -> tuple[str | None, str]:
    m = next((m for m in _POS_RE.finditer(q) if not _compound_head(q, m)), None)
    if not m:
        return None, q
    if m[1]:
        v = {"upper": "top", "lower": "bottom"}.get(m[1], m[1])
        return f"{v}-{m[2]}", _blank(q, m)
    v = {"centre": "center", "middle": "center", "upper": "top", "lower": "bottom"}[m[3]] \
        if m[3] in ("centre", "middle", "upper", "lower") else m[3]
    return v, _blank(q, m)


def _blank(q: str, m: re.Match, keep: str = "") -> str:
    """Replace a consumed match by a phrase break (optionally keeping one word of it)."""
    mid = f" | {keep} | " if keep else " | "
    return q[: m.start()] + mid + q[m.end():]


# ----------------------------------------------------------------------------- noun phrases
# how something moves or compares: never an object ("moving fast", "faster than ours")
_MANNER = frozenset("""fast faster fastest slow slower slowest quick quicker ours yours theirs
hers mine upside""".split())  # "hanging upside down"


_MANNER_PHRASE = re.compile(r"\b(?:at|with) (?:a |an |the )?(?:[a-z]+ ){0,2}(?:speed|pace|"
                            r"velocity|rate)\b")
# how, not what: "in circles", "on all fours", ages ("a 5 year old boy", "in his thirties")
_ADVERBIAL_PHRASE = re.compile(r"\bin circles\b|\bon all fours\b|"
                               r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                               r"twelve) ?(?:years?|months?|weeks?) ?old\b|\bin (?:his|her|their) "
                               r"(?:early |mid |late )?(?:teens|twenties|thirties|forties|fifties|"
                               r"sixties|seventies|eighties|nineties|[1-9]0s)\b")


def _manner_break(m: re.Match) -> str:
    """A phrase break for a manner phrase, unless its last word starts a compound noun ("with
    a speed boat")."""
    nxt = m.string[m.end():].split()[:1]
    if nxt and nxt[0] != "|" and (nxt[0] in NOUNS or "NOUN" in parts_of_speech(nxt[0])):
        return m[0]
    return " | "


def _noun_only(w: str) -> bool:
    """The lexicon knows ``w`` only as its own noun ("herring", "awning"; not "parking")."""
    lemmas = getAllLemmas(w)
    return set(lemmas) == {"NOUN"} and w in lemmas["NOUN"]


def _ly_noun(w: str) -> bool:
    """A noun in "-ly" by the lexicon ("family", "belly"): its own noun lemma, and no adverb
    or adjective ("slowly", "lovely")."""
    lemmas = getAllLemmas(w)
    return w in lemmas.get("NOUN", ()) and "ADJ" not in lemmas and "ADV" not in lemmas


def _ed_noun(w: str) -> bool:
    """A noun in "-ed" by the lexicon ("moped", "seabed"): it is its own noun lemma, and
    neither an adjective ("colored") nor an auxiliary ("need")."""
    lemmas = getAllLemmas(w)
    return w in lemmas.get("NOUN", ()) and "ADJ" not in lemmas and "AUX" not in lemmas


def _is_content(w: str) -> bool:
    if w in NOUNS or w in COLOR_WORDS or w in SIZE_WORDS or w in OTHER_ADJECTIVES:
        return w not in ("left",)
    if w in STOP or w in VERBS or w in SPACE_WORDS or w in TIME_WORDS or w == "|":
        return False
    if w in _MANNER:
        return False
    if w.isdigit() or w in _ORD_WORDS:
        return False
    if w.endswith("ing") and w not in ING_NOUNS and len(w) > 4 and not _noun_only(w):
        return False
    if w.endswith("ed") and w not in ED_NOUNS and len(w) > 3 and not _ed_noun(w):
        return False
    if w.endswith("ly") and len(w) > 4 and not _ly_noun(w):
        return False
    if is_adverb(w):
        return False  # "underwater", "downstream", "clockwise", "skyward"
    if w.endswith(("'s", "'t", "'re", "'ll")):
        return w.endswith("'s") and len(w) > 3  # "dog's" (possessive) stays
    pos = parts_of_speech(w)
    if pos and not pos & {"NOUN", "ADJ", "PROPN"}:
        return False  # the lexicon knows it only as a verb, adverb, ... ("bury", "ridden")
    return len(w) > 1 or w in ("tv",)


_SPATIAL_PREPOSITIONS = frozenset("""above over below under beneath underneath behind into onto
across through along past inside outside away off ahead""".split())


def _chunks(text: str) -> list[list[str]]:
    toks = text.replace("|", " | ").split()
    out: list[list[str]] = []
    cur: list[str] = []
    i = 0
    while i < len(toks):
        pair = " ".join(toks[i: i + 2])
        if pair in COMPOUNDS and not (pair.endswith(" hand") and toks[i + 2: i + 3] == ["side"]):
            if cur and pair.startswith(("left ", "right ")):
                out.append(cur)  # "a mouse right leg": the mouse's right leg
                cur = []
            cur.extend(toks[i: i + 2])
            i += 2
            continue
        w = toks[i]
        hand_side = w == "hand" and i > 0 and toks[i - 1] in ("left", "right") \
            and toks[i + 1: i + 2] == ["side"]  # "on the left hand side of": a place
        # an adverb of degree before a preposition: "soaring high above", "deep into"
        degree = toks[i + 1: i + 2] and toks[i + 1] in _SPATIAL_PREPOSITIONS \
            and w not in NOUNS and "ADV" in parts_of_speech(w)
        if _is_content(w) and not hand_side and not degree:
            cur.append(w)
        elif cur:
            out.append(cur)
            cur = []
        i += 1
    if cur:
        out.append(cur)
    return out


_AUX_NOUN_VERB = re.compile(r"\b(?:does|do|did|will|would|can|could|should|to) (?:the|a|an|"
                            r"this|that|these|those|his|her|their|its|any) ((?:[a-z]+ ){0,2})"
                            r"([a-z]+) ([a-z]+)\b")
_SUBJECT_PRONOUNS = frozenset("he she it they we i you someone somebody everyone".split())
# words after which a third-person verb form is the verb of a clause ("one slips", "who leads")
_SINGULAR_SUBJECTS = frozenset("one each nobody everybody anybody who".split())
_RELATIVES = frozenset("who which that".split())
# words after which a word that can be a verb is one: objects and infinitive markers
_OBJECT_CUES = frozenset("""the a an his her its their my your our this these those him them me us
some another""".split())
_NOMINAL = frozenset({"NOUN", "ADJ", "PROPN"})


def _can_verb(w: str) -> bool:
    """A verb the word lists miss (listed verbs stay: relations and constraints read them)."""
    return w not in VERBS and w not in NOUNS and w not in COLOR_WORDS and w not in STOP \
        and "VERB" in parts_of_speech(w)  # "over", "down" are prepositions here


def _mark_infinitives(q: str) -> str:
    """Mark verbs that the word lists alone miss, by their place in the sentence ("|" = a phrase
    break, the verb itself dropped):

    * "does the (bald) man cook": after do-support and its subject, a verb ("man cook");
    * "he threw the discus", "it saw the cat": a verb after a subject pronoun;
    * "to control the whisk", "to bury the boy": an infinitive before its object;
    * "a lizard on the floor smells the foot": a word that can be a verb, after a noun and
      before an object ("the", "his", "them", ...).
    Words the lexicon knows only as nouns are never marked.
    """
    def is_noun(w: str) -> bool:
        return singular(w) in NOUNS or "NOUN" in parts_of_speech(w)

    def marked(verb: str) -> str:
        return "|" if _can_verb(verb) else "| " + verb

    def repl(m: re.Match) -> str:
        head = m[0][: m.start(1) - m.start(0)]
        ws = (m[1] + m[2] + " " + m[3]).split()
        # the last noun followed by a word that reads as a verb in its base form: "did the
        # boy lean forward at" -> "lean" (not "forward"), "does the ice cream melt" -> "melt"
        for j in range(len(ws) - 2, -1, -1):
            noun, verb = ws[j], ws[j + 1]
            if is_noun(noun) and singular(verb) not in NOUNS and verb not in COLOR_WORDS \
                    and _verb_like(verb) and verb == _base(verb):
                return head + " ".join(ws[: j + 1] + [marked(verb)] + ws[j + 2:])
        noun, verb = m[2], m[3]
        if is_noun(noun) and singular(verb) not in NOUNS and verb not in COLOR_WORDS:
            cut = m.start(3) - m.start(0)
            return m[0][:cut] + marked(verb)
        return m[0]

    q = _AUX_NOUN_VERB.sub(repl, q)
    q = _mark_main_verb(q)
    q = _mark_agreeing_verbs(q)
    q = _mark_verb_adverbs(q)
    toks = q.split()
    out: list[str] = []
    for i, w in enumerate(toks):
        prev = toks[i - 1] if i else ""
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        after = toks[i + 2] if i + 2 < len(toks) else ""
        object_next = nxt in _OBJECT_CUES or (nxt == "to" and after and after not in _OBJECT_CUES)
        before = toks[i - 2] if i > 1 else ""
        if _can_verb(w) and (
                prev in _SUBJECT_PRONOUNS
                or (prev == "to" and (object_next or not parts_of_speech(w) & _NOMINAL))
                or (object_next and prev and _is_content(prev) and prev not in COLOR_WORDS)
                # "the girl who feeds the goat", "the vest that leads the dance"
                or (prev in _RELATIVES and (prev == "who" or _is_content(before))
                    and (object_next or nxt in ("", "|") or nxt in STOP))
                # "one slips", "each carries": a singular subject and a third-person verb
                or (prev in _SINGULAR_SUBJECTS and _third_person(w))
                # "blue car changes lanes": a singular noun, a third-person verb, its object
                or (_third_person(w) and singular(w) not in NOUNS and _singular_noun(prev)
                    and (nxt in _OBJECT_CUES or (_is_content(nxt) and nxt not in COLOR_WORDS
                                                 and _is_noun_word(nxt))))):
            out.append("|")
        else:
            out.append(w)
    return " ".join(out)


# verbs whose object is an activity, not a thing ("doing a trick", "performing a cartwheel")
_ACTIVITY_VERB = re.compile(r"^(?:doing|perform(?:s|ed|ing)?|practi[cs](?:e|es|ed|ing)|"
                            r"execut(?:e|es|ed|ing)|attempt(?:s|ed|ing)?)$")
_DETERMINERS = frozenset("""a an the some his her their its another several many few two three
four""".split())
_INDEFINITE = frozenset("a an some another several many few two three four".split())


def _drop_activities(q: str) -> str:
    """Blank the noun phrase an activity verb takes ("doing karate", "performs a handstand",
    "the girl does a cartwheel"): what is done is no object to outline."""
    toks = q.replace("|", " | ").split()
    statement = not _NON_EXPRESSION_START.match(" ".join(toks))
    out: list[str] = []
    i = 0
    while i < len(toks):
        w = toks[i]
        out.append(w)
        i += 1
        nxt = toks[i] if i < len(toks) else ""
        # "the girl does a cartwheel" (not "does the girl ...", "how many times does a dog ...")
        main_do = statement and w in ("does", "did", "do") and len(out) > 1 \
            and _is_content(out[-2]) and nxt in _INDEFINITE
        if not (_ACTIVITY_VERB.match(w) or main_do):
            continue
        j = i + 1 if nxt in _DETERMINERS else i
        k = j
        # the activity's words; a verb inside it only before another word ("push ups")
        while k < len(toks) and (_is_content(toks[k]) or (
                toks[k] not in STOP and toks[k] != "|" and not toks[k].endswith("ing")
                and k + 1 < len(toks) and _is_content(toks[k + 1]))):
            k += 1
        if k > j:
            out.append("|")
            i = k
    return " ".join(out)


def _is_noun_word(w: str) -> bool:
    return w in NOUNS or singular(w) in NOUNS or "NOUN" in parts_of_speech(w)


def _singular_noun(w: str) -> bool:
    """A noun in the singular ("car"; not "cars", not "red")."""
    return bool(w) and _is_content(w) and w not in COLOR_WORDS and w not in SIZE_WORDS \
        and singular(w) == w and _is_noun_word(w) and not _adjective_only(w)


def _third_person(w: str) -> bool:
    """``w`` is a third-person singular verb form ("slips", "carries", "finishes")."""
    lemmas = getAllLemmas(w).get("VERB", ())
    return w.endswith("s") and any(lemma != w for lemma in lemmas)


# the subject after the auxiliary starts with a determiner, a number, or a word taken out
# already ("do the three girls" after the count is read: "do | girls")
_DO_SUPPORT = re.compile(r"\b(?:does|do|did) (?:the|a|an|this|that|these|those|his|her|their|its|"
                         r"two|three|four|five|six|several|some|many|both|\|) ")
_BASE_VERBS = frozenset("do have be get".split())


def _mark_main_verb(q: str) -> str:
    """The verb of a do-support question whose subject is long ("what does the girl wearing
    a red coat pick up", "what did the man with the blue helmet wipe off"): the last word
    after the subject that can be a verb in its base form, after a noun and before an object,
    a preposition or the end, when no verb of the lists is there already."""
    m = _DO_SUPPORT.search(q)
    if not m:
        return q
    toks = q[m.end():].split()
    if "|" in toks:
        return q  # a verb is marked already ("does the bald man cook")
    clause = toks
    if any(w in _BASE_VERBS or (w in VERBS and w == _base(w)) for w in clause):
        return q
    for i in range(len(clause) - 1, 0, -1):
        w, prev = clause[i], clause[i - 1]
        nxt = clause[i + 1] if i + 1 < len(clause) else ""
        # a listed noun can be the verb here ("what does the girl ... stick on the wall")
        can_verb = _can_verb(w) or (w in NOUNS and "VERB" in parts_of_speech(w) and nxt != "")
        # after its subject's noun, or after the colour of its clothes ("the girls in red dance")
        after_subject = (_is_content(prev) or prev in COLOR_WORDS) and prev not in _OBJECT_CUES
        if can_verb and w == _base(w) and after_subject and (not nxt or nxt in STOP):
            toks[i] = "|"
            return q[: m.end()] + " ".join(toks)
    # no word there can be the verb, yet the question needs one after its subject: the last word
    # is it, when it is no object of the list and follows the subject's words ("where does the
    # man wearing a hat archery", "what game does the girl on the left pla")
    last, prev = clause[-1], clause[-2] if len(clause) > 1 else ""
    if len(clause) > 1 and last not in NOUNS and last not in STOP and last not in COLOR_WORDS \
            and (_is_content(prev) or prev in COLOR_WORDS or prev in SPACE_WORDS) \
            and prev not in _OBJECT_CUES and not _adjective_only(last):
        toks[-1] = "|"
        return q[: m.end()] + " ".join(toks)
    return q


_SINGULAR_DETERMINERS = frozenset("a an another each every".split())
_SUBORDINATORS = frozenset("when whenever while as once until till after before because if".split())
_DEFINITE = frozenset("the this that his her its their".split())


def _plural_noun(w: str) -> bool:
    """A noun in the plural that the lexicon knows ("lamps", "candles"; not "glass")."""
    one = singular(w)
    return one != w and w not in STOP and (one in NOUNS or "NOUN" in parts_of_speech(one))


def _free_verb(w: str) -> bool:
    """A verb the word lists miss that names no object of the list ("glow", "smiles")."""
    return _can_verb(w) and singular(w) not in NOUNS and w not in SPACE_WORDS \
        and w not in TIME_WORDS


def _mark_agreeing_verbs(q: str) -> str:
    """Verbs that agree with the noun before them, so that they are no part of its phrase:

    * a plural noun followed by a verb in its base form, before a preposition, a colour or the
      end ("what lamps glow blue", "candles flicker on the table");
    * a singular noun followed by a third-person verb form before a preposition or the end,
      where the phrase cannot be a plural compound: it starts with "a"/"an"/"each"/... ("a
      woman smiles at the camera") or follows "when"/"while"/... ("when the black dog lunges
      at the bone").
    """
    toks = q.split()
    for i in range(1, len(toks)):
        w, prev = toks[i], toks[i - 1]
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        ends = not nxt or nxt == "|" or nxt in STOP
        if not _free_verb(w) or prev in STOP or prev == "|":
            continue
        if _plural_noun(prev) and w == _base(w) and singular(w) == w \
                and (ends or nxt in COLOR_WORDS or _adjective_only(nxt)):
            toks[i] = "|"
            continue
        if _third_person(w) and _singular_noun(prev) and ends:
            j = i - 1
            while j > 0 and toks[j - 1] not in STOP and toks[j - 1] != "|" \
                    and _is_content(toks[j - 1]):
                j -= 1
            det = toks[j - 1] if j > 0 else ""
            before = toks[j - 2] if j > 1 else ""
            if det in _SINGULAR_DETERMINERS or (det in _DEFINITE and before in _SUBORDINATORS):
                toks[i] = "|"
    return " ".join(toks)


def _verb_form(w: str) -> bool:
    """A listed verb, or an inflected form the lexicon knows as a verb ("jumped", "jumps")."""
    return w in VERBS or any(lemma != w for lemma in getAllLemmas(w).get("VERB", ()))


def _mark_verb_adverbs(q: str) -> str:
    """An adverb right after a verb, ending its clause, is no object: "jumped high", "ran
    past", "flying high in the sky" (the lexicon knows the word as an adverb; object words and
    colours stay: "wearing orange")."""
    toks = q.split()
    for i in range(1, len(toks)):
        w, prev = toks[i], toks[i - 1]
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if w in NOUNS or w in COLOR_WORDS or w in STOP or w in SPACE_WORDS or w in TIME_WORDS \
                or w == "|" or "ADV" not in parts_of_speech(w):
            continue
        # the verb may have been read already ("flying" as a way of moving: "|")
        # ... not after "is"/"are" ("which is smaller, the cup or the bottle")
        verb = prev == "|" or (_verb_form(prev) and prev not in STOP)
        if verb and (not nxt or nxt == "|" or nxt in STOP):
            toks[i] = "|"
    return " ".join(toks)


def _base(w: str) -> str:
    """The base form of a verb form ("picks" -> "pick"); ``w`` itself when it is one."""
    lemmas = getAllLemmas(w).get("VERB", ())
    return w if not lemmas or w in lemmas else lemmas[0]


def _verb_like(w: str) -> bool:
    """``w`` can be a verb here: a listed verb, or one the lexicon knows that is no function,
    place or time word ("lean"; not "forward", "at")."""
    return w in VERBS or ("VERB" in parts_of_speech(w) and w not in STOP
                          and w not in SPACE_WORDS and w not in TIME_WORDS)


def _adjective_only(w: str) -> bool:
    """The lexicon knows ``w`` as an adjective (or adverb) and never as a noun ("able",
    "asleep"); words of the object list are nouns."""
    pos = parts_of_speech(w)
    return w not in NOUNS and bool(pos & {"ADJ", "ADV"}) and not pos & {"NOUN", "PROPN"}


def _participle_adjective(w: str) -> bool:
    """An adjective that is also a form of another verb ("bent" of "bend", "broken",
    "stuck"): after its noun ("with its neck bent") it says how the thing is."""
    if w in NOUNS:
        return False
    lemmas = getAllLemmas(w)
    return "ADJ" in lemmas and any(v != w for v in lemmas.get("VERB", ())) \
        and singular(w) == w


def _phrase(chunk: list[str]) -> str | None:
    """A target phrase from a chunk: possessives split, head singular, generic-only dropped."""
    # "the dog's ball" -> the ball (the owner becomes its own phrase upstream)
    chunk = [w for w in chunk if w not in ("|",)]
    while len(chunk) > 1 and chunk[-1] not in NOUNS \
            and " ".join(chunk[-2:]) not in COMPOUNDS and (  # "tank top" keeps its head
            chunk[-1] in COLOR_WORDS | SIZE_WORDS.keys() | OTHER_ADJECTIVES
            or _adjective_only(chunk[-1]) or _participle_adjective(chunk[-1])):
        chunk = chunk[:-1]
    if len(chunk) == 1 and (chunk[0] in COLOR_WORDS or _adjective_only(chunk[0])):
        return None  # "the person in orange", "a puppy that is asleep": no object named
    if not chunk:
        return None
    if all(w in COLOR_WORDS or w in SIZE_WORDS or w in OTHER_ADJECTIVES for w in chunk) \
            and chunk[-1] not in NOUNS:
        return None
    chunk = chunk[-4:]  # detector phrases stay short: the head and up to three modifiers
    head = chunk[-1]
    head = head.removesuffix("'s")
    # the head in the singular where the lexicon knows the word; an unknown word (a misspelling,
    # a rare name) stays exactly as the user wrote it
    one = singular(head)
    if parts_of_speech(head) or one in NOUNS:
        head = one
    chunk = chunk[:-1] + [head]
    return clean_phrase(" ".join(chunk)) or None


def _split_plurals(chunk: list[str]) -> list[list[str]]:
    """A plural noun ends its phrase: "penguins waddle" -> "penguins", "waddle"."""
    parts: list[list[str]] = [[]]
    for i, w in enumerate(chunk):
        parts[-1].append(w)
        nxt = chunk[i + 1] if i + 1 < len(chunk) else None
        if nxt and singular(w) != w and singular(w) in NOUNS and \
                f"{w} {nxt}" not in COMPOUNDS:
            parts.append([])
    return [p for p in parts if p]


def _phrases(text: str) -> list[str]:
    out: list[str] = []
    for chunk in (c for raw in _chunks(text) for c in _split_plurals(raw)):
        # a possessive splits a chunk: "man's red hat" -> "man", "red hat"
        parts: list[list[str]] = [[]]
        for w in chunk:
            if w.endswith("'s") and w != chunk[-1]:
                parts[-1].append(w[:-2])
                parts.append([])
            else:
                parts[-1].append(w)
        for part in parts:
            p = _phrase(part) if part else None
            if p and p not in out:
                out.append(p)
    return out


def _possessed(chunk: list[str]) -> list[str]:
    """The owned thing of a possessive chunk ("man's shoulder" -> "shoulder")."""
    for i in range(len(chunk) - 2, -1, -1):
        if chunk[i].endswith("'s"):
            return chunk[i + 1:]
    return chunk


def _first_phrase(text: str) -> str | None:
    for chunk in _chunks(text):
        p = _phrase(_possessed(chunk))
        if p:
            return p
        break
    return None


def _last_phrase(text: str) -> str | None:
    chunks = _chunks(text)
    for chunk in reversed(chunks):
        p = _phrase(_possessed(chunk))
        if p and not is_abstract(p.split()[-1]):
            return p
    return None


def _drop_generic(targets: list[str]) -> list[str]:
    specific = [t for t in targets if not is_abstract(t.split()[-1])]
    if specific:
        return specific
    # only generic words ("how many objects"): keep real object words like "object", "thing"
    return [t for t in targets if t.split()[-1] in ("object", "thing", "item")]


def _attributes(targets: list[str]) -> dict[str, dict]:
    attrs: dict[str, dict] = {}
    for t in targets:
        a: dict = {}
        for w in t.split()[:-1]:
            if w in COLOR_WORDS and "color" not in a:
                a["color"] = COLOR_WORDS[w]
            if w in SIZE_WORDS and "size" not in a:
                a["size"] = SIZE_WORDS[w]
        if a:
            attrs[t] = a
    return attrs


# ----------------------------------------------------------------------------- the parser
@dataclass
class RuleResult:
    """What the rule parser found: the plan, the cleaned question and the task's confidence."""

    plan: Plan
    question: str
    task_confidence: float
    candidates: list[str] = field(default_factory=list)  # every phrase found, in order
    repaired: bool = False  # True when constraints had to be dropped to make the plan valid


def analyse(text: str, *, expression: bool = False, task: str | None = None,
            targets: list[str] | None = None) -> RuleResult:
    """Rule-parse ``text``; ``task`` and ``targets`` override what the patterns find.

    The overrides let ``QueryParser`` use the language model's picks and still get the
    constraints and validation of the rules.
    """
    q = clean_question(text)
    time, rest = _take_time(f" {q} ")
    # time phrases ("in the middle of the video") must not read as places: patterns see the rest
    untimed = " ".join(rest.replace("|", " ").split()) if time else q
    rule_task, conf = task_by_rules(untimed or q, expression=expression,
                                    question_mark="?" in str(text))
    expect_color, rest = _take_expected_color(untimed, rest, expression)
    if task is None and (expect_color or re.search(
            r"^(?:is|are|was|were)\b(?! there\b).* (?:" + _COLOR_ALT + r") or (?:"
            + _COLOR_ALT + r")$", untimed)):
        rule_task, conf = "color", 0.9
    task = task or rule_task
    yes_no = not expression and _YES_NO.search(untimed) is not None
    timed_motion, rest = take_constraints(rest, task, _first_phrase)
    # how fast: "at full speed", "at a steady pace" name no object
    rest = _ADVERBIAL_PHRASE.sub(" | ", _MANNER_PHRASE.sub(_manner_break, rest))
    # the words the time and motion constraints left
    unconstrained = " ".join(rest.replace("|", " ").split())
    ordinal, rest = _take_ordinal(rest)
    motion, rest = _take_motion(rest)
    rest = _drop_activities(rest)  # "doing a trick": before the verb itself is marked
    rest = _mark_infinitives(rest)  # verbs out before relations and phrases are read
    # "is there anyone on the bench": the detector is asked for a person
    rest = re.sub(r"\b(?:anyone|someone|anybody|somebody)\b", "person", rest)
    compare = None
    if task == "compare":
        compare, rest = _take_compare(rest)
    relation, _ = _take_relation(rest)
    position, rest = _take_position(rest)
    if position and relation is None:
        relation, _ = _take_relation(rest)
    event = None
    if task == "when":
        event = "leave" if re.search(r"\b(?:leave|leaves|left|leaving|disappear|disappears|"
                                     r"disappeared|exit|exits|exited|vanish|vanishes|[a-z]+ away|[a-z]+ off|"
                                     r"lose sight|loses sight|lost sight|last seen|last visible|out of (?:view|frame|the picture|the shot|the scene|picture|shot|"
                                     r"the frame|sight)|gone|stop being|no longer)\b",
                                     unconstrained) \
            else "appear"
    found = _phrases(rest)
    targets = list(targets) if targets is not None else found
    if relation and all(relation[0] != t and relation[2] != t for t in targets):
        relation = None
    if relation and task == "relation":
        # the question's subject is its first phrase, even across a relative clause:
        # "is the dog that the girl walks to the right of the bicycle" -> dog right_of bicycle
        subj, pred, obj = relation
        first = next((t for t in targets if not is_abstract(t.split()[-1])), None)
        if first and first != obj and targets is found:
            subj = first
        relation = (subj, pred, obj)
        if subj != obj:
            targets = [subj] + [t for t in targets if t not in (subj, obj)] + [obj]
    elif relation:
        targets = targets + [t for t in (relation[0], relation[2]) if t not in targets]
    targets = _drop_generic(targets)
    anchor = (time or {}).get("anchor")
    if anchor and anchor["target"] not in targets:
        targets = targets[: MAX_TARGETS - 1] + [anchor["target"]]
    cat = re.match(r"^(?:which|what|who) ([a-z]+)\b.* or (?:the |a |an )?[a-z]", q)
    if task == "compare" and cat and len(targets) >= 3 and targets[0] == singular(cat[1]):
        targets = targets[1:]  # "which animal ..., the horse or the dog": the animal is a category
    targets = targets[:MAX_TARGETS]
    timed_motion, targets = finish_constraints(timed_motion, targets)
    data: dict = {"task": task, "targets": targets, "source": "rules"}
    if targets:
        data["attributes"] = _attributes(targets)
    if time:
        data["window"] = time
    expect = None
    if task == "color" and expect_color:
        expect = expect_color
    elif yes_no and task == "motion" and motion and not re.search(r"\bor\b", untimed):
        expect, motion = motion, None  # "does the dog move left?": the asked direction
    elif yes_no and task == "where" and position and not re.search(r"\bor\b", untimed):
        expect, position = position, None  # "is the ball on the left?": the asked place
    if expect:
        data["expect"] = expect
    if ordinal:
        data["ordinal"] = ordinal
    if motion and task != "motion" or motion and task == "motion" and motion != "none":
        data["motion"] = motion
    if position and not re.search(r"\b(?:left|right|top|bottom) or (?:on |in |at )?(?:the )?"
                                  r"(?:left|right|top|bottom)\b", q):
        data["position"] = position
    if event:
        data["event"] = event
    if relation and relation[0] in targets and relation[2] in targets and \
            relation[0] != relation[2]:
        data["relation"] = {"subject": relation[0], "predicate": relation[1],
                            "object": relation[2]}
    if task == "compare":
        data["compare"] = compare or _default_compare(q)
    if timed_motion:
        data["constraints"] = timed_motion
    plan, repaired = _build(data)
    return RuleResult(plan=plan, question=q, task_confidence=conf, candidates=found,
                      repaired=repaired)


_YES_NO = re.compile(r"^(?:is|are|was|were|does|do|did|can|could|will|has|have)\b(?! there\b)")
_COLOR_ALT = "|".join(sorted(COLOR_WORDS, key=len, reverse=True))
_PREDICATIVE_COLOR = re.compile(
    r"^(?:is|are|was|were|does|do|did)\b(?! there\b)(?P<np>(?: [a-z0-9']+)+?) (?:(?:colou?red|painted"
    r"|dressed|in|all|mostly|completely) )?(?P<color>" + _COLOR_ALT + r")(?: (?:in )?(?:color|"
    r"colored|coloured))?(?: or not)?$")


def _take_expected_color(untimed: str, rest: str, expression: bool) -> tuple[str | None, str]:
    """"is the car red?" -> ("red", the text without the asked colour word)."""
    if expression:
        return None, rest
    m = _PREDICATIVE_COLOR.search(untimed)
    if not m or not re.search(r"[a-z]", m["np"]) or " or " in m["np"] \
            or re.match(r" (?:that|this|it) (?:a|an)\b", m["np"]):
        return None, rest  # "is that a ball in the hands of a person in black": not its colour
    if re.search(r" or (?:" + _COLOR_ALT + r")$", untimed):
        return None, rest  # "is the car red or blue?": which colour, not yes/no
    word = m["color"]
    # the asked colour is the last occurrence of its word; drop it from what is chunked
    cut = rest.rfind(f" {word}")
    rest = rest[:cut] + " | " + rest[cut + len(word) + 1:] if cut >= 0 else rest
    return COLOR_WORDS[word], rest


def _default_compare(q: str) -> dict:
    if ordinal := _take_ordinal(f" {q} ")[0]:
        by = ordinal["by"]
        return {"by": "size", "order": "least" if by == "smallest" else "most"} \
            if by in ("largest", "smallest") else {"by": by, "order": "most"}
    return {"by": "size", "order": "most"}


def _build(data: dict) -> tuple[Plan, bool]:
    """Validate ``data`` into a Plan, degrading step by step until it is valid.

    Returns the plan and whether anything had to be changed or dropped.
    """
    try:
        return Plan.model_validate(data), False
    except ValueError:
        pass
    if data["task"] == "relation" and "relation" not in data:
        data["task"] = "exists" if data.get("targets") else "describe"
    if not data.get("targets"):
        data["task"] = "describe"
    for key in ("relation", "constraints", "ordinal", "window", "expect", "position", "motion",
                "attributes",
                "event"):
        try:
            return Plan.model_validate(data), True
        except ValueError:
            data.pop(key, None)
    if data["task"] == "compare":
        data["compare"] = {"by": "size"}
    try:
        return Plan.model_validate(data), True
    except ValueError:
        return Plan(task="describe", targets=[], source="rules"), True


def parse_rules(text: str, *, expression: bool = False) -> Plan:
    """Deterministic plan for ``text`` (always valid; an empty question gives task describe)."""
    return analyse(text, expression=expression).plan
