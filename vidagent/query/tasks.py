"""The question tasks: one ``TaskSpec`` per task, the single list every layer takes them from.

A spec gives the task's name (the plan's ``task`` literal is built from these names), the
one-line question shape that the language model's label list shows, what the answer's value is,
and the rule hook: regular expressions over the cleaned question, each with a global order
(lower is tried first; the first match wins) and the confidence the rule parser gives it.

Adding a task: a ``TaskSpec`` here, and its executor in ``vidagent.reasoning.executor``
registered with ``@executes("<name>")`` (the executor reads the scene memory, a layer above
this one); tests check that every spec has an executor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# building blocks of the patterns (also used by the rule parser's motion constraint)
DIR_WORDS = r"(?:left|right|up|down|upward|upwards|downward|downwards|leftward|leftwards|rightward|rightwards)"
MOVE_VERBS = (r"(?:mov(?:e|es|ed|ing)|go(?:es|ing)?|went|head(?:s|ed|ing)?|travel+(?:s|ed|ing)?|"
              r"run(?:s|ning)?|ran|walk(?:s|ed|ing)?|driv(?:e|es|ing)|drove|fl(?:y|ies|ying|ew)|"
              r"swim(?:s|ming)?|roll(?:s|ed|ing)?|rid(?:e|es|ing)|cross(?:es|ed|ing)?|"
              r"turn(?:s|ed|ing)?|jump(?:s|ed|ing)?|head(?:s|ed|ing)?|drift(?:s|ed|ing)?|"
              r"slid(?:e|es|ing)|float(?:s|ed|ing)?|pan(?:s|ned|ning)?)")
_CMP = (r"(?:bigger|larger|smaller|tinier|taller|shorter|faster|quicker|slower|higher|lower|"
        r"biggest|largest|smallest|fastest|slowest|longer|longest|shortest|earlier|sooner|later|"
        r"further|farther|more to the|closer to the|wider|heavier|leftmost|rightmost|topmost|"
        r"quickest|speedier|more|less|first|last)")



@dataclass(frozen=True)
class Rule:
    """One pattern of the rule hook: tried in ``order`` (lower first) over all tasks."""

    order: int
    pattern: str
    confidence: float


@dataclass(frozen=True)
class TaskSpec:
    """One task: name, question shape (for the model's label list), value, rule hook."""

    name: str
    shape: str
    value: str
    rules: tuple[Rule, ...] = ()


TASK_SPECS: tuple[TaskSpec, ...] = (
    TaskSpec(
        "count",
        shape="how many things there are",
        value="int: distinct objects",
        rules=(
            Rule(50, (r"\bhow many\b|\bnumber of\b|^count\b|\bcount (?:the|all|how|every)\b|"
                     r"\bhow much\b|\bcount of\b|\btotal (?:number|count)\b|\bhow numerous\b|"
                     r"^(?:please )?count\b|\bquantity of\b|\btally\b"),
                 0.95),
        ),
    ),
    TaskSpec(
        "exists",
        shape="whether something appears at all",
        value="bool",
        rules=(
            # "what types of vehicles appeared": which of them are there
            Rule(115, (r"^(?:what|which) (?:types?|kinds?|sorts?) of [a-z' ]+ (?:appear|appears|"
                       r"appeared|are there|were there|is there|are (?:visible|shown|present)|"
                       r"can be seen|show up|showed up)\b"), 0.85),
            # "does the woman wear glasses": whether the worn or held thing is there
            Rule(112, (r"^(?:does|do|did) (?:the|a|an|this|that|these|those) [a-z' ]+? (?:wear|have|"
                       r"hold|carry|own) (?:a|an|any|some|the|his|her|their|its)?\b"), 0.85),
            # the words of being there say "exists" unless a wh-word asks for something else
            # ("what is the thing lying beside the car in the video" is open)
            Rule(130, (r"^(?:is|are|was|were) (?:there|any|a|an)\b|^(?:does|do|did|can|could|will) "
                     r"(?:the )?(?:video|clip|scene|footage|frame|you|we|i|anyone)\b|"
                     r"^(?!(?:so )?(?:what|which|who|whom|whose)\b).*?"
                     r"\b(?:appear|appears|visible|exist|exists|present|show up|shows up|seen|"
                     r"contain|contains|in the video|in the clip|in the scene|in view|on screen|"
                     r"in frame|in the frame)\b|^any\b|^(?:does|do|did) (?:a|an|any)\b"),
                 0.85),
        ),
    ),
    TaskSpec(
        "when",
        shape="the time something appears or leaves",
        value="float seconds: first (appear) or last (leave) visible frame / fps",
        rules=(
            # "in which segments did the brown dog appear": the times it is there
            Rule(41, (r"\b(?:in )?(?:which|what) (?:segments?|parts? of the (?:video|clip)|"
                      r"moments?|periods?|intervals?|time spans?)\b"), 0.9),
            Rule(40, (r"^(?:so )?when\b|\bthe (?:time|moment|second) (?:the|a|an|when|that)\b|\bwhen (?:the|a|an|do|does|did)\b|\bwhen (?:does|do|did|is|are|was|were|will|can)\b|"
                     r"\bat what (?:time|point|moment|second|frame|timestamp)\b|\bwhat time\b|"
                     r"\bwhich (?:second|moment|frame|timestamp|time)\b|\bhow soon\b|\bhow early\b|"
                     r"\bhow late\b|\btimestamp\b|\bat which point\b|\bwhat (?:second|moment|point)\b"),
                 0.95),
        ),
    ),
    TaskSpec(
        "duration",
        shape="how long something is visible",
        value="float seconds visible",
        rules=(
            Rule(30, (r"\bhow long\b|\bfor how (?:many|much)\b|\bhow much time\b|\bduration\b|"
                     r"\bhow many (?:seconds|secs|minutes|frames)\b|\bfor how long\b|"
                     r"\btotal time\b|\bamount of time\b|\blength of time\b|\bscreen time\b"),
                 0.95),
        ),
    ),
    TaskSpec(
        "where",
        shape="the place of something in the frame",
        value="position name, or bool for a yes/no form (expect)",
        rules=(
            Rule(100, (r"^(?:so )?where\b|\bwhere (?:is|are|was|were|does|do|did|can|in)\b|"
                     r"\bwhich (?:side|part|corner|half|region|area|quadrant)\b|"
                     r"\bwhat (?:side|part|corner|region|area|quadrant|position|location)\b|"
                     r"\blocation of\b|\bposition of\b|\bwhereabouts\b|\bin which (?:part|side|corner)\b|"
                     r"^(?:is|are) (?:the |a |an )?[a-z' ]+ (?:on|in|at) the (?:very )?(?:left|right|top|bottom|"
                     r"center|centre|middle|upper|lower)\b(?!(?: side| part| half| corner| edge)? of "
                     r"(?!(?:the )?(?:frame|screen|image|video|picture|scene|view|clip)\b))"),
                 0.85),
        ),
    ),
    TaskSpec(
        "color",
        shape="the colour of something",
        value="colour name, or bool for a yes/no form (expect)",
        rules=(
            Rule(60, (r"\b(?:what|which|wat) (?:is the )?colou?rs?\b|\bcolou?r (?:is|are|was|were|of)\b|"
                     r"\bwhat shade\b|\bwhat colou?red\b|\bcolou?r does\b|\bthe colou?r\b|"
                     r"\bcolou?r\b"),
                 0.9),
        ),
    ),
    TaskSpec(
        "motion",
        shape="the direction something moves",
        value="left/right/up/down/none, or bool for a yes/no form (expect)",
        rules=(
            # a what-question whose "what" is the thing acted on or acting ("what is the man
            # rolling up and walking away from", "what are mimicking the toy falling") asks for
            # that thing, unless it names a direction or the motion itself
            Rule(90, r"^(?!what (?:is|are|was|were)\b(?!.*\b(?:way|direction|directions|motion|"
                     r"movement|trajectory|left or right|up or down)\b)).*?(?:"
                     r"\b(?:which|what) (?:way|direction)\b|\b" + MOVE_VERBS + r" (?:to the |towards "
                     r"the |toward the )?" + DIR_WORDS + r"\b(?! of)|\bwhat direction\b|\bin which direction\b|"
                     r"\bdirection of\b|\bwhere (?:is|are|was|were|does|do|did)\b.*\b(?:headed|heading|"
                     r"go|goes|going|went|move|moves|moving|moved|head|heads)\b(?! on)|\b(?:rising|falling|ascending|descending|sinking|"
                     r"going up|going down|moving up|moving down|coming or going)\b|"
                     r"\b(?:moving|going|heading|travel+ing|move|moves|go|goes|drive|drives|driving|"
                     r"walking|running) (?:to the )?(?:left|right|up|down|upward|downward|leftward|"
                     r"rightward)s?\b(?! of)|\bleft or right\b|\bup or down\b|\bmoving\b\??$|"
                     r"\bmove\b\??$|\bmotion\b|\bmovement\b|\btrajectory\b|\bmoves?\b\??$|"
                     r"\bheading\b|\bstationary\b|\bstill or\b|\bstanding still\b)",
                 0.85),
        ),
    ),
    TaskSpec(
        "relation",
        shape="whether one thing is left of, right of, above, below, near or touching another",
        value="bool",
        rules=(
            Rule(110, (r"^(?:is|are|was|were|does|do|did|can|could|has|have)\b(?! there\b).*?\b(?:"
                     r"(?:to|on) the (?:left|right) (?:side )?of|left of|right of|above|over|"
                     r"on top of|below|under|underneath|beneath|beside|next to|near|nearby|"
                     r"close to|closer to|touch|touches|touching|in contact with|adjacent to|"
                     r"far from|away from|on (?!(?:the |a )?(?:very )?(?:left|right|top|bottom|center|"
                     r"centre|middle|upper|lower|screen|frame|camera|video|clip|scene|side|edge|way)\b))\b"),
                 0.9),
        ),
    ),
    TaskSpec(
        "compare",
        shape="which of two things is bigger, faster, further left, earlier or longer",
        value="the winner's label",
        rules=(
            Rule(70, r"\b(?:which|who)\b(?! (?:side|part|corner|way|direction|color)\b).*\b" + _CMP + r"\b|^what (?:is|are|was) (?:the )?" + _CMP + r"\b|\b(?:which|who) (?:one )?"
                     r"(?:appears?|shows? up|comes?|arrives?|enters?|leaves?|disappears?|moves?|"
                     r"stays?|is visible|remains?)\b.*\b(?:first|last|earlier|later|longer|more|"
                     r"sooner|faster)\b",
                 0.85),
            Rule(80, (r"^(?:is|are|was|were|does|do) (?:the |a |an )?[a-z' ]+ "
                     r"(?:bigger|larger|smaller|taller|shorter|faster|slower|quicker|higher|lower|"
                     r"wider|heavier|further|farther|longer) (?:than|compared)\b"),
                 0.85),
        ),
    ),
    TaskSpec(
        "describe",
        shape="open questions about what happens",
        value="str",
        rules=(
            # "what did the lady do when the boy ...", "what happened when the lights went out":
            # the when-clause is not the question
            Rule(35, (r"^(?:what|how|why|who) (?:did|does|do|is|are|was|were|happened|happens|"
                      r"happen|has happened)\b.*\bwhen\b"), 0.8),
            # "what is the man walking up": a preposition left at the end asks for its object
            # (up what), not for a direction
            Rule(84, (r"^what (?:is|are|was|were|does|do|did)\b(?!.*\b(?:way|direction)\b)"
                      r".*\b(?:up|down)$"), 0.75),
            # "how did the baby move up the stairs", "what do the couple do after moving left"
            Rule(85, (r"^how (?:did|does|do|is|are|was|were)\b|"
                      r"^what (?:do|does|did) (?:the |a |an )?[a-z' ]+ do\b"), 0.75),
            # scene properties, activities and open questions that mention objects
            # "is the person playing tennis in the video": the state of a named object (being
            # in the video is not what is asked); wearing/holding/carrying a thing stays exists
            Rule(128, (r"^(?:is|are|was|were) (?:the|this|that|these|those|his|her|their|its) "
                       r"[a-z']+ (?:[a-z' ]+ )?(?!(?:wearing|holding|carrying|having)\b)[a-z]+ing\b|"
                       r"^(?:is|are|was|were) (?:the|this|that|these|those|his|her|their|its) "
                       r"[a-z' ]+ in the (?:video|clip|scene) (?:a|an)\b"), 0.6),
            # "where is the place for the people to make the cake": the place, no object
            Rule(99, r"^where (?:is|was) (?:the|this) (?:place|venue|spot|setting)\b", 0.7),
            Rule(125, (r"^(?:is|are|was|were|does|do|did)\b.*\b(?:indoors|outdoors|outside|inside)"
                       r"\b|\bwhat (?:is|are|was|were) (?:the |a |an |this |that )?[a-z' ]+ doing\b|"
                       r"^what (?:happened|happens) (?:to|after|before|when)\b|\bwhat is written\b|"
                       r"^which one is the\b|\bwhat is the relationship\b"), 0.8),
            Rule(120, (r"\b(?:describe|description|summari[sz]e|summary|explain|tell me about|narrate|caption)\b|"
                     r"\bwhat (?:is|are|was|were) (?:happening|going on)\b|\bwhat is this\b|"
                     r"\bwhat'?s (?:happening|going on)\b|\bwhat happens\b|\bwhat kind of\b|"
                     r"\bwhat type of\b|^what (?:animal|animals|object|objects|things|vehicle|vehicles|"
                     r"sport|activity|activities)\b"),
                 0.85),
            Rule(140, (r"^(?:please )?(?:describe|summari[sz]e|explain|tell me about|narrate|caption)\b|"
                     r"\bwhat (?:is|are|was|were) (?:happening|going on|the [a-z' ]+ doing|they doing|"
                     r"he doing|she doing|it doing|in the|on the)\b|\bwhat'?s (?:happening|going on)\b|"
                     r"\bwhat happens\b|\bwhat do(?:es)? (?:you|we|the [a-z' ]+) (?:see|do)\b|"
                     r"\bwhat is (?:shown|visible|there)\b|\bwhat kind of\b|\bwhat type of\b|"
                     r"\bwhat (?:animal|object|objects|animals|things|vehicle|vehicles|sport|"
                     r"activity|activities)\b|^(?:who|why|what|how)\b|\bdoing\b"),
                 0.7),
        ),
    ),
    TaskSpec(
        "segment",
        shape="a phrase naming objects to outline, not a question",
        value="list of object ids",
        rules=(
            Rule(10, (r"^(?:please )?(?:segment|mask|outline|highlight|select|cut out|track|isolate|"
                     r"point to|point at|point out|mark|circle|annotate|detect|locate the|find the|"
                     r"find all|find every|show me the|show me all|show the|give me the mask|"
                     r"give me the masks|get the mask|give me masks)\b"),
                 0.95),
            Rule(20, r"\b(?:segment|segmentation|mask|masks) (?:of|for)\b",
                 0.9),
        ),
    ),
)
TASKS: tuple[str, ...] = tuple(s.name for s in TASK_SPECS)


def spec(name: str) -> TaskSpec:
    """The spec of task ``name`` (KeyError for an unknown task)."""
    for s in TASK_SPECS:
        if s.name == name:
            return s
    raise KeyError(f"unknown task {name!r}")


@lru_cache(maxsize=1)
def task_patterns() -> tuple[tuple[str, re.Pattern, float], ...]:
    """(task, compiled pattern, confidence) over every spec, in rule order."""
    rules = sorted((r.order, s.name, r.pattern, r.confidence) for s in TASK_SPECS for r in s.rules)
    return tuple((name, re.compile(p), c) for _, name, p, c in rules)


def label_lines() -> str:
    """"count: how many things there are" lines, one per task, for the model's prompt."""
    return "\n".join(f"{s.name}: {s.shape}" for s in TASK_SPECS)
