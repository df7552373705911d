"""Time and motion constraints read from a question or referring expression by patterns.

``take_constraints(text, task, phrase_after)`` finds, in a cleaned question (lower case, words
separated by single spaces), the words that constrain the subject by time or motion and
returns them as ``Constraint``-shaped dicts, with the words consumed (replaced by a phrase break
``|``) so that they do not become targets. Pair kinds ("following the man") keep the other
object's words in the text, so that it stays a target, and name it through ``phrase_after``.
``finish_constraints`` then checks them against the plan's targets.

Kinds written here: appears_later, appears_earlier, leaves_first, leaves_last, disappears,
comes_back, fastest, slowest, moving, still, follows, passes, towards, away_from, count.
Appearance order, direction and touching stay where the rule parser already writes them
(``ordinal``, ``motion``, ``relation``); ``constraint_kinds`` reports all of them by kind.

Words are not taken where the task itself asks about them: superlatives and orders in a
comparison ("which dog is faster"), moving and still in a motion question ("is the dog
moving?"), leaving and coming back in a "when" question unless in a relative clause ("when
does the dog that comes back leave?").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from vidagent.query.lexicon import SPACE_WORDS, TIME_WORDS, singular
from vidagent.query.plan import Plan

__all__ = ["constraint_kinds", "finish_constraints", "take_constraints"]

_REL = r"(?:(?:that|which|who) (?:is |are |was |were )?)"
_NUMS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8, "both": 2, "pair of": 2}
_RANKS = {"second": 2, "third": 3, "2nd": 2, "3rd": 3}
# verbs of getting about, any form ("running", "drives", "flew", ...)
_GO = (r"(?:mov(?:e|es|ed|ing)|go(?:es|ing)?|went|head(?:s|ed|ing)?|travel+(?:s|ed|ing)?|"
       r"run(?:s|ning)?|ran|walk(?:s|ed|ing)?|driv(?:e|es|ing)|drove|fl(?:y|ies|ying|ew)|"
       r"swim(?:s|ming)?|swam|roll(?:s|ed|ing)?|rid(?:e|es|ing)|rode|crawl(?:s|ed|ing)?|"
       r"jog(?:s|ged|ging)?|rac(?:e|es|ed|ing)|rush(?:es|ed|ing)?|hurr(?:y|ies|ied|ying)|"
       r"gallop(?:s|ed|ing)?|trot(?:s|ted|ting)?|hop(?:s|ped|ping)?|skat(?:e|es|ed|ing)|"
       r"cycl(?:e|es|ed|ing)|pedal+(?:s|ed|ing)?|march(?:es|ed|ing)?|stroll(?:s|ed|ing)?|"
       r"wander(?:s|ed|ing)?|sprint(?:s|ed|ing)?|dash(?:es|ed|ing)?|slid(?:e|es|ing)|"
       r"crawl(?:s|ed|ing)?|com(?:e|es|ing)|came|step(?:s|ped|ping)?|limp(?:s|ed|ing)?|"
       r"pac(?:e|es|ed|ing)|circl(?:e|es|ed|ing)|tak(?:e|es|ing) off|sail(?:s|ed|ing)?|"
       r"paddl(?:e|es|ed|ing)|waddl(?:e|es|ed|ing)|glid(?:e|es|ed|ing)|speed(?:s|ing)?|"
       r"sped|zoom(?:s|ed|ing)?|leap(?:s|ed|ing)?|jump(?:s|ed|ing)?|bounc(?:e|es|ed|ing)|"
       r"chas(?:e|es|ed|ing)|climb(?:s|ed|ing)?|turn(?:s|ed|ing)?|shift(?:s|ed|ing)?|"
       r"advanc(?:e|es|ed|ing)|proceed(?:s|ed|ing)?|pull(?:s|ed|ing)? away)")
# words after which a motion verb names a direction, not motion as such
_DIRECTION_AFTER = re.compile(
    r"^\s*(?:to the |towards the |toward the |to |from the |from |the )?(?:left|right|up|down|"
    r"upward|upwards|downward|downwards|leftward|leftwards|rightward|rightwards|forward|"
    r"forwards|backward|backwards|top|bottom)\b")
_PLACE = (r"(?:the )?(?:frame|scene|screen|view|picture|video|shot|image|camera view|camera|"
          r"field of view|sight|clip|room|area|stage|water|pool|field)")
_FAST = r"(?:fastest|quickest|speediest|most quickly|most rapidly|fastest of all)"
_SLOW = r"(?:slowest|most slowly)"
_OTHER_BAD = SPACE_WORDS | TIME_WORDS | {
    "camera", "screen", "frame", "viewer", "us", "me", "him", "her", "them", "it", "each",
    "other", "one", "another", "way", "side", "same", "direction", "front", "back", "end",
    "start", "here", "there", "where", "distance", "forward", "forwards", "backward",
    "backwards", "center", "centre", "middle"}


def _blank(q: str, m: re.Match, keep: str = "") -> str:
    """``q`` with the match replaced by a phrase break (keeping ``keep``), spaces single."""
    mid = f" | {keep} | " if keep else " | "
    return " " + " ".join((q[: m.start()] + mid + q[m.end():]).split()) + " "


class _Taker:
    """Consumes patterns from the text, collecting constraints."""

    def __init__(self, q: str, phrase_after: Callable[[str], str | None]) -> None:
        self.q = q
        self.phrase_after = phrase_after
        self.found: list[dict] = []

    def has(self, kind: str) -> bool:
        return any(c["kind"] == kind for c in self.found)

    def take(self, kind: str, pattern: str, **extra) -> re.Match | None:
        """Consume the first match of ``pattern`` as a constraint of ``kind``."""
        m = re.search(pattern, self.q)
        if not m:
            return None
        if not self.has(kind):
            self.found.append({"kind": kind, **extra})
        self.q = _blank(self.q, m)
        return m

    def take_pair(self, kind: str, pattern: str, passive: bool = False) -> bool:
        """Consume ``pattern`` (the verb and preposition); the object phrase after it stays."""
        for m in re.finditer(pattern, self.q):
            after = self.q[m.end():]
            obj = re.match(r"\s*(?:the |a |an |some |his |her |their |its )?(?:other |another )?"
                           r"([a-z0-9' ]+)", after)
            if not obj:
                continue
            first = obj[1].split()[:1]
            if not first or first[0] in _OTHER_BAD:
                continue
            other = self.phrase_after(obj[1])
            if not other or other.split()[-1] in _OTHER_BAD:
                continue
            c = {"kind": kind, "other": other}
            if passive:
                c["passive"] = True
            if not self.has(kind):
                self.found.append(c)
            self.q = _blank(self.q, m)
            return True
        return False


def take_constraints(q: str, task: str, phrase_after: Callable[[str], str | None],
                     ) -> tuple[list[dict], str]:
    """Constraints in the cleaned question ``q`` (see the module docstring) and the rest.

    Args:
        q: cleaned text (``vidagent.query.rules.clean_question``), possibly with ``|`` breaks.
        task: the plan's task (decides which words are the question itself).
        phrase_after: the first noun phrase of a text ("the red car near ..." -> "red car").
    """
    t = _Taker(f" {q} ", phrase_after)
    compare = task == "compare"
    motion_task = task == "motion"
    when = task == "when"
    rel_only = _REL if when else _REL + "?"

    # ---- leaving order: before anything reads "first" / "last" as appearance order
    if not compare:
        leave_v = (r"(?:leave|leaves|leaving|exit|exits|exiting|disappear|disappears|"
                   r"disappearing|vanish|vanishes|go out|goes out|get out|gets out|move out|"
                   r"moves out|walk out|walks out|drive out|drives out|run out|runs out|"
                   r"walk away|walks away|drive away|drives away|drive off|drives off|"
                   r"run away|runs away|fly away|flies away|go away|goes away)")
        m = re.search(r"\b(?:the )?(first|last|second|third|2nd|3rd|earliest|latest) "
                      r"(?:(?:one|[a-z]+) )?to " + leave_v + r"\b", t.q)
        if m:
            word = m[1]
            kind = "leaves_last" if word in ("last", "latest") else "leaves_first"
            noun = re.match(r"(?:the )?\S+ (\S+) to ", m[0])
            keep = noun[1] if noun and noun[1] != "one" else ""
            t.found.append({"kind": kind, "rank": _RANKS.get(word, 1)})
            t.q = _blank(t.q, m, keep)
        t.take("leaves_first", r"\b" + leave_v + r"(?: (?:of |from )?" + _PLACE + r")? "
               r"(?:the )?(?:first|earliest|earlier|sooner|before the others?|"
               r"before the rest)\b")
        t.take("leaves_last", r"\b" + leave_v + r"(?: (?:of |from )?" + _PLACE + r")? "
               r"(?:the )?(?:last|latest|later|after the others?|after the rest)\b")

    # ---- appearance order (comparatives; "appears first / last" stays an ordinal)
    if not compare:
        appear_v = (r"(?:appear|appears|appearing|appeared|show up|shows up|showing up|"
                    r"showed up|enter|enters|entering|entered|arrive|arrives|arriving|"
                    r"arrived|come in|comes in|coming in|came in|come into view|comes into "
                    r"view|emerge|emerges|emerging|join|joins|joining|is seen|gets into view)")
        t.take("appears_later", r"\b" + appear_v + r"(?: (?:in |into |on )?" + _PLACE +
               r")? (?:later|afterwards|after(?: the others?| the rest| that)|subsequently|"
               r"second|next)\b")
        t.take("appears_earlier", r"\b" + appear_v + r"(?: (?:in |into |on )?" + _PLACE +
               r")? (?:earlier|sooner|before(?: the others?| the rest| that))\b")
        t.take("appears_later", r"\b(?:later|last)[ -](?:appearing|arriving|entering)\b|"
               r"\bthe later (?=[a-z]+ *(?:\||$))")
        t.take("appears_earlier", r"\b(?:earlier|first)[ -](?:appearing|arriving|entering)\b|"
               r"\bthe earlier (?=[a-z]+ *(?:\||$))")

    # ---- coming back, disappearing
    t.take("comes_back", r"\b" + rel_only + r"(?:(?:" + _GO + r") back(?! and forth| to "
           r"(?:the |a |an )?[a-z]+)|return(?:s|ed|ing)?(?! to)|reappear(?:s|ed|ing)?|"
           r"re ?enter(?:s|ed|ing)?|(?:appear(?:s|ed|ing)?|show(?:s|ed|ing)? up|"
           r"com(?:e|es|ing) in|enter(?:s|ed|ing)?) again|back (?:into|in) " + _PLACE + r")\b")
    if not t.has("leaves_first") and not t.has("leaves_last"):
        t.take("disappears", r"\b" + rel_only + r"(?:disappear(?:s|ed|ing)?|vanish(?:es|ed|"
               r"ing)?|(?:leav(?:e|es|ing)|left|exit(?:s|ed|ing)?|(?:" + _GO + r") out of|"
               r"gets? out of) " + _PLACE + r"|(?:" + _GO + r") out of (?:sight|view|frame)|"
               r"out of (?:the )?(?:frame|view|sight|picture|shot)|(?:leaves|exits)(?= *(?:\||$))"
               r"|leaving(?= *(?:\||$)))\b")

    # ---- speed superlatives
    if not compare:
        ranked = r"(?:the )?(?:(second|third|2nd|3rd) )?"
        for kind, word, comparative in (("fastest", _FAST, r"faster|quicker"),
                                        ("slowest", _SLOW, r"slower")):
            m = re.search(r"\b" + ranked + r"(?:" + word + r"|(?:" + comparative +
                          r")(?! than))\b", t.q)
            if m:
                t.found.append({"kind": kind, "rank": _RANKS.get(m[1] or "", 1)})
                t.q = _blank(t.q, m)
        if not t.has("fastest") and not t.has("slowest"):
            t.take("fastest", r"\b(?:" + _GO + r") (?:the )?(?:fastest|quickest|most quickly|"
                   r"the most)\b")

    # ---- pairs: follows, passes, towards, away from
    go = r"(?:(?:" + _GO + r") )?"
    t.take_pair("follows", r"\b(?:follow(?:ed|ing)?|chased|trailed|pursued|tailed) by\b",
                passive=True)
    t.take_pair("follows", r"\b" + go + r"(?:follow(?:s|ed|ing)?|chas(?:e|es|ed|ing)|"
                r"trail(?:s|ed|ing)? (?:behind )?|pursu(?:e|es|ed|ing)|tail(?:s|ed|ing)|"
                r"(?:" + _GO + r") (?:behind|after))\b")
    t.take_pair("passes", r"\b(?:passed|overtaken) by\b", passive=True)
    t.take_pair("passes", r"\b" + go + r"(?:pass(?:es|ed|ing)?(?: by)?|overtak(?:e|es|ing)|"
                r"overtook|(?:" + _GO + r") (?:past|by)|cross(?:es|ed|ing)? (?:in front of|"
                r"past))\b")
    t.take_pair("towards", r"\b(?:approached|neared) by\b", passive=True)
    t.take_pair("towards", r"\b" + go + r"(?:towards?|approach(?:es|ed|ing)?|"
                r"head(?:s|ed|ing)? for|mak(?:e|es|ing) (?:its|his|her|their) way to|"
                r"nearing)\b|\b(?:" + _GO + r") (?:(?:closer|close|up|over|near|nearer) to|to|"
                r"at)\b|\b(?:get(?:s|ting)?|got|draw(?:s|ing)?|drew) (?:closer|nearer) to\b")
    t.take_pair("away_from", r"\b" + go + r"(?:away from|(?:flee(?:s|ing)?|fled|escap(?:e|es|"
                r"ed|ing)|retreat(?:s|ed|ing)?)(?: from)?|(?:" + _GO + r") from)\b")

    # ---- still / moving
    if not motion_task:
        t.take("still", r"\b(?:" + _REL + r")?(?:(?:stand(?:s|ing)?|stood|stay(?:s|ed|ing)?|"
               r"keep(?:s|ing)?|kept|remain(?:s|ed|ing)?|sit(?:s|ting)?|sat|lie(?:s)?|lying|"
               r"hold(?:s|ing)?) still|stationary|motionless|not moving|"
               r"(?:does|do|did)(?:n't| not) move|never move(?:s|d)?|static|immobile|unmoving|"
               r"without moving|stays? put|staying put|(?:stay(?:s|ing)?|remain(?:s|ing)?) "
               r"(?:in place|in the same (?:place|position|spot)|where (?:it|he|she|they) "
               r"(?:is|are))|parked|at rest|does(?:n't| not) go anywhere)\b")
        if not t.has("still"):
            t.take("still", r"\bstill\b(?! (?:there|visible|in|on|at|present|seen|around|"
                   r"here|be|is|are|has|have|moving|running|walking|going))")
        if not t.has("still"):
            _take_moving(t)

    # ---- counts in the expression: "the two dogs running", "both cats"
    if task not in ("count", "compare"):
        m = re.search(r"(?<!\bof )(?<!\bfirst )(?<!\blast )\b(?:the |all |these |those )?"
                      r"(two|three|four|five|six|seven|eight|both|pair of|[2-8])"
                      r" (?=((?:[a-z'|]+ ){0,3}?)([a-z]+)\b)", t.q)
        if m and _plural_after(m[2], m[3]):
            t.found.append({"kind": "count", "n": _NUMS[m[1]]})
            t.q = _blank(t.q, m)
    return t.found, " ".join(t.q.split())


def _plural_after(between: str, word: str) -> bool:
    """The words after a number end in a plural noun ("two big dogs")."""
    for w in (between.replace("|", " ").split() + [word]):
        if singular(w) != w:
            return True
        if w in ("|",):
            return False
    return False


def _take_moving(t: _Taker) -> None:
    """"the box that moves", "the moving car", "the dogs running" (not "moving left")."""
    rx = re.compile(r"\b(?:" + _REL + r")?(?:in motion|on the move|(?:keeps? )?(?:" + _GO +
                    r"))\b(?: (?:around|about|quickly|fast|rapidly|slowly|along|forward|"
                    r"forwards|continuously|constantly)\b)?")
    for m in rx.finditer(t.q):
        if _DIRECTION_AFTER.match(t.q[m.end():]):
            continue  # a direction: the rule parser's motion constraint
        verb = m[0].split()[-1]
        if verb in ("back", "off", "come", "comes", "came", "coming") or "turn" in verb:
            continue
        t.found.append({"kind": "moving"})
        t.q = _blank(t.q, m)
        return


def finish_constraints(found: list[dict], targets: list[str]) -> tuple[list[dict], list[str]]:
    """The constraints that fit the plan's targets, and the targets with every pair kind's
    other phrase among them (appended when the phrase extraction missed it)."""
    out, targets = [], list(targets)
    for c in found:
        other = c.get("other")
        if other is not None and not targets:
            continue  # the other object would become the subject
        if other is not None and other not in targets:
            if len(targets) >= 8:
                continue
            targets.append(other)
        out.append(c)
    if not targets:
        return [], targets
    return out, targets


def constraint_kinds(plan: Plan) -> list[str]:
    """Every time and motion constraint kind the plan carries, including those written as
    ``ordinal`` (appears_first / appears_last), ``motion`` (direction, still) and ``relation``
    (touches); sorted."""
    kinds = {c.kind for c in plan.constraints}
    if plan.ordinal is not None and plan.ordinal.by in ("earliest", "latest"):
        kinds.add("appears_first" if plan.ordinal.by == "earliest" else "appears_last")
    if plan.motion is not None:
        kinds.add("still" if plan.motion == "none" else "direction")
    if plan.relation is not None and plan.relation.predicate == "touching":
        kinds.add("touches")
    return sorted(kinds)
