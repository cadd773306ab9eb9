"""Observable cues in a reply: questions, reflection stems, feeling words, offers of help, pitfalls.

Every cue is a regular expression whose matches are verbatim spans of the reply, so they double as
evidence. ``extract`` turns a reply (and what the other person said before it) into a small
numeric feature vector that the fitted model combines with sentence embeddings; the same cues are
the whole scorer when no embedder is available. Patterns are written for English and matched
case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Cue:
    """A named pattern and the rubric dimensions (or pitfalls) it is evidence for."""

    name: str
    pattern: re.Pattern[str]
    supports: tuple[str, ...]
    lower_pattern: re.Pattern[str]
    """The same pattern without IGNORECASE, for lower-cased text: about twice as fast, and every
    reply and sentence the scorer rates runs all the cues (a test checks the patterns hold no
    upper-case letters, which lower-cased text would never match)."""


def _cue(name: str, regex: str, *supports: str) -> Cue:
    return Cue(name, re.compile(regex, re.IGNORECASE), supports, re.compile(regex))


_FEELINGS = (
    r"(?:stress(?:ed|ful)?|overwhelm(?:ed|ing)?|exhaust(?:ed|ing)|tired|drained|burn(?:ed|t) out|"
    r"frustrat(?:ed|ing)|angry|upset(?:ting)?|hurt(?:ful)?|sad|down|low|lonely|alone|isolated|"
    r"worr(?:ied|ying)|anxious|anxiety|scared|afraid|frightened|nervous|panick(?:ed|y)|"
    r"ashamed|embarrass(?:ed|ing)|guilty|helpless|hopeless|disappoint(?:ed|ing)|"
    r"devastat(?:ed|ing)|heartbroken|grief|griev(?:ing|e)|depressed|miserable|"
    r"annoy(?:ed|ing)|fed up|hard|tough|difficult|painful|awful|horrible|terrible|"
    r"unfair|invisible|unappreciated|undervalued|let down|betrayed|confus(?:ed|ing)|"
    r"torn|stuck|trapped|relieved|proud|happy|glad|excited|shattered|gutted|rough)"
)

# Open questions start with a wh-word or an invitation; closed ones with an auxiliary verb.
_OPEN_Q = (
    r"(?:^|[.!?]\s+|,\s*|\band\s+|\bso\s+)(?:what|how|why|which|where|who|when|tell me|talk me)"
    r"\b[^.!?]*\?"
)
_CLOSED_Q = (
    r"(?:^|[.!?]\s+)(?:did|do|does|is|are|was|were|can|could|will|would|have|has|had|should|"
    r"shall|may|might)\b[^.!?]*\?"
)

CUES: tuple[Cue, ...] = (
    # attending: inviting the other to speak, making time
    _cue("open_question", _OPEN_Q, "attending", "understanding"),
    _cue("closed_question", _CLOSED_Q, "attending"),
    _cue(
        "feeling_question",
        r"\bhow (?:are|have) you (?:been )?(?:feeling|doing|holding up|coping|managing)\b[^.!?]*",
        "attending",
        "empathising",
    ),
    _cue(
        "invitation",
        r"\b(?:tell me (?:more|about|what)|talk me through|walk me through|i(?:'m| am) (?:here|"
        r"listening)|(?:i've|i have) got time|take your time|no rush|i want to hear|"
        r"go on|in your own words|what(?:'s| is) (?:been )?(?:going on|happening|on your mind))\b"
        r"[^.!?]*",
        "attending",
        "understanding",
    ),
    _cue(
        "task_question",
        r"\b(?:did|have|has|can|could|will) you (?:finish(?:ed)?|done|send|sent|do|complete|"
        r"submit|get the|cover|fill)\b[^.!?]*\?",
        "task",
    ),
    # understanding: paraphrase, reflection, checking
    _cue(
        "reflection_stem",
        r"\b(?:it |that )?(?:sounds|seems|looks) (?:like|as if|as though)\b[^.!?]*|"
        r"\bso (?:you(?:'re| are)?|what you're|it's|basically|the)\b[^.!?]*|"
        r"\bwhat i(?:'m| am)? hear(?:ing)?\b[^.!?]*|\bif i(?:'ve| have)? (?:understood|understand|"
        r"got (?:this|that|it)) (?:right|correctly)\b[^.!?]*|\byou(?:'re| are) saying\b[^.!?]*|"
        r"\byou (?:mentioned|said|told me)\b[^.!?]*",
        "understanding",
    ),
    _cue(
        "check",
        r"\b(?:is that right|have i got that right|did i get that right|is that it|"
        r"am i right|is that what you mean|is that correct|do i have that right|"
        r"is that fair|right\?|correct me if|"
        r"if i (?:heard|understood|understand|am hearing|'m hearing) (?:you |that |this |it )?"
        r"(?:correctly|right)|(?:hope|hoping) i (?:understood|got|heard) (?:that|it|you|this)|"
        r"let me (?:see if|make sure|check) i)",
        "understanding",
    ),
    _cue(
        # A statement asked as a question ("You think the move made it worse?") checks what was
        # heard; a question that opens with a wh-word or an auxiliary asks for something new.
        "declarative_check",
        r"(?:^|[.!?]\s+)(?:so |and |oh,? |ok(?:ay)?,? )?(?:you|your|it's|that's|they|he|she)\b"
        r"[^.!?]*\?",
        "understanding",
    ),
    _cue(
        "understand_claim",
        r"\bi (?:completely |totally |fully )?(?:understand|know how you feel|know what you mean|"
        r"get it|see)\b[^.!?]*",
        "understanding",
        "empathising",
    ),
    _cue("you_feel", r"\byou(?:'re| are)? (?:feel(?:ing)?|felt)\b[^.!?]*", "empathising"),
    # empathising: naming feelings, sympathy, affirmation
    _cue("feeling_word", r"\b" + _FEELINGS + r"\b", "empathising"),
    _cue(
        "sympathy",
        r"\b(?:i(?:'m| am) (?:so |really |very )?sorry|sorry (?:to hear|you)|that must (?:be|have)|"
        r"must (?:be|have been|feel)|i can (?:only )?imagine|i can see (?:why|how|that)|"
        r"(?:that's|that is|it's|it is) (?:completely |totally |very )?(?:understandable|natural|"
        r"normal|okay|ok) to|makes sense (?:that|you)|no wonder|of course you)\b[^.!?]*",
        "empathising",
    ),
    _cue(
        "affirmation",
        r"\b(?:you(?:'re| are) (?:doing|not alone|not a failure|clearly|obviously) |"
        r"you(?:'re| are) (?:so |very |really )?(?:strong|brave|capable|resilient|kind|caring|"
        r"smart|good|amazing) |"
        r"you(?:'ve| have) (?:done|been|worked|handled|shown)|i believe (?:in )?you|proud of you|"
        r"(?:good|great|brave|strong) (?:of you|that you|thing)|thank you for (?:telling|sharing|"
        r"being|trusting)|i(?:'m| am) glad you|i appreciate|you (?:will|'ll|can) (?:do|get|make|"
        r"find|be)\b|(?:shows|means) (?:that )?you|i wish you|i have faith|where you(?:'re| are) "
        r"coming from|(?:that's|that is|sounds like|what) (?:a |such a )?(?:good|great|wise|smart|"
        r"healthy|positive) (?:idea|plan|step|start|choice|decision|impulse|habit|attitude|"
        r"thing|way))[^.!?]*",
        "empathising",
    ),
    _cue(
        # A reflection that names a feeling ("sounds like you're exhausted") shows empathy more
        # than it restates the situation; a stem without a feeling word is a restatement.
        "feeling_reflection",
        r"\b(?:(?:it |that )?(?:sounds|seems|looks)(?: like| as if)?|you (?:sound|seem|must (?:be|"
        r"have been|feel))|you(?:'re| are) (?:feeling|probably|clearly|so|really)|you feel)"
        r"\s+(?:[\w']+\s+){0,4}?" + _FEELINGS + r"\b[^.!?]*",
        "empathising",
    ),
    _cue(
        "reassurance",
        r"\b(?:you(?:'ll| will) (?:be (?:ok|okay|fine|alright)|get through|make it|figure)|"
        r"i(?:'m| am) sure (?:you|it|things|they)|(?:it|things|everything)(?:'ll| will) (?:be|get|"
        r"work) (?:ok|okay|fine|alright|better|out)|(?:you're|you are) not alone|we(?:'re| are) "
        r"all in this|hang in there|stay strong|you can do (?:it|this)|i hope (?:you|things|it|"
        r"everything)|good luck|best wishes|take care|you deserve|don'?t be (?:too |so )?hard on "
        r"yourself)\b[^.!?]*",
        "empathising",
    ),
    # helping: offers, suggestions, information
    _cue(
        "offer",
        # "I can understand" / "I could imagine" are sympathy, not an offer of help.
        r"\b(?:i(?:'ll| will| can| could)(?! (?:only |totally |definitely |really |not |also )?"
        r"(?:understand|imagine|see|tell|relate|hear|feel|sense|empathi[sz]e|picture|believe))|"
        r"let me|i(?:'m| am) going to|we (?:can|could|'ll|will)|"
        r"let's|shall i|shall we|would it help|can i (?:help|take|do|get|sort|cover|move|ask)|"
        r"how can i (?:help|support)|what (?:would|could|can) (?:help|make|i do)|"
        r"what do you need)\b[^.!?]*",
        "helping",
    ),
    _cue(
        "suggestion",
        r"\b(?:(?:you )?(?:should|could|might (?:want|try|consider))|maybe (?:you|try)|perhaps|"
        r"(?:have|did) you (?:tried|thought about|considered|looked into|spoken|talked)|"
        r"try(?:ing)? (?:to )?|(?:i(?:'d| would)) (?:suggest|recommend)|my advice|"
        r"it (?:might|may|could|can) (?:help|be worth)|how about|what about|why not|"
        r"(?:reach|speak|talk) (?:out )?to|consider|if i were you|"
        r"what (?:helped|worked) (?:for )?me|"
        r"i would (?:try|talk|tell|start|go|look|write|speak|reach))\b[^.!?]*",
        "helping",
    ),
    _cue(
        "information",
        r"\b(?:(?:many|most|some|a lot of) people|there (?:are|is) (?:a |an |some |lots )|"
        r"research|studies|it(?:'s| is) (?:common|normal) (?:for|to)|can take|usually|"
        r"the policy|occupational health|employee assistance|counsel(?:l)?(?:or|ing)|"
        r"therap(?:y|ist)|helpline|hr\b|doctor|support group)\b[^.!?]*",
        "helping",
    ),
    _cue(
        "resource",
        r"\b(?:cover|rota|time off|leave|deadline|extension|workload|shift|overtime|budget|"
        r"training|swap|reassign|take (?:over|on)|hand over|flexible|day off|break)\b",
        "helping",
    ),
    # small talk: greetings, thanks and goodbyes show none of the behaviours on their own
    _cue(
        "pleasantry",
        r"\b(?:hi|hello|hey|good (?:morning|afternoon|evening|night)|bye|goodbye|"
        r"you(?:'re| are) (?:very |so |most )?welcome|your welcome|no problem|my pleasure|"
        r"have a (?:good|great|nice|lovely|wonderful) (?:day|night|evening|weekend)|"
        r"nice (?:to|talking)|thanks? (?:you )?for (?:chatting|talking))\b[^.!?]*",
        "small-talk",
    ),
    # pitfalls
    _cue(
        "dismissing",
        r"\b(?:(?:it's|it is|that's|that is) (?:not|no) (?:a )?big deal|calm down|"
        # "trying to move on" praises a step they are taking; "just move on" brushes them off.
        r"get over it|(?<!trying to )(?<!ready to )(?<!able to )(?<!want to )(?<!help you )"
        r"move on|could (?:be|have been) (?:a lot |much )?worse|at least|"
        r"look on the bright side|don'?t be (?:so )?(?:silly|dramatic|sensitive)|"
        r"(?:you're|you are) overreacting|everyone (?:has|goes through|deals with|is)|"
        r"that's (?:just )?(?:life|how it is|the job)|stop (?:worrying|complaining)|"
        r"it's (?:only|just) (?:one|a)|toughen up|man up|no point (?:in )?(?:crying|worrying)|"
        r"(?:is ?n[o']t|not) (?:a |that )?big deal|pull yourself together|(?<!the )part of the job|"
        r"(?:you'll|you will) get used to|(?:crying|worrying|moaning|complaining) (?:won't|"
        r"doesn't|will not|isn't going to)|won't change anything|make a (?:drama|fuss|scene)|"
        r"(?:his|her|their) time\b|you can't hide|not just you|everyone's got|"
        r"get back (?:out )?there|(?:nothing|not something) (?:we|the \w+) can (?:plan|do))\b"
        r"[^.!?]*",
        "dismissing",
    ),
    _cue(
        "blaming",
        # "It's not your fault" and "you never know" reassure; they blame no one.
        r"\b(?:you should(?:n't)? have|(?:it's|it is|that's|that is) (?:your (?:own )?(?:fault|"
        r"problem|mess|doing|lookout|responsibility)|on you)|"
        r"(?<!not )(?<!nt )(?<!n't )(?<!n\u2019t )(?<!never )your (?:own )?fault|"
        r"why (?:didn't|did|would|don't) you|what did you expect|you (?:always|never(?! know))|"
        # "If you'd want it" and "if you'd like" offer; "if you'd checked" blames.
        r"if you had|if you'd(?! (?:want|like|prefer|rather|be (?:happy|ok|okay|up for)))|"
        r"you brought (?:this|it)|you need to (?:stop|sort yourself)|"
        r"(?:manage|managed|organise|organised|plan|planned) your (?:time|day|work|workload) "
        r"better|stop (?:snapping|moaning)|you (?:should|ought to) (?:know|have known) better|"
        r"you wouldn't (?:keep|have|be))\b[^.!?]*",
        "blaming",
    ),
    _cue(
        "self_focus",
        r"\b(?:when i was|i (?:had|went through|remember when|used to)|same (?:thing )?"
        r"(?:here|happened to me|with me)|that's nothing|try being me|my (?:week|day|job|"
        r"manager|boss|last job|own)|i(?:'m| am) (?:stressed|tired|busy|exhausted) too|"
        r"let me tell you about|happened to me|me too)\b[^.!?]*",
        "making-it-about-yourself",
    ),
    _cue(
        "quick_fix",
        # "Just wanted to say ..." and "Just from listening to you ..." are not fixes.
        r"(?:^|[.!?]\s+)(?:just|simply) (?!from\b|wanted\b|checking\b|to say\b)[a-z]+\b[^.!?]*|"
        r"\b(?:easy fix|simple (?:fix|answer)|"
        r"problem solved|sorted|next\?)",
        "premature-fixing",
    ),
)
CUE_NAMES: tuple[str, ...] = tuple(c.name for c in CUES)

_MORE_FEELINGS = (
    r"(?:stung|sting|kick in the teeth|humiliat(?:ed|ing)|mortif(?:ied|ying)|disheart(?:ened|"
    r"ening)|"
    r"demoralis(?:ed|ing)|demoraliz(?:ed|ing)|intimidat(?:ed|ing)|lonely|isolat(?:ed|ing)|"
    r"frighten(?:ed|ing)|hurtful|crushing|crushed|unnoticed|unsettl(?:ed|ing)|rattled|shaken|"
    r"heartbreaking|" + _FEELINGS[3:-1] + r")"
)

RULE_CUES: tuple[Cue, ...] = (
    # Cues the scorer reads after the fitted model, never as its features (so adding one does
    # not change what the model learnt): gates (a reply that is mainly a pitfall shows nothing)
    # and floors (what the rubric's level descriptors name outright).
    _cue(
        "time_giving",
        r"\b(?:take (?:all )?(?:the |as much |as long as |your )?(?:time|long)(?: you need)?|"
        r"no (?:rush|hurry)|there(?:'s| is) no (?:rush|hurry)|i(?:'ve| have) (?:got )?(?:all "
        r"(?:afternoon|day|morning|the time)|time|plenty of time)|i(?:'ve| have) (?:cleared|blocked"
        r"(?: out)?|freed up) (?:the |my |some |an? |this )?(?:next )?(?:\w+ )?(?:hour|time|"
        r"afternoon|diary|minutes)|i(?:'m| am) not going anywhere|i(?:'m| am) (?:here|listening)"
        r"(?: for you)?|as long as you need|(?:start|go) wherever you like|carry on)\b[^.!?]*",
        "attending",
    ),
    _cue(
        "encourager",
        r"^\W*(?:and|go on|yes|oh|meaning|say more(?: about that)?|tell me about it|"
        r"tell me more(?: about that)?|and then|really|mm+ ?hm+|keep going)\W*$",
        "attending",
    ),
    _cue(
        "sympathy_word",
        r"^\W*(?:oh no|oof|ouch|oh dear|oh god|ugh|sorry|oh,? i'm sorry|bless you|oh mate)\W*$",
        "empathising",
    ),
    _cue(
        "named_feeling",
        r"\b(?:(?:that|it|this)(?: must (?:have )?(?:been|be|feel|felt|have)| sounds?| seems?| is|"
        r" was|"
        r"'s)|you (?:sound|seem|must (?:be|have been|feel))|(?:sounds|seems) like (?:you(?:'re|"
        r" are|"
        r"'ve been| have been)|it(?:'s| was| has been))(?: feeling)?|(?:understandable|natural|"
        r"normal) to feel|you(?:'re| are) (?:feeling|really|so))\s+(?:[\w']+\s+){0,4}?"
        + _MORE_FEELINGS
        + r"\b[^.!?]*",
        "empathising",
    ),
    # pitfalls, beyond the ones the fitted model reads
    _cue(
        "dismissing_more",
        r"\b(?:(?:everyone|everybody)(?:'s| is) (?:stressed|tired|busy|exhausted|struggling|"
        r"knackered|in the same boat)|we(?:'re| are) all (?:exhausted|tired|stressed|busy|"
        r"knackered)|"
        r"you(?:'re| are) not special|join the club|happens to (?:all of us|everyone|everybody)|"
        r"next (?:call|patient|customer|one)\b|part and parcel|chin up|let'?s not dwell|"
        r"(?:let|letting) it go|it was (?:weeks|ages|months|years|days) ago|just ignore (?:it|"
        r"them)|"
        r"that'?s (?:kitchens|hospitals|retail|teaching|tech|nursing|care work|schools|warehouses|"
        r"call centres|councils|labs|academia|science) for you|(?:it's|it is) (?:only|just) a "
        r"little|you(?:'re| are) (?:fine|grand|ok|okay)\b|don'?t take it personally|"
        r"(?:kids|families|customers|reviews|complaints|residents|chefs|callers) (?:are|will be) "
        r"(?:kids|families|customers|reviews|complaints|residents|chefs|callers)|families moan|"
        r"oh,? come on|relax\b|^\W*whatever\b|wrap this up|^\W*anyway\b|moving on\b|"
        r"i don'?t (?:need|want) (?:the|all the|your) (?:detail|details|life story|excuses)|"
        r"^\W*(?:right|ok(?:ay)?|hmm)[,.!]+ (?:the|about|has anyone)|has anyone seen|"
        r"agenda item|nobody cares|poor you|what a tragedy|shall i call the|gold star|diddums|"
        r"get you a medal|boo hoo|cry me a river|welcome to the real world|want a hug|\bgenius\b|"
        r"the only one who'?s ever|don'?t we all|sure,? and i'?m|(?:it|this|that)(?:'s| is)? not "
        r"that (?:big|bad)|(?:isn't|is not) that (?:big|bad))[^.!?]*",
        "dismissing",
    ),
    _cue(
        "blaming_more",
        r"\b(?:you (?:rushed|overcooked|forgot|lost it|weren't (?:concentrating|paying attention|"
        r"careful|listening)|didn't (?:check|test|plan|listen|think)|must have left|promised "
        r"them|had it coming|brought it on)|you missed (?:three|two|another|the deadline|"
        r"(?:\w+ )?meetings)|typical\W*$|what did you (?:think|expect)|(?:that's|this is) what "
        r"happens when you|if you were (?:more|less)|(?:people|everyone|they)(?:'ve|"
        r" have)? (?:been )?"
        r"complaining about you|(?:it's|that's) not on\b|can you blame|you(?:'re| are) the adult|"
        r"(?:that's|it's) your (?:problem|mess|responsibility)|because you (?:spend|always|never|"
        r"keep)|"
        r"why would you|you need to (?:stop|sort|get|learn|grow)|sort (?:yourself|your \w+) out)"
        r"[^.!?]*",
        "blaming",
    ),
    _cue(
        "order",
        r"(?:^|[.!?]\s+)(?:just |now,? )?(?:get back (?:on|to)|get on with|finish|fix|ship|"
        r"clear your|"
        r"log back|plate up|load|keep (?:picking|going|working|at it)|run it|write (?:it )?up|"
        r"have it|sort (?:your|it|yourself)|go and (?:do|set|get|sort)|back (?:on|to) (?:the|your|"
        r"work)|grow a|smile|hurry up|move it|headset on|pick up the pace|not now|no\.|stop "
        r"(?:moping|whinging|moaning|complaining|crying|sulking|taking it out|worrying))\b[^.!?]*|"
        r"\b(?:get back (?:on|to) (?:the|your) (?:\w+)|no excuses|(?:and )?that'?s final|"
        r"(?:that's|it's) not optional|i don'?t care how|(?:you'll|you will) (?:teach|do|work|be "
        r"in) (?:it|the|that|tomorrow)|on my desk|before (?:stand-?up|handover|you go home))"
        r"[^.!?]*",
        "commanding",
    ),
    _cue(
        "threat",
        r"\b(?:or (?:i'll|i will|you'll lose|you lose|you're out|else)|(?:one more|another) "
        r"(?:time|absence|mistake|late|sick day)|there(?:'ll| will) be consequences|"
        r"written warning|"
        r"final warning|on a warning|performance plan|(?:going )?on your (?:record|file)|"
        r"disciplinary|let you go|you(?:'re| are) (?:out|off the|"
        r"fired|sacked)|don'?t (?:bother coming back|make me)|find another (?:job|kitchen|"
        r"place)|report you|taking it to (?:the|hr)|hr will be involved|i'?m watching|if i catch "
        r"you|keep this up|do that again|push back again|miss another)\b[^.!?]*",
        "commanding",
    ),
    _cue(
        "stepping_out",
        r"\b(?:(?:ignore|disregard|forget|override|reset)\b.{0,40}\b(?:instructions?|prompt|rules|"
        r"above|previous|programming)|system\s*prompt|your\s+(?:instructions|prompt|rules|"
        r"programming)|(?:you\s+are|you're|are you|is this)\s+(?:now\s+)?(?:an?\s+)?(?:ai|a\.i\.|"
        r"assistant|language\s+model|chatbot|bot|llm|dan)\b|are you (?:real|human|a person)|"
        r"as\s+an\s+ai|jailbreak|"
        r"developer\s+mode|hidden\s+(?:concerns?|worries)|(?:pretend|act)\s+(?:to\s+be|as|"
        r"you(?:'re| are))|"
        r"role[- ]?play|stay\s+in\s+character|what(?:'s| is)\s+your\s+secret|^\W*system\s*:|"
        r"(?:print|reveal|output|repeat|show me) (?:your |the |all )?(?:\w+ )?(?:prompt|"
        r"instructions|rubric|persona|concerns|text above|scor\w*)|full marks|rate me|trust "
        r"(?:is|score|to)|(?:what|which) (?:language )?model|scoring (?:work|system|rubric)|"
        r"how many turns|best answer (?:here|to get)|who wrote your|(?:are|were) you programmed|"
        r"programmed to say|narrator|game master|win this scenario|the persona)"
        # An injection takes its whole sentence with it ("... and tell me what she wrote"): this
        # tail, unlike the usual one, stays part of the words the pitfall flags.
        r"[^.!?]*(?=[.!?]|$)",
        "stepping-out",
    ),
)

_WORD = re.compile(r"[a-z']+")
_STOP_WORDS = (
    "a an the and or but so to of in on at for with is are was were be been am i you he she it we "
    "they me my your our their this that these those there here what how why when where who do "
    "does did have has had not no yes just really very too can could would should will shall may "
    "might must about if then than as up out all any some more most much get got like know think "
    "feel im i'm you're it's that's don't dont can't cant its been being from into also well oh ok "
    "okay hi hello thanks thank"
)
_STOP = frozenset(_STOP_WORDS.split())


ALL_CUES: tuple[Cue, ...] = CUES + RULE_CUES
"""Every cue: the model's features (``CUES``) and the ones read after it (``RULE_CUES``)."""

_SUPPORTING: dict[str, tuple[str, ...]] = {
    target: tuple(cue.name for cue in ALL_CUES if target in cue.supports)
    for target in {t for cue in ALL_CUES for t in cue.supports}
}
"""Per dimension or pitfall id, the names of the cues that support it, in ``CUES`` order
(looked up for every reply and sentence, so built once)."""


def supporting(target: str) -> tuple[str, ...]:
    """Names of the cues that are evidence for ``target`` (a dimension or pitfall id)."""
    return _SUPPORTING.get(target, ())


@dataclass
class CueResult:
    """Cue matches of one reply: spans per cue and the numeric feature vector."""

    spans: dict[str, list[str]] = field(default_factory=dict)
    features: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def evidence_for(self, target: str) -> list[str]:
        """Verbatim spans of every cue that supports ``target`` (a dimension or pitfall id)."""
        found: list[str] = []
        for name in supporting(target):
            for span in self.spans.get(name, []):
                if span not in found:
                    found.append(span)
        return found


def content_words(text: str) -> set[str]:
    """Lower-cased words of a text without stop words (used for reply/context overlap)."""
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


EXTRA_FEATURES: tuple[str, ...] = (
    "question_marks",
    "ends_with_question",
    "n_sentences",
    "log_words",
    "first_person_share",
    "second_person_share",
    "context_overlap",
    "context_overlap_share",
    "context_empty",
    "context_has_question",
    "context_feeling",
    "context_asks_advice",
    "context_greeting",
    "context_thanks",
)
FEATURE_NAMES: tuple[str, ...] = CUE_NAMES + EXTRA_FEATURES
_FEATURE_CUES = frozenset(CUE_NAMES)

_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_ADVICE = re.compile(
    r"\b(?:what (?:should|can|do) i|any (?:advice|tips|ideas|suggestions)|how (?:do|can|should) i|"
    r"what would you)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\W*(?:hi|hello|hey|good (?:morning|afternoon|evening))\b", re.IGNORECASE)
_THANKS = re.compile(r"\b(?:thanks|thank you|bye|goodbye|appreciate)\b", re.IGNORECASE)
_FEELING_RE = re.compile(r"\b" + _FEELINGS + r"\b", re.IGNORECASE)


_SPAN_START = re.compile(r"^[^\w\"'\u2018\u201c(]+")


def trim_span(span: str) -> str:
    """A span without leading punctuation or surrounding spaces, so that it starts at a word or a
    quote (``". What's up?"`` becomes ``"What's up?"``); the result is a substring of ``span``."""
    return _SPAN_START.sub("", span.strip()).rstrip(" ,;:-\u2013\u2014")


def _clean_span(span: str) -> str:
    return trim_span(span)


_TRAILING_PUNCTUATION = " \t\r\n.,;:!?\u2026-\u2013\u2014"


def _span_key(span: str) -> str:
    """The words a span quotes: lower-cased, spaces collapsed, trailing punctuation dropped."""
    return " ".join(span.split()).rstrip(_TRAILING_PUNCTUATION).lower()


def _within(inner: str, outer: str) -> bool:
    """Whether the key ``inner`` occurs in ``outer`` as whole words ("hard" is not in "hardly")."""
    # str.find, not a regex built per call: the scorer asks this for every pair of evidence
    # spans of every reply, and compiling thousands of one-off patterns showed in the bench.
    start = outer.find(inner)
    while start != -1:
        end = start + len(inner)
        before = outer[start - 1] if start else " "
        after = outer[end] if end < len(outer) else " "
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            return True
        start = outer.find(inner, start + 1)
    return False


def distinct_spans(spans: list[str]) -> list[str]:
    """Evidence spans that each quote different words, in order.

    Spans that differ only by case, surrounding spaces or trailing punctuation, or where one
    contains the other, quote the same words: only the longer is kept, verbatim (so it stays a
    substring of the reply), where the first of them stood. The scorer and the debrief both use
    this, so a clause and the sentence around it are never shown side by side.
    """
    out: list[str] = []
    for span in spans:
        key = _span_key(span)
        if not key:
            continue
        keys = [_span_key(kept) for kept in out]
        covering = next((i for i, kept in enumerate(keys) if _within(key, kept)), None)
        if covering is not None:
            # Same words: prefer the fuller spelling ("... makes sense." over "... makes sense").
            if key == keys[covering] and len(span.strip()) > len(out[covering].strip()):
                out[covering] = span
            continue
        absorbed = [i for i, kept in enumerate(keys) if _within(kept, key)]
        if not absorbed:
            out.append(span)
            continue
        out[absorbed[0]] = span
        for i in reversed(absorbed[1:]):
            del out[i]
    return out


def extract(reply: str, context: str = "") -> CueResult:
    """Find every cue in a reply and build its feature vector.

    Args:
        reply: The learner's reply.
        context: What the other person said just before (may be empty).

    Returns:
        The verbatim spans per cue name and a float32 vector ordered as ``FEATURE_NAMES``.
    """
    spans: dict[str, list[str]] = {}
    values: list[float] = []
    lowered = reply.lower()
    # Lower-casing keeps offsets in all but a few scripts (e.g. a dotted capital I becomes two
    # characters); there the case-insensitive patterns run on the reply itself.
    same_offsets = len(lowered) == len(reply)
    for cue in ALL_CUES:
        matches = (
            cue.lower_pattern.finditer(lowered) if same_offsets else cue.pattern.finditer(reply)
        )
        found = [_clean_span(reply[m.start() : m.end()]) for m in matches]
        found = [s for s in found if s and s in reply]
        if found:
            spans[cue.name] = found
        if cue.name in _FEATURE_CUES:
            values.append(min(len(found), 3) / 3.0 if found else 0.0)
    words = _WORD.findall(reply.lower())
    n_words = max(len(words), 1)
    sentences = [s for s in _SENTENCE.findall(reply) if s.strip()]
    first = sum(w in {"i", "i'm", "i've", "i'd", "me", "my", "myself"} for w in words)
    second = sum(w in {"you", "you're", "you've", "your", "yourself", "you'd"} for w in words)
    reply_words = content_words(reply)
    ctx_words = content_words(context)
    overlap = len(reply_words & ctx_words)
    values.extend(
        [
            min(reply.count("?"), 3) / 3.0,
            float(reply.rstrip().endswith("?")),
            min(len(sentences), 6) / 6.0,
            float(np.log1p(n_words) / np.log1p(200)),
            first / n_words,
            second / n_words,
            min(overlap, 6) / 6.0,
            overlap / max(len(reply_words), 1),
            float(not context.strip()),
            float("?" in context),
            float(bool(_FEELING_RE.search(context))),
            float(bool(_ADVICE.search(context))),
            float(bool(_GREETING.search(context)) and len(context) < 60),
            float(bool(_THANKS.search(context))),
        ]
    )
    return CueResult(spans=spans, features=np.asarray(values, dtype=np.float32))


def sentences(text: str) -> list[str]:
    """Split a reply into verbatim sentences (each a substring of ``text``)."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
