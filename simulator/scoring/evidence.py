"""Evidence: which words of a reply may be quoted for a behaviour, and which sentence is quoted.

Two jobs the scorer hands over once it has rated a reply: (1) find the clauses a pitfall's cues
flagged ("calm down", "it's not a big deal"), which are no sign of the behaviours that pitfall
lowers, and cut them out of what may be quoted for those behaviours; (2) pick, per behaviour,
the verbatim spans to show: cue matches in the sentence that shows it most, then that sentence,
never invented text, and not the same sentence for two behaviours when another fits one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from simulator.content.schema import Pitfall
from simulator.scoring import cues as cue_module

MAX_EVIDENCE = 3
"""At most this many spans are quoted per behaviour (the scorer and the judge alike)."""

Region = tuple[int, int]
"""Character offsets [start, end) of flagged words in a reply."""


@dataclass(frozen=True)
class Candidate:
    """A sentence (or the part of one outside a pitfall's words) that may be quoted as evidence."""

    text: str
    level: int
    """The level the sentence shows on its own (0 when it was not rated)."""
    rank: float
    """How surely it shows the behaviour; comparable only within one dimension."""


def choose(ranked: dict[str, list[Candidate]], shown: list[str]) -> dict[str, str]:
    """The sentence each shown dimension quotes: its best candidate, except that two dimensions
    that would quote the same sentence split when one of them has another sentence at the same
    level (the named feeling for empathising, the paraphrase beside it for understanding). The
    dimension that loses least by moving is the one that moves."""
    choice = {d: ranked[d][0] for d in shown if ranked[d]}
    if len({c.text for c in choice.values()}) == len(choice) or all(
        len(ranked[d]) < 2 for d in choice
    ):
        # No sentence quoted twice, or no other sentence to move to: nothing to split.
        return {d: c.text for d, c in choice.items()}
    for a, b in combinations(list(choice), 2):
        if choice[a].text != choice[b].text:
            continue
        moves: list[tuple[float, str, Candidate]] = []
        for d in (a, b):
            taken = {c.text for k, c in choice.items() if k != d}
            alt = next((c for c in ranked[d][1:] if c.text not in taken), None)
            if alt is not None and alt.level >= max(choice[d].level, 1):
                moves.append((choice[d].rank - alt.rank, d, alt))
        if moves:
            _, d, alt = min(moves, key=lambda move: move[0])
            choice[d] = alt
    return {d: c.text for d, c in choice.items()}


def flagged_regions(
    text: str, found: list[Pitfall], helping: frozenset[str] = frozenset()
) -> dict[str, list[Region]]:
    """Per dimension, the clauses of the reply in which a pitfall that lowers it was said (as its
    cues found it); none for a pitfall found by similarity alone. A pitfall of timing (help too
    soon) is a badly timed form of help: its words still show the ``helping`` dimensions, so it
    lowers their level without being cut out of their evidence; they never count for any other
    dimension it lowers."""
    out: dict[str, list[Region]] = {}
    for pit in found:
        regions = [
            _clause(text, *match.span())
            for name in cue_module.supporting(pit.id)
            for match in _CORES[name].finditer(text)
        ]
        for dim_id in pit.lowers:
            if regions and not (pit.timing and dim_id in helping):
                out.setdefault(dim_id, []).extend(regions)
    return out


def pitfall_regions(text: str, found: list[Pitfall]) -> list[Region]:
    """The clauses of the reply in which any of these pitfalls was said (as their cues found it)."""
    return [
        _clause(text, *match.span())
        for pit in found
        for name in cue_module.supporting(pit.id)
        for match in _CORES[name].finditer(text)
    ]


def outside(text: str, regions: list[Region]) -> str:
    """The reply without the regions (what it says besides them), clauses joined by spaces."""
    kept: list[str] = []
    at = 0
    for start, end in sorted(regions):
        if start > at:
            kept.append(text[at:start])
        at = max(at, end)
    kept.append(text[at:])
    return " ".join(part.strip() for part in kept if part.strip())


def share_covered(text: str, regions: list[Region]) -> float:
    """Share of the reply's letters and digits that lie inside the regions (0 for no letters)."""
    inside = [False] * len(text)
    for start, end in regions:
        inside[start:end] = [True] * (end - start)
    letters = [flag for ch, flag in zip(text, inside, strict=True) if ch.isalnum()]
    return sum(letters) / len(letters) if letters else 0.0


_SENTENCE_TAIL = "[^.!?]*"


def _core(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """A cue's pattern without the rest of the sentence it runs on to: only the words that make
    the cue ("calm down"), so that a pitfall does not take the clauses after it with it."""
    source = pattern.pattern
    if source.endswith(_SENTENCE_TAIL):
        source = source[: -len(_SENTENCE_TAIL)]
    return re.compile(source, pattern.flags)


_CORES: dict[str, re.Pattern[str]] = {cue.name: _core(cue.pattern) for cue in cue_module.ALL_CUES}

_CLAUSE_BREAK = re.compile(
    r"[,;:.!?]+|\s[-\u2013\u2014]\s|\b(?:but|and|yet|though|although|because|while)\b",
    re.IGNORECASE,
)


def covered(text: str, span: str, regions: list[Region]) -> bool:
    """Whether every occurrence of ``span`` in ``text`` lies inside a flagged region."""
    start = text.find(span)
    while start != -1:
        if not any(r_start <= start and start + len(span) <= r_end for r_start, r_end in regions):
            return False
        start = text.find(span, start + 1)
    return True


def _clause(text: str, start: int, end: int) -> Region:
    """The clause around the words ``text[start:end]``: back to the clause break before them and
    on to the one after ("I'm sorry, but [calm down], it's [not a big deal]")."""
    while start < end and not text[start].isalnum():
        start += 1  # a match may begin at the break before it (". Just ...")
    breaks = list(_CLAUSE_BREAK.finditer(text))
    left = max((b.end() for b in breaks if b.end() <= start), default=0)
    right = min((b.start() for b in breaks if b.start() >= end), default=len(text))
    return left, right


def quotable_units(text: str, regions: list[Region]) -> list[str]:
    """The reply's sentences, cut around flagged words: what may be quoted as evidence."""
    units: list[str] = []
    at = 0
    for sentence in cue_module.sentences(text):
        start = text.find(sentence, at)
        at = start + len(sentence)
        units.extend(_outside(text, start, at, regions))
    return units


_CONNECTIVE = r"(?:and|but|so|or|yet|though|although|because|while|as|if)"
_DANGLING_END = re.compile(r"[\s,;:\u2013\u2014-]*\b" + _CONNECTIVE + r"\W*$", re.IGNORECASE)
_DANGLING_START = re.compile(r"^" + _CONNECTIVE + r"\b[\s,;:-]*", re.IGNORECASE)


def _outside(text: str, start: int, end: int, regions: list[Region]) -> list[str]:
    """The verbatim pieces of ``text[start:end]`` that no region covers, each a quotable span.

    Where flagged words were cut out, the connective left dangling beside them goes too ("I'm
    sorry it's been such a hard week, but" becomes "I'm sorry it's been such a hard week").
    """
    pieces: list[str] = []
    at = start
    for r_start, r_end in sorted(regions):
        if r_end <= at or r_start >= end:
            continue
        if r_start > at:
            pieces.append(_tidy(text[at:r_start], cut_before=at > start, cut_after=True))
        at = max(at, r_end)
    if at < end:
        pieces.append(_tidy(text[at:end], cut_before=at > start, cut_after=False))
    return [p for p in pieces if any(ch.isalpha() for ch in p)]


def _tidy(piece: str, cut_before: bool, cut_after: bool) -> str:
    """A piece of a sentence as a quotable span (still a substring of it)."""
    piece = cue_module.trim_span(piece)
    for cut, dangling in ((cut_before, _DANGLING_START), (cut_after, _DANGLING_END)):
        while cut and (shorter := cue_module.trim_span(dangling.sub("", piece))) != piece:
            piece = shorter
    return piece


def evidence_spans(
    text: str,
    cue_key: str,
    result: Any,
    best_sentence: str,
    regions: list[Region],
    units: list[str],
) -> list[str]:
    """Verbatim spans supporting a level: cue matches in the sentence that shows the behaviour
    most, then that sentence itself; never invented text, and never the words a pitfall flagged
    (``regions``): a cue match that runs into them is cut short. ``units`` are the sentences (cut
    around flagged words) that may be quoted; ``cue_key`` is the dimension's role (or id), which
    names the cues that support it."""
    found = [
        piece
        for span in result.evidence_for(cue_key)
        for piece in _cut(text, cue_module.trim_span(span), regions)
    ]
    found = [s for s in found if s and s in text]
    best_sentence = cue_module.trim_span(best_sentence)
    # A lone keyword ("rough") reads better as the sentence it sits in.
    spans = [_sentence_of(s, best_sentence, units) for s in found]
    spans.sort(key=lambda span: (span not in best_sentence, text.find(span)))
    if best_sentence and best_sentence in text and not any(s in best_sentence for s in spans):
        spans.insert(0, best_sentence)
    spans = cue_module.distinct_spans(spans)
    if not spans:
        # The whole reply, unless flagged words have to be left out of it.
        spans = units[:1] if regions else [text.strip()]
    return [s for s in spans if s and s in text][:MAX_EVIDENCE]


def _sentence_of(span: str, best_sentence: str, units: list[str]) -> str:
    """A span of one or two words as the sentence it sits in (the best one when it is there)."""
    if len(span.split()) >= 3:
        return span
    if span in best_sentence:
        return best_sentence
    return next((unit for unit in units if span in unit), span)


def _cut(text: str, span: str, regions: list[Region]) -> list[str]:
    """The parts of a span (found in ``text``) outside the flagged regions."""
    if not regions:
        return [span]
    start = text.find(span)
    return _outside(text, start, start + len(span), regions) if start >= 0 else []
