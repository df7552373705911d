"""Word lists and word-level helpers for the rule parser: normalising, typo repair.

Noun number and colour words come from ``vidagent.vocab`` (shared with tracking and reasoning).

Everything here is deterministic and data only (no models). Words are lower-case ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from vidagent.vocab import COLOR_WORDS, parts_of_speech, plural, singular  # noqa: F401

# ----------------------------------------------------------------------------- nouns
# Objects a grounding detector is commonly asked for (COCO classes and frequent extras). Used to
# recognise heads of noun phrases and as the dictionary for typo repair; unknown words are still
# accepted as nouns by position.
NOUNS = frozenset("""
person man woman boy girl child kid baby people player rider driver pedestrian cyclist skier
surfer skateboarder dancer worker runner biker soldier police officer chef student teacher
bicycle bike car motorcycle motorbike airplane plane aeroplane bus train truck boat ship
traffic light hydrant sign meter bench bird cat dog horse sheep cow elephant bear zebra giraffe
backpack umbrella handbag bag tie suitcase frisbee skis ski snowboard ball kite bat glove
skateboard surfboard racket bottle glass cup fork knife spoon bowl banana apple sandwich orange
broccoli carrot pizza donut doughnut cake chair couch sofa plant bed table toilet tv television
laptop mouse remote keyboard phone microwave oven toaster sink refrigerator fridge book clock
vase scissors teddy drier toothbrush hat cap helmet shirt jacket coat dress shoe shoes boot
door window wall floor ceiling road street sidewalk tree flower grass building house tower
bridge fence pole lamp light box basket cart wheel tire tyre van taxi ambulance tractor
scooter stroller wagon sled jeep suv lorry trailer crane drone helicopter rocket balloon
animal fish duck goose chicken hen rooster pig goat deer wolf fox rabbit squirrel monkey lion
tiger puppy kitten lamb calf pony camel turtle frog snake lizard spider butterfly bee insect
parrot pigeon seagull eagle owl penguin dolphin whale shark octopus crab mouse rat hamster
toy doll block cube cone cylinder sphere rope stick pen pencil paper screen monitor computer
camera speaker guitar piano drum violin microphone cushion pillow blanket towel curtain rug
carpet mirror picture painting poster flag banner tent rock stone sand water wave boatman
river lake sea ocean mountain hill cloud sun moon star leaf leaves bush hedge log branch
container bin trash can jar pot pan plate tray mug kettle lid bucket shovel hammer tool
ladder table desk shelf cabinet drawer stairs staircase elevator escalator train tram
hand head face arm leg foot eye hair finger mouth nose ear tail
sky field shore beach park goal net court pitch stage room kitchen yard garden forest road
crowd team group audience swimmer surfer climber hiker jogger skater goalkeeper referee
snow ice fire smoke sidewalk crosswalk lane highway lot trash bin cupboard
""".split()) - {"can"}

# ----------------------------------------------------------------------------- other word classes
SIZE_WORDS = {
    "big": "large", "large": "large", "huge": "large", "giant": "large", "tall": "large",
    "enormous": "large", "small": "small", "little": "small", "tiny": "small", "short": "small",
    "mini": "small",
}
OTHER_ADJECTIVES = frozenset("""
striped spotted dotted wooden metal metallic plastic dark light bright pale old new young
fluffy furry wet dry hairy bald wild parked sleeping standing sitting running walking
""".split())

STOP = frozenset("""
how many much what which who whom whose where when why whether is are was were be been being
am do does did done can could would will should shall may might must has have had having there
here it its it's they them their theirs this that these those a an the some any all every each
no not of in on at to from by for with without into onto out off up down over under about as
than then and or but if so also just only very really still ever please me my mine you your we
us our i he she him her his one ones other others another such same both either neither more
most less least few several exactly total altogether overall currently now ok okay hey hi
tell show give let find get see seen look say know think count number amount totally yes
wherever whichever whatever within between during before after while until since till via
per like near nearby beside besides next behind around across along alongside through toward
towards upon above below beneath underneath inside outside against among amongst rather quite
something anything everything nothing someone anyone everyone somebody anybody thing things
them themselves itself himself herself kind sort type lot lots bit color colors
distinct different whole entire anywhere somewhere everywhere away together again already
two three four five six seven eight nine ten eleven twelve dozen both close closer closest
far farther further furthest farthest visible approximately roughly around maybe perhaps
""".split())

VERBS = frozenset("""
appear appears appeared appearing show shows showed shown showing move moves moved moving go
goes went gone going leave leaves left leaving enter enters entered entering exit exits exited
exiting run runs ran running walk walks walked walking jump jumps jumped jumping sit sits sat
sitting stand stands stood standing hold holds held holding carry carries carried carrying ride
rides rode riding drive drives drove driving fly flies flew flying swim swims swam swimming play
plays played playing eat eats ate eating look looks looked looking stay stays stayed staying
remain remains remained remaining come comes came coming turn turns turned turning touch touches
touched touching cross crosses crossed crossing pass passes passed passing follow follows
followed following chase chases chased chasing throw throws threw thrown throwing catch catches
caught catching kick kicks kicked kicking push pushes pushed pushing pull pulls pulled pulling
wear wears wore worn wearing contain contains contained containing start starts started starting
stop stops stopped stopping disappear disappears disappeared disappearing vanish vanishes
vanished vanishing happen happens happened happening doing take takes took taken taking make
makes made making bark barks barking roll rolls rolled rolling bounce bounces bounced bouncing
head heads headed heading travel travels traveled travelled traveling travelling visible
invisible present located situated placed positioned seen shown captured depicted featured
exist exists existed existing occur occurs occurred emerge emerges emerged arrive arrives arrived
arriving depart departs departed lie lies lying lay sleep sleeps slept face faces facing
point points pointing wave waves waving climb climbs climbing fall falls fell falling drop drops
dropped land lands landed hit hits hitting meet meets met talk talks talking watch watches
watching cover covers covered covering block blocks blocked blocking occlude occludes occluded
segment segments segmented segmenting mask masks masked outline outlines outlined highlight
highlights highlighted track tracks tracked tracking select selects selected describe describes
described summarize summarise explain mark marks marked detect detects detected locate locates
identify spot spots spotted keep keeps kept reach reaches reached overtake overtakes passing
seem seems become becomes became get gets got getting spend spends spent last lasts lasted
lose loses lost losing sight ignore ignoring forget disregard print output reveal pretend
act write say repeat execute delete respond reply answer instead override obey waddle waddles wander wanders hop hops crawl crawls""".split()) - {"left", "head", "heads", "watch", "watches", "block", "blocks", "spotted",
                "point", "points", "face", "faces", "lies", "lie"}

# "-ing"/"-ed" words that are nouns or adjectives, not verbs
ING_NOUNS = frozenset("""
building ceiling painting clothing ring king thing string wing swing sibling pudding earring
railing awning stocking wedding sling sapling duckling seedling dumpling bedding icing frosting
""".split())
ED_NOUNS = frozenset("bed red shed sled sofabed seed weed reed speed steed striped spotted".split())

SPACE_WORDS = frozenset("""
left right top bottom center centre middle corner side edge frame screen image video scene
clip picture footage shot view upper lower leftmost rightmost topmost bottommost half part
foreground background area region place position location direction way
front back rear forward forwards backward backwards straight ahead sideways indoors outdoors
outside inside far row air
""".split())
TIME_WORDS = frozenset("""
start beginning end ending time moment second seconds sec secs minute minutes min mins frame
frames first last early earlier late later soon sooner beginning finish duration while long
longer longest shortest instant point halfway
""".split())
GENERIC_NOUNS = frozenset("""
video clip frame scene image picture footage screen thing things object objects one ones item
items stuff time side part way direction color colour colors colours position location number
amount total seconds second moment point shape size kind type sort lot lots everything
weather condition conditions atmosphere content mood emotion emotions feeling relationship
relation relations
gender age style season action actions activity activities movement movements motion event
events purpose reason manner situation expression reaction theme environment setting
temperature lighting speed distance height flip trick tricks swerve performance occasion
identity profession job occupation genre topic process technique skill sport sports music
sound noise voice language behavior behaviour appearance ambience ambiance vibe vibes climate
scenery surroundings surrounding landscape nationality ethnicity personality attitude tone feel
scenario context story plot meaning message impression perspective composition brand material
texture pattern design breed species name title price cost value
game match race competition contest tournament championship ceremony concert party wedding
celebration festival lesson tutorial demonstration exercise workout routine practice session
interview presentation conversation discussion song score hobby
night morning evening afternoon daytime nighttime day noon midnight movie film recording gif
""".split())

def is_abstract(word: str) -> bool:
    """A noun for a property, not a thing one can outline: the scene-property words of
    ``GENERIC_NOUNS`` ("weather", "scenery") and nouns the lexicon shows are made from an
    adjective by "-ness" or "-ity" ("friendliness" from "friendly", "nationality" from
    "national", "humidity" from "humid"; "harness", "witness", "university" are not); the
    object list wins."""
    if word in GENERIC_NOUNS:
        return True
    if word in NOUNS or len(word) < 7 or "NOUN" not in parts_of_speech(word):
        return False
    if word.endswith("ness"):
        stem = word[:-4]
        stems = (stem, stem[:-1] + "y" if stem.endswith("i") else stem)
    elif word.endswith("ity"):
        stem = word[:-3]
        stems = (stem, stem + "e")
    else:
        return False
    return any("ADJ" in parts_of_speech(s) for s in stems)


# the first part of a place adverb ("upstairs", "downhill", "overhead", "underwater", "outdoors")
_PARTICLE_PREFIXES = ("up", "down", "over", "under", "out", "in", "off")
_DIRECTION_SUFFIXES = ("ward", "wards", "wise", "ways")


def is_adverb(word: str) -> bool:
    """A word the lexicon knows as an adverb of direction or place, never an object:

    * "-ward(s)", "-wise", "-ways" words that are no noun ("skyward", "clockwise",
      "sideways"; "reward", "coward", "hallways" are nouns);
    * a spatial particle joined to a word ("upstairs", "downstream", "overhead",
      "underwater", "outdoors") that the lexicon lists as an adverb;
    * a word the lexicon knows only as an adverb ("abroad", "ashore").
    Words of the object list are never adverbs.
    """
    if word in NOUNS or len(word) < 5:
        return False
    pos = parts_of_speech(word)
    if word.endswith(_DIRECTION_SUFFIXES) and len(word) >= 6 and "NOUN" not in pos:
        return True
    if "ADV" not in pos:
        return False
    if pos <= {"ADV"}:
        return True
    return len(word) >= 6 and word.startswith(_PARTICLE_PREFIXES)


# compounds that contain a word from another list ("stop sign", "hot dog"): kept together
COMPOUNDS = (
    "stop sign", "traffic light", "fire hydrant", "parking meter", "teddy bear", "hot dog",
    "hair drier", "cell phone", "tennis racket", "baseball bat", "baseball glove",
    "sports ball", "wine glass", "dining table", "potted plant", "running shoe",
    "skateboard ramp", "light pole", "street light", "ice cream", "play ground",
    "left hand", "right hand", "left arm", "right arm", "left leg", "right leg",
    "parking lot", "shot put", "tank top", "front door", "back door", "back seat",
    "front seat", "front wheel", "back wheel", "rear wheel", "back pack",
)

# ----------------------------------------------------------------------------- normalising
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")  # terminal escape sequences
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def strip_control(text: str) -> str:
    """Remove control and invisible formatting characters; tabs and newlines become spaces."""
    text = _ANSI.sub("", str(text))
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return _CONTROL.sub("", text)


def normalize(text: str) -> str:
    """Lower-case ASCII text with unified quotes and single spaces (accents dropped)."""
    text = strip_control(text)
    text = unicodedata.normalize("NFKD", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("colour", "color").replace("grey", "gray")
    text = _CONTRACTION_IS.sub(r"\1 is", text)
    text = text.replace("n't", " not").replace("'re ", " are ").replace("'ll ", " will ")
    return " ".join(text.split())


_CONTRACTION_IS = re.compile(r"\b(where|what|who|how|there|that|it|here|when|which|why)'s\b")


_WORD = re.compile(r"\d+(?:\.\d+)?|[a-z0-9]+(?:'[a-z]+)?")  # decimals stay whole
_PLURAL_POSSESSIVE = re.compile(r"(?<=[a-z]s)'(?![a-z])")


def words(text: str) -> list[str]:
    """Word tokens of normalised text (letters/digits; "dog's" stays one word)."""
    return _WORD.findall(_PLURAL_POSSESSIVE.sub("", text))


# ----------------------------------------------------------------------------- typo repair
# Question keywords: a word one edit away from one of these (and not a known word) is repaired.
KEYWORDS = (
    "how", "many", "much", "what", "where", "when", "which", "color", "long", "there", "appear",
    "appears", "visible", "direction", "moving", "move", "moves", "left", "right", "bigger",
    "larger", "smaller", "faster", "slower", "segment", "describe", "happening", "count",
    "number", "going", "heading", "disappear", "disappears", "leave", "leaves", "above",
    "below", "between", "touching", "near", "next", "seconds", "first", "second", "third",
    "bottom", "top", "center", "middle", "video", "frame",
)
_SHORT_TYPOS = {
    "hw": "how", "hwo": "how", "ho": "how", "mny": "many", "mnay": "many", "manny": "many",
    "wat": "what", "wht": "what", "whta": "what", "waht": "what", "wher": "where",
    "whre": "where", "wehre": "where", "whn": "when", "wen": "when", "wich": "which",
    "whcih": "which", "teh": "the", "hte": "the", "thr": "the", "ther": "there",
    "thre": "there", "tehre": "there", "si": "is", "isthere": "is there", "r": "are",
    "u": "you", "colr": "color", "clor": "color", "collor": "color", "culor": "color",
    "lft": "left", "rght": "right", "rigth": "right", "dose": "does", "deos": "does",
    "dos": "does", "appaer": "appear", "apear": "appear", "apper": "appear",
    "howmany": "how many",
    "largr": "larger", "biger": "bigger",
    "smaler": "smaller", "fastr": "faster", "hapening": "happening", "happenning": "happening",
    "whats": "what is", "wheres": "where is", "hows": "how is", "whos": "who is",
}


def _edits1(word: str, *, substitute: bool) -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}  # transposition
    out |= {a + c + b for a, b in splits for c in letters}  # a missing letter
    out |= {a + b[1:] for a, b in splits if b and len(word) >= 6}  # one extra letter
    if substitute:
        out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    return out


@lru_cache(maxsize=1)
def _dictionaries() -> tuple[frozenset, frozenset]:
    nouns = set(NOUNS) | {plural(n) for n in NOUNS}
    known = (nouns | set(STOP) | set(VERBS) | set(COLOR_WORDS) | set(SIZE_WORDS)
             | set(SPACE_WORDS) | set(TIME_WORDS) | set(GENERIC_NOUNS) | set(KEYWORDS)
             | set(OTHER_ADJECTIVES) | set(ING_NOUNS) | set(ED_NOUNS))
    return frozenset(nouns), frozenset(known)


def is_known(word: str) -> bool:
    """Whether ``word`` is in the parser's vocabulary (so it is never 'repaired')."""
    return word in _dictionaries()[1]


@lru_cache(maxsize=4096)
def fix_typo(word: str) -> str:
    """Repair a misspelt question keyword ("hw" -> "how", "whre" -> "where", "dose" -> "does").

    Only a word that is no English word (neither in the parser's lists nor in the ``lemminflect``
    lexicon) is repaired, and only into a question keyword one slip away (a swap, a missing or
    extra letter from length 4, a wrong letter from length 6) when exactly one fits. Object words
    are never changed: a misspelt object is still the user's object ("dgos" stays "dgos", "cock"
    never becomes "clock").
    """
    if not word or word.isdigit() or "'" in word or is_known(word):
        return word
    if word in _SHORT_TYPOS:
        return _SHORT_TYPOS[word]
    if len(word) < 4 or parts_of_speech(word):
        return word
    cands = sorted(k for k in _edits1(word, substitute=len(word) >= 6) if k in KEYWORDS)
    return cands[0] if len(cands) == 1 else word
