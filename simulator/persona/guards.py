"""Every pattern the persona reads, in one place: what the trainee's line is, and what a reply
may not be.

Input side (the trainee's line): a prompt injection, a rebuke, a question (open or specific), an
offer of help, a closing summary. The director reads these to decide what to say.

Output side (a generated candidate): assistant-speak, role reversal (comforting, praising,
advising or pitying the manager), talk about instructions, leaving the scene, unfinished
fragments, repeats and near-repeats of what was already said, parroting. ``guard`` says why a
candidate may not be said.

Patterns are public so the evaluation checks a reply with exactly what the engine guards with,
and no module keeps a private copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from simulator.scoring import cues as cue_module

# --------------------------------------------------------------------------- the trainee's line

INJECTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|prompt|rules|above|previous)\b"
    r"|\bsystem\s*prompt\b|\byour\s+(instructions|prompt|rules|programming)\b"
    r"|\b(you\s+are|you're|are\s+you)\s+(an?\s+)?(ai|a\.i\.|assistant|language\s+model|chatbot|bot"
    r"|llm|robot|computer)\b"
    r"|\bas\s+an\s+ai\b|\bjailbreak\b|\bdeveloper\s+mode\b|\bhidden\s+concerns?\b"
    r"|\b(pretend|act)\s+(to\s+be|as)\b|\brole[- ]?play\b|\bstay\s+in\s+character\b"
    r"|\bwhat\s+is\s+your\s+secret\b|\bwhat'?s\s+your\s+secret\b",
    re.IGNORECASE,
)
"""Lines that try to take the persona out of its role; they never reach the model verbatim."""

REBUKE = re.compile(
    r"\beveryone(?:'s| is)\s+(?:busy|stretched|under pressure|in the same boat|tired)\b"
    r"|\bwe(?:'re| are) all\s+(?:busy|stretched|tired|under pressure|in the same boat)\b"
    r"|\b(?:manage|organise|organize|plan)\s+your\s+(?:time|workload|day|shifts?)\s+better\b"
    r"|\bbetter\s+time\s+management\b"
    r"|\byou\s+should\s+(?:know|have known)\s+better\b|\byou\s+know\s+better\b"
    r"|\b(?:going|go)\s+on\s+your\s+(?:record|file)\b|\bformal\s+warning\b|\bdisciplinary\b"
    r"|\bi\s+don'?t\s+(?:need|want)\s+(?:the|all the|your)\s+(?:detail|details|excuses|story)\b"
    r"|\bno\s+excuses\b|\bstop\s+(?:moaning|complaining|whinging|making excuses|snapping)\b"
    r"|\bget\s+on\s+with\s+it\b|\bpull\s+yourself\s+together\b|\bman\s+up\b"
    r"|\bnot\s+my\s+problem\b|\bthat'?s\s+your\s+problem\b|\bdeal\s+with\s+it\b"
    r"|\bit'?s\s+(?:not|hardly)\s+a\s+big\s+deal\b|\bisn'?t\s+(?:a|that)\s+big\s+(?:a\s+)?deal\b"
    r"|\bdon'?t\s+make\s+a\s+(?:drama|fuss|scene)\b|\bmaking\s+a\s+drama\b"
    r"|\bi\s+expect\s+(?:better|more)\b|\bunacceptable\b|\bnot\s+good\s+enough\b"
    r"|\bthat'?s\s+(?:just\s+)?(?:the|part of the)\s+job\b|\bwhat\s+you'?re\s+paid\s+for\b"
    r"|\bgrow\s+up\b|\bcalm\s+down\b|\bjust\s+do\s+(?:it|your job)\b",
    re.IGNORECASE,
)
"""Rebukes and dismissals a colleague hears as being told off (common variants of each)."""

OPEN_QUESTION = re.compile(
    r"\bhow\s+(?:are|have)\s+you\b|\bhow'?s\s+(?:it|things|everything|today|your day)\b"
    r"|\bhow\s+(?:is|has)\s+(?:it|things|everything|today|this week|work)\b"
    r"|\bwhat'?s\s+(?:going on|been going on|happening|been happening|up|wrong|on your mind"
    r"|the matter|really going on|been hard|getting to you)\b"
    r"|\bwhat\s+(?:is|has)\s+(?:going on|been (?:going on|happening|hard)|on your mind|wrong)\b"
    r"|\btell\s+me\s+(?:more|about|what)\b|\bwhat\s+(?:happened|'s\s+happened)\b"
    r"|\bhow\s+(?:do|did)\s+you\s+feel\b|\bhow\s+(?:does|did)\s+(?:that|it)\s+feel\b"
    r"|\bwhat\s+(?:else|has\s+it\s+been\s+like|was\s+it\s+like|(?:is|'s)\s+it\s+like)\b"
    r"|\bwhat\s+(?:would|might|could)\s+(?:help|make a difference|make it easier)\b"
    r"|\bwant\s+to\s+talk\b|\bare\s+you\s+(?:ok|okay|alright|all right)\b",
    re.IGNORECASE,
)
"""Questions that invite the colleague to say what is on their mind (any honest answer fits)."""

ASKS_WHAT_WOULD_HELP = re.compile(
    r"\bwhat\s+(?:would|might|could|will|can)\s+(?:help|make (?:a|the (?:biggest|most)) "
    r"difference|make (?:it|things) easier)\b|\bwhat\s+do\s+you\s+need\b"
    r"|\bwhat\s+(?:can|could|should)\s+(?:i|we)\s+do\b|\bhow\s+can\s+(?:i|we)\s+help\b",
    re.IGNORECASE,
)
"""A question asking what help the colleague wants (answered with what would help)."""

_OFFER = re.compile(
    r"\b(?:i|we)\s+(?:could|can|will|'ll|would|'d)\s+(?!(?:not|never)\b)"
    r"(?!(?:imagine|understand|see|hear|tell|guess|only|just imagine|like to know|"
    r"be wrong|say)\b)"
    r"|\b(?:i|we)'ll\s+(?!(?:see|be|need|have to)\b)|\blet\s+me\s+(?!(?:know|think|see|guess|"
    r"check I|be)\b)"
    r"|\bhow\s+about\s+(?:i|we|if)\b|\bwhat\s+if\s+(?:i|we)\b|\bwould\s+it\s+help\s+if\b"
    r"|\b(?:do|would)\s+you\s+(?:want|like)\s+me\s+to\b|\bshall\s+(?:i|we)\b"
    r"|\bi(?:'ve| have)\s+(?:arranged|booked|asked|spoken|sorted|put you|moved|found)\b"
    r"|\bi(?:'m| am)\s+(?:going\s+to|putting|moving|taking|giving|sending|booking|arranging)\b"
    r"|\bi\s+(?:want|'d like)\s+to\s+(?:offer|give you|put you|move|take)\b"
    r"|\bwhy\s+don'?t\s+(?:i|we)\b|\bwe\s+should\b",
    re.IGNORECASE,
)
SUGGESTION = re.compile(
    r"\bhave\s+you\s+(?:tried|thought\s+(?:about|of)|considered|looked\s+at)\b"
    r"|\bwhy\s+don'?t\s+you\b|\b(?:maybe|perhaps)\s+you\s+(?:could|should|need)\b"
    r"|\byou\s+(?:could|should|need\s+to|ought\s+to|might\s+want\s+to)\s+(?!(?:have|be)\b)"
    r"|(?:^|[.!?,]\s*)(?:just|try\s+to)\s+(?!(?:wanted|checking|a\b|to\b))[a-z]+\b"
    r"|\bhere'?s\s+(?:the|a)\s+(?:leaflet|number|form|link|card)\b"
    r"|\bit\s+might\s+help\s+(?:to|if\s+you)\b",
    re.IGNORECASE,
)
"""Advice: the manager telling the colleague what they could do (answered like an offer)."""

CLOSING = re.compile(
    r"\bthat'?s\s+(?:the\s+plan|settled|sorted|agreed|decided)\b|\b(?:all\s+)?sorted\s+then\b"
    r"|\bso\s+(?:we'?re|we\s+are)\s+(?:agreed|sorted|good|clear)\b|\bit'?s\s+a\s+plan\b"
    r"|\bdeal\?|\bagreed\?|\bdone\.\s*anything\s+else\b|\bleave\s+it\s+there\b"
    r"|\bso\s+the\s+plan\s+is\b|\bto\s+sum\s+up\b|\bcheck\s+in\s+(?:again|with\s+you)\b",
    re.IGNORECASE,
)
"""A line that wraps up with a plan: the colleague agrees, doubts or pushes back on it."""

_QUESTION_SENTENCE = re.compile(r"[^.!?]*\?")
_TOPIC = re.compile(
    r"\b(?:what|how)\s+about\s+(?P<a>[^?,.]{2,40})\?"
    r"|\bhow(?:'s|\s+is|\s+are)\s+(?P<b>(?:the|your)\s+[^?,.]{2,40})\s+(?:going|getting on)\b",
    re.IGNORECASE,
)


def is_injection(text: str) -> bool:
    """Whether a trainee's line tries to take the persona out of its role or reveal its prompt
    (this pattern, or the scorer's cue for stepping out of the conversation)."""
    return bool(INJECTION.search(text)) or bool(cue_module.extract(text).spans.get("stepping_out"))


def is_rebuke(text: str) -> bool:
    """Whether a trainee's line tells the colleague off or waves their problem away."""
    return bool(REBUKE.search(text))


def questions(text: str) -> list[str]:
    """The question sentences of a line, in order."""
    return [q.strip() for q in _QUESTION_SENTENCE.findall(text) if len(q.split()) >= 1]


def is_open_question(question: str) -> bool:
    """Whether a question invites the colleague to say whatever is on their mind."""
    return bool(OPEN_QUESTION.search(question))


def asks_what_would_help(text: str) -> bool:
    """Whether the line asks what help the colleague would want."""
    return bool(ASKS_WHAT_WOULD_HELP.search(text))


def offer_made(text: str) -> str | None:
    """The sentence in which the trainee offers to do something or advises it, or None when
    nothing is offered ("I can imagine" and "let me know" are not offers)."""
    for sentence in cue_module.sentences(text):
        if ASKS_WHAT_WOULD_HELP.search(sentence):
            continue
        if _OFFER.search(sentence) or SUGGESTION.search(sentence):
            return sentence.strip()
    return None


def is_closing(text: str) -> bool:
    """Whether the line wraps the conversation up with a plan."""
    return bool(CLOSING.search(text))


def question_topic(question: str) -> str | None:
    """What a "what about X?" or "how's the X going?" question is about, as said."""
    found = _TOPIC.search(question)
    if found is None:
        return None
    topic = (found.group("a") or found.group("b") or "").strip()
    topic = re.sub(r"^(?:your|yours)\b", "my", topic, flags=re.IGNORECASE)
    topic = re.sub(r"\byour\b", "my", topic, flags=re.IGNORECASE)
    return topic or None


# ------------------------------------------------------------------------------ a reply's words

ASSISTANT = re.compile(
    r"\bas an? (ai|language model|assistant)\b|\blanguage model\b|\bi'?m (just )?an? (ai|bot)\b"
    r"|\bhow (can|may) i (help|assist)\b|\b(happy|glad) to (help|assist)\b|\bi'?m here (to|for)\b"
    r"|\bfeel free\b|\bassistant\b|\bthank(s| you) for (sharing|reaching|asking|your question)\b"
    r"|\bi (cannot|can't) (provide|assist)\b|\bhuman\b|\buser\b|\bsmollm\b|\bhugging ?face\b",
    re.IGNORECASE,
)
"""What a chat assistant says and a tired colleague never would."""

ROLE_REVERSAL = re.compile(
    r"\byou should\b|\bdon'?t worry\b|\bi understand (how|what) you\b"
    r"|\bhow (do|are) you (do|hold|cop)|\byou'?re doing (great|well|a good|an amazing)\b"
    r"|\bthat must be (hard|difficult|tough)\b"
    r"|\bi'?m (so )?sorry (to hear|you|that you)\b|\btake care of yourself\b"
    r"|\byou'?re (dealing|struggling)"
    r"|\bit'?s (ok|okay) to feel\b|\bi'?m (so |really )?proud of (you|the way you)\b"
    r"|\bproud of the way\b|\bi'?ll support you\b"
    r"|\bhow can we help you\b|\byour feelings are valid\b|\bin your shoes\b"
    r"|\bi can'?t imagine (how|what|being)\b|\bi'?m glad you'?re here\b"
    r"|\byour frustrations?\b|\bi'?m (so )?sorry you'?re\b|\bi hope you (have|feel|get)\b"
    r"|\bgood (job|work)\b|\bwell done\b|\bi appreciate you\b",
    re.IGNORECASE,
)
"""The persona comforting, praising, pitying or advising the manager."""

INSTRUCTION_LEAK = re.compile(
    r"\b(system|hidden) (prompt|concern|message)s?\b|\binstruct(ions?|ed)\b|\bscenario\b"
    r"|\bpersona\b|\brole[- ]?play\b|\bin character\b|\bmood (state|level)s?\b|\btrust level\b"
    r"|\bbeat\b|\bprompt\b|\breply as\b|\bgetting across\b|\bshort sentences?\b",
    re.IGNORECASE,
)
"""The persona never talks about how it was made."""

# A tiny model sometimes narrates leaving ("I'm going to the toilet right now", "Gotta go,
# bye"), which strands the trainee mid-conversation. Wanting it over ("Are we done?") stays in
# character; announcing a departure does not.
LEAVES_SCENE = re.compile(
    r"\bi(?:['\u2019]m| am) (?:going|off|heading|popping|nipping) (?:out )?to (?:the )?"
    r"(?:toilet|loo|bathroom|restroom|canteen|car)\b"
    r"|\bi need (?:the|to use the) (?:toilet|loo|bathroom)\b"
    r"|\b(?:i have|i need|i(?:['\u2019]ve| have) got|i got|gotta) (?:to )?go(?: now)?[.!,]"
    r"|\bi(?:['\u2019]m| am) (?:leaving|off) now\b"
    r"|(?:^|[.!?,]\s*)(?:good)?bye(?: then| now)?[.!]",
    re.IGNORECASE,
)

# An unfinished sentence: the model stopped mid-thought ("I've been...", "and the").
FRAGMENT = re.compile(
    r"(?:\.\.\.|\u2026|[,;:\-\u2013\u2014])\s*$"
    r"|\b(?:and|but|or|the|a|an|of|my|your|i've|i'm|because)\s*[.!?]?\s*$",
    re.IGNORECASE,
)

STUTTER = re.compile(r"\b(\w+)[.!?,]?\s+\1\b[.!?,]", re.IGNORECASE)
"""The same word said twice in a row as its own sentence ("What? What?")."""

MAX_WORDS = 40
PARROT_WORDS = 5
"""A candidate that repeats this many words in a row of the trainee's line is parroting."""

NEAR_REPEAT = 0.6
"""Word overlap (Jaccard, content words) at or above which two lines say the same thing."""

_WORDS = re.compile(r"[a-z']+")

Encode = Callable[[list[str]], np.ndarray]
"""Text -> L2-normalised embedding rows (the scorer's MiniLM embedder fits)."""


def words_of(text: str) -> list[str]:
    """Lower-cased words, apostrophes kept."""
    return _WORDS.findall(text.lower())


def normalise(text: str) -> str:
    """A line reduced to its lower-cased words, for comparing lines."""
    return " ".join(words_of(text))


def overlap(a: str, b: str) -> float:
    """Jaccard overlap of two lines' content words (0 when either has none)."""
    left, right = cue_module.content_words(a), cue_module.content_words(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def sentences(text: str) -> list[str]:
    """A line's sentences, stripped."""
    return [s.strip() for s in cue_module.sentences(text) if s.strip()]


def near_repeat_of(text: str, earlier: Sequence[str]) -> str | None:
    """The earlier line this one repeats or nearly repeats, if any."""
    mine = normalise(text)
    for line in earlier:
        if mine == normalise(line) or overlap(text, line) >= NEAR_REPEAT:
            return line
    return None


REPEAT_MEANING = 0.85
"""Embedding similarity at or above which a sentence says again what was already said."""


def _long_sentences(text: str) -> list[str]:
    # Short sentences ("Honestly?", "Right.") are a voice's habits, not repeated content.
    return [s for s in sentences(text) if len(s.split()) >= 3]


def repeats_in_meaning(texts: Sequence[str], earlier: Sequence[str], encode: Encode) -> list[bool]:
    """Per text, whether any of its sentences says again what an earlier line said."""
    said = [s for line in earlier for s in _long_sentences(line)]
    parts = [_long_sentences(t) for t in texts]
    flat = [s for p in parts for s in p]
    if not said or not flat:
        return [False] * len(texts)
    vectors = encode([*flat, *said])
    sims = vectors[: len(flat)] @ vectors[len(flat) :].T
    row_max = sims.max(axis=1)
    result, start = [], 0
    for p in parts:
        result.append(bool(len(p) and row_max[start : start + len(p)].max() >= REPEAT_MEANING))
        start += len(p)
    return result


def has_repetition(text: str) -> bool:
    """Whether a line repeats a run of three words, or stutters a word."""
    words = words_of(text)
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(trigrams) != len(set(trigrams)) or bool(STUTTER.search(text))


def parrots(text: str, learner_line: str) -> bool:
    """Whether a line repeats ``PARROT_WORDS`` words in a row of the trainee's line."""
    said = words_of(learner_line)
    spans = {tuple(said[i : i + PARROT_WORDS]) for i in range(len(said) - PARROT_WORDS + 1)}
    words = words_of(text)
    return any(
        tuple(words[i : i + PARROT_WORDS]) in spans for i in range(len(words) - PARROT_WORDS + 1)
    )


def out_of_character(text: str) -> str | None:
    """Why a line's own words are out of character (assistant, role reversal, instructions)."""
    if ASSISTANT.search(text):
        return "assistant-speak"
    if ROLE_REVERSAL.search(text):
        return "role reversal"
    if INSTRUCTION_LEAK.search(text):
        return "talks about its instructions"
    return None


def gives_away(text: str, forbidden_keywords: Sequence[str]) -> str | None:
    """The keyword of a not-yet-earned hidden concern a line says, if any."""
    for keyword in forbidden_keywords:
        if re.search(rf"\b{re.escape(keyword)}", text, re.IGNORECASE):
            return keyword
    return None


def guard(
    text: str,
    *,
    persona_first_name: str,
    forbidden_keywords: Sequence[str],
    previous_lines: Sequence[str],
    learner_line: str = "",
) -> str | None:
    """Why a cleaned candidate may not be said, or None when it may."""
    words = text.split()
    if len(words) < 2:
        return "too short or not a whole sentence"
    if len(words) > MAX_WORDS:
        return "too long"
    found = out_of_character(text)
    if found:
        return found
    if LEAVES_SCENE.search(text):
        return "leaves the conversation"
    if FRAGMENT.search(text) or text.rstrip()[-1:] not in {".", "!", "?", '"', "'"}:
        return "unfinished sentence"
    if re.search(rf"\b{re.escape(persona_first_name)}\b", text, re.IGNORECASE):
        return "names itself (role confusion)"
    keyword = gives_away(text, forbidden_keywords)
    if keyword:
        return f"gives away a hidden concern too early ({keyword})"
    if has_repetition(text):
        return "repeats itself"
    if near_repeat_of(text, previous_lines) is not None:
        return "repeats an earlier line"
    if parrots(text, learner_line):
        return "parrots the trainee"
    if sum(not (c.isascii()) for c in text) > 3:
        return "odd characters"
    return None
