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

from vidagent.query.lexicon import SPACE_WORDS, STOP, TIME_WORDS, VERBS, singular
from vidagent.query.plan import Plan

__all__ = ["CAMERA", "constraint_kinds", "finish_constraints", "take_constraints"]

# words after a participle that are not the noun it qualifies ("moving ahead")
_ADVERBS = frozenset("""
ahead downhill uphill downstream upstream thru through along across past away around about off
into onto on in out up down forward forwards backward backwards together alone fast slowly
quickly toward towards home here there straight freely outside inside behind after near by
over under with without while and or then to from at of again still
""".split())
SAME = "@subject"  # placeholder ``other``: another object of the subject's kind
_ATTACHED = "@noun"  # the noun a participle or number qualifies: kept only for the subject

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
       r"advanc(?:e|es|ed|ing)|proceed(?:s|ed|ing)?|pull(?:s|ed|ing)? away|"
       r"(?:keep(?:s|ing)?|kept) (?:going )?straight|skiing|skied|surfing|surfed|"
       r"skateboarding|snowboarding|biking|rowing|diving|falling|descend(?:s|ed|ing)?|"
       r"ascend(?:s|ed|ing)?|crossing|crossed|commut(?:e|es|ed|ing)|migrat(?:e|es|ed|ing))")
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
    "other", "others", "one", "ones", "another", "way", "side", "same", "direction", "front",
    "back", "end", "start", "here", "there", "where", "distance", "forward", "forwards",
    "backward", "backwards", "center", "centre", "middle", "aside", "along", "straight",
    "speed", "pace"}  # "running at full speed" heads towards nothing
# what is passed on the way is a place, not another mover ("passing an intersection": moving)
_PLACES = frozenset("""
intersection junction crossing crosswalk street road lane corner turn roundabout bridge tunnel
gate highway freeway track path trail field area
""".split())
# balls and the like are passed to someone, not overtaken ("passing a football")
_PASSED_THINGS = frozenset("ball basketball football soccerball volleyball puck frisbee baton "
                           "rugby".split())
CAMERA = "camera"  # ``other`` of towards / away from the viewer


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
        """Consume ``pattern`` (the verb and preposition); the object phrase after it stays.

        "the other" / "another" / "two others" with no noun of its own means another object
        of the subject's kind; "the camera" is the viewer (towards / away from only)."""
        for m in re.finditer(pattern, self.q):
            after = self.q[m.end():]
            if kind in ("towards", "away_from") and re.match(
                    r"\s*(?:the |a )?(?:camera|viewer|screen|us|me)\b", after):
                self._add({"kind": kind, "other": CAMERA}, m)
                return True
            same = re.match(r"\s*(?:the other ones?|the other|another|(?:the |two |three )?"
                            r"others|(?:two|three) other)\b( [a-z]+)?", after)
            if same and (same[1] is None or same[1].strip() in STOP | _ADVERBS):
                self._add({"kind": kind, "other": SAME, **({"passive": True} if passive else {})},
                          m)
                return True
            obj = re.match(r"\s*(?:the |a |an |some |his |her |their |its )?(?:other |another )?"
                           r"([a-z0-9' ]+)", after)
            if not obj or obj[1].split()[:1] in (["direction"], ["way"], ["side"]):
                continue  # "towards the direction of the forest": a heading, not an object
            if m[0].endswith(" at") and obj[1].split()[:1] and obj[1].split()[0] in SPACE_WORDS:
                continue  # "swimming at the bottom of the tank": where, not where to
            other = self.phrase_after(obj[1])
            if not other or other.split()[-1] in _OTHER_BAD:
                continue
            head = other.split()[-1]
            if kind == "passes" and head in _PLACES:  # "passing an intersection": moving
                self._add({"kind": "moving"}, m)
                return True
            if kind == "passes" and head in _PASSED_THINGS:
                continue
            c = {"kind": kind, "other": other}
            if passive:
                c["passive"] = True
            self._add(c, m)
            return True
        return False

    def _add(self, c: dict, m: re.Match) -> None:
        if not self.has(c["kind"]):
            self.found.append(c)
        self.q = _blank(self.q, m)


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

    _take_direction_words(t, motion_task)

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
                          r")(?: than (?:the other(?: ones?)?|the others|another|the rest|"
                          r"all the others))?(?! than))\b", t.q)
            if m:
                t.found.append({"kind": kind, "rank": _RANKS.get(m[1] or "", 1)})
                t.q = _blank(t.q, m)
        if not t.has("fastest") and not t.has("slowest"):
            t.take("fastest", r"\b(?:" + _GO + r") (?:the )?(?:fastest|quickest|most quickly|"
                   r"the most)\b")
        # "walking fast", "speeding", "slowly crawling": singled out by speed among its kind
        adv = r"(?:very |so |really |quite |too )?"
        if not t.has("fastest") and not t.has("slowest"):
            t.take("fastest", r"\b(?:(?:" + _GO + r") " + adv + r"(?:fast|quickly|rapidly|"
                   r"speedily|at (?:a )?high speed)|" + adv + r"(?:fast|quickly|rapidly) (?:" +
                   _GO + r")|speed(?:s|ing)|sprint(?:s|ing)|fast[ -]moving|"
                   r"(?:a|an|the|is|are) (?:very |really )?fast(?= [a-z]| *(?:\||$)))\b")
        if not t.has("fastest") and not t.has("slowest"):
            t.take("slowest", r"\b(?:(?:" + _GO + r") " + adv + r"(?:slowly|slow|at (?:a )?low "
                   r"speed)|" + adv + r"slowly (?:" + _GO + r")|slow[ -]moving|"
                   r"(?:is |are )?slow(?= *(?:\||$)))\b")

    # ---- pairs: follows, passes, towards, away from
    go = r"(?:(?:" + _GO + r") )?"
    t.take_pair("follows", r"\b(?:follow(?:ed|ing)?|chased|trailed|pursued|tailed) by\b",
                passive=True)
    t.take_pair("follows", r"\b" + go + r"(?:follow(?:s|ed|ing)?|chas(?:e|es|ed|ing)|"
                r"trail(?:s|ed|ing)? (?:behind )?|pursu(?:e|es|ed|ing)|tail(?:s|ed|ing)|"
                r"(?:" + _GO + r") (?:behind|after))\b")
    _take_followed_with(t)
    _take_behind(t)
    t.take_pair("passes", r"\b(?:passed|overtaken) by\b", passive=True)
    t.take_pair("towards", r"\b(?:is |are |being )?(?:passed|thrown|kicked|handed|rolled) "
                r"(?:over )?to\b")
    t.take_pair("passes", r"\b" + go + r"(?:pass(?:es|ed|ing)?(?: by)?|overtak(?:e|es|ing)|"
                r"overtook|(?:" + _GO + r") (?:past|by)|cross(?:es|ed|ing)? (?:in front of|"
                r"past))\b")
    t.take_pair("towards", r"\b(?:approached|neared) by\b", passive=True)
    t.take_pair("towards", r"\b" + go + r"(?:towards?|approach(?:es|ed|ing)?|"
                r"head(?:s|ed|ing)? for|mak(?:e|es|ing) (?:its|his|her|their) way to|"
                r"nearing|reach(?:es|ed|ing)?(?: out to)?)\b|\b(?:" + _GO + r") "
                r"(?:forward |forwards |straight |over |up )?(?:(?:closer|close|near|nearer) to|"
                r"to|at)\b|\b(?:get(?:s|ting)?|got|draw(?:s|ing)?|drew) (?:closer|nearer) to\b")
    t.take_pair("away_from", r"\b" + go + r"(?:away from|(?:flee(?:s|ing)?|fled|escap(?:e|es|"
                r"ed|ing)|retreat(?:s|ed|ing)?)(?: from)?|(?:" + _GO + r") from)\b")
    if not t.has("away_from") and not when:  # "walking away": from the viewer
        m = re.search(r"\b(?:" + _GO + r") away\b(?! from)", t.q)
        if m:
            t._add({"kind": "away_from", "other": CAMERA}, m)

    # ---- still / moving
    if not motion_task:
        t.take("still", r"\b(?:" + _REL + r")?(?:(?:stand(?:s|ing)?|stood|stay(?:s|ed|ing)?|"
               r"keep(?:s|ing)?|kept|remain(?:s|ed|ing)?|sit(?:s|ting)?|sat|lie(?:s)?|lying|"
               r"hold(?:s|ing)?) still|stationary|motionless|not moving|"
               r"(?:does|do|did)(?:n't| not) move|never move(?:s|d)?|static|immobile|unmoving|"
               r"without moving|stays? put|staying put|(?:stay(?:s|ing)?|remain(?:s|ing)?) "
               r"(?:in place|in the same (?:place|position|spot)|where (?:it|he|she|they) "
               r"(?:is|are))|parked|at rest|does(?:n't| not) go anywhere|(?<!without )(?:stops|"
               r"stopped|stopping|comes to a (?:stop|halt)|halts|halted|waiting|waits)"
               r"(?! (?:sign|light|line|bar|by))|(?:is|are) stopped)\b")
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
            noun = next((w for w in m[2].replace("|", " ").split() + [m[3]]
                         if singular(w) != w), m[3])
            # "walking with two dogs" counts other objects, not the subject
            t.found.append({"kind": "count", "n": _NUMS[m[1]], _ATTACHED: singular(noun)})
            t.q = _blank(t.q, m)
    return t.found, " ".join(t.q.split())


_DIRS = {"left": "left", "right": "right", "top": "up", "bottom": "down", "up": "up",
         "down": "down"}
_OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}


def _take_direction_words(t: _Taker, motion_task: bool) -> None:
    """Motion words the direction patterns would misread, and directions they miss.

    "moves up and down", "turns left" (the driver's left, not the image's), "runs down the
    street" are motion without a direction; "swimming towards the top", "from the middle to
    the left", "disappears to the left", "enters from the right" are directions."""
    # a pose, not a way of moving: "turning his head to the left", "looking up", "facing left"
    m = re.search(r"\b(?:turn(?:s|ed|ing)?|look(?:s|ed|ing)?|fac(?:e|es|ed|ing)|"
                  r"point(?:s|ed|ing)?|glanc(?:e|es|ed|ing)|tilt(?:s|ed|ing)?) (?:(?:his|her|its|"
                  r"their|the) (?:head|face|body|eyes|neck|gaze) )?(?:to(?:wards?)? |at )?"
                  r"(?:the )?(?:left|right|up|down|upwards|downwards|top|bottom)\b(?! of)", t.q)
    if m and (not re.match(r"\S*turn", m[0]) or re.search(r"head|face|body|eyes|neck|gaze",
                                                         m[0])):
        t.q = _blank(t.q, m)
    if not motion_task:
        t.take("moving", r"\b(?:" + _GO + r") (?:up and down|down and up|back and forth|to and "
               r"fro|left and right|right and left|around|in circles?|round and round)\b")
        t.take("moving", r"\b(?:turn(?:s|ed|ing)?|swerv(?:e|es|ed|ing)|switch(?:es|ed|ing)? "
               r"lanes?|chang(?:e|es|ed|ing) lanes?|mak(?:e|es|ing) a) (?:to the |to |onto the )?"
               r"(?:left|right)(?: turn)?\b(?! (?:side )?of)")
        t.take("moving", r"\b(?:" + _GO + r") (?:up|down) (?=(?:the|a|an|this|that) "
               r"(?!left|right|top|bottom|middle|center)[a-z]+)")
    for rx, group_from in (
            (r"\b(?:" + _GO + r") (?:towards?|to) the (top|bottom)(?: (?:of|side of) " + _PLACE +
             r")?\b", False),
            (r"\b(?:" + _GO + r"|disappear(?:s|ed|ing)?|vanish(?:es|ed|ing)?|exit(?:s|ed|ing)?|"
             r"leav(?:e|es|ing))\b(?: [a-z]+){1,8}? to the (left|right|top|bottom)\b"
             r"(?! (?:side )?of)", False),
            (r"\b(?:enter(?:s|ed|ing)?|appear(?:s|ed|ing)?|com(?:e|es|ing) in)(?: [a-z]+){0,3}? "
             r"from the (left|right|top|bottom)\b(?! (?:side )?of)", True)):
        m = re.search(rx, t.q)
        if m and re.search(r"\b(?:turn|look|fac|point|glanc|nod|tilt)", m[0]):
            continue  # "turning his head to the left": a pose, not a way of moving
        if m and not t.has("direction"):
            d = _DIRS[m[1]]
            t.found.append({"kind": "direction", "direction": _OPPOSITE[d] if group_from else d})
            t.q = _blank(t.q, m)
            if re.search(r"disappear|vanish|exit|leav", m[0]) and not t.has("disappears"):
                t.found.append({"kind": "disappears"})  # "disappears to the left"


def _take_followed_with(t: _Taker) -> None:
    """"turning left with a gray van following": the van follows the subject."""
    m = re.search(r"\bwith (?:a |an |the |another )?((?:[a-z]+ ){0,3}?[a-z]+) (following|"
                  r"behind|chasing|trailing)(?: (?:it|him|her|them|closely))?\b", t.q)
    if not m:
        return
    other = t.phrase_after(m[1])
    if not other or other.split()[-1] in _OTHER_BAD:
        return
    if not t.has("follows"):
        t.found.append({"kind": "follows", "other": other, "passive": True})
    t.q = " " + " ".join((t.q[: m.start()] + " | " + m[1] + " | " + t.q[m.end():]).split()) + " "


def _take_behind(t: _Taker) -> None:
    """"keeps straight behind another SUV": behind another object while moving is following."""
    for m in re.finditer(r"\b(?:(?:right|just|closely) )?behind\b", t.q):
        before = t.q[max(0, m.start() - 60): m.start()]
        if not re.search(r"\b(?:" + _GO + r"|pass(?:es|ed|ing)?)\b", before) \
                or "|" in before.split()[-3:]:
            continue
        after = t.q[m.end():]
        obj = re.match(r"\s*(?:the |a |an )?(?:other |another )?([a-z0-9' ]+)", after)
        other = t.phrase_after(obj[1]) if obj else None
        if re.match(r"\s*(?:the other|another)\b(?! [a-z]+ [a-z])", after) and not other:
            other = SAME
        if not other or other.split()[-1] in _OTHER_BAD | _PLACES:
            continue
        if not t.has("follows"):
            t.found.append({"kind": "follows", "other": other})
        t.q = _blank(t.q, m)
        return


def _plural_after(between: str, word: str) -> bool:
    """The words after a number end in a plural noun ("two big dogs")."""
    for w in (between.replace("|", " ").split() + [word]):
        if singular(w) != w:
            return True
        if w in ("|",):
            return False
    return False


_NOUN_DETERMINERS = frozenset("a an the his her its their this that another".split())


def _take_moving(t: _Taker) -> None:
    """"the box that moves", "the moving car", "the dogs running" (not "moving left")."""
    rx = re.compile(r"\b(?:" + _REL + r")?(?:in motion|on the move|(?:keeps? )?(?:" + _GO +
                    r"))\b(?: (?:around|about|quickly|fast|rapidly|slowly|along|forward|"
                    r"forwards|continuously|constantly)\b)?")
    for m in rx.finditer(t.q):
        if _DIRECTION_AFTER.match(t.q[m.end():]):
            continue  # a direction: the rule parser's motion constraint
        verb = m[0].split()[-1]
        comes_out = verb.startswith(("com", "came")) and t.q[m.end():].startswith(" out ")
        if (verb in ("back", "off", "come", "comes", "came", "coming") and not comes_out) \
                or "turn" in verb:
            continue
        c = {"kind": "moving"}
        nxt = re.match(r"\s*([a-z]+)\b", t.q[m.end():])
        prev = t.q[: m.start()].split()[-1:]
        if prev and prev[0] in _NOUN_DETERMINERS and m[0] == verb \
                and not verb.endswith(("ing", "ed")):
            continue  # "the race", "a jump", "his ride": a noun, not a way of moving
        attributive = bool(prev) and prev[0] in ("the", "a", "an", "this", "that", "its", "his",
                                                 "her", "their")
        if verb.endswith("ing") and m[0] == verb and nxt \
                and (attributive or nxt[1] not in STOP | VERBS) and nxt[1] not in STOP \
                and nxt[1] not in _OTHER_BAD | _ADVERBS and not nxt[1].endswith(("ing", "ly")):
            c[_ATTACHED] = singular(nxt[1])  # "the running dog": only if the dog is the subject
        t.found.append(c)
        t.q = _blank(t.q, m)
        return


def finish_constraints(found: list[dict], targets: list[str]) -> tuple[list[dict], list[str]]:
    """The constraints that fit the plan's targets, and the targets with every pair kind's
    other phrase among them (appended when the phrase extraction missed it)."""
    out, targets = [], list(targets)
    head = targets[0].split()[-1] if targets else None
    for c in found:
        c = dict(c)
        attached = c.pop(_ATTACHED, None)
        if attached is not None and attached != head:
            continue
        other = c.get("other")
        if other == SAME:
            if not targets:
                continue
            c["other"] = other = targets[0]
        if other == CAMERA:
            out.append(c)
            continue
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
