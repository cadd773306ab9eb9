"""Pydantic models for the declarative files: scenarios and rubrics.

Every model forbids unknown keys, so a typo such as ``personna:`` is reported instead of being
silently ignored. What the trainee sees (``brief``), what only the persona knows (``persona``) and
what only the facilitator reads (``facilitator_notes``) are separate fields, and only
``persona`` ever reaches a prompt.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.content import defaults

DEFAULT_RUBRIC_ID = "compassionate-leadership"
"""The rubric used wherever none is named (the one place this id is written)."""

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
"""Ids are file-name safe: lower case, digits and hyphens, so they can never escape a folder."""

Id = Annotated[str, Field(pattern=ID_PATTERN, description="Lower-case letters, digits, hyphens.")]
ShortText = Annotated[str, Field(min_length=1, max_length=2000)]
Line = Annotated[str, Field(min_length=1, max_length=400)]


class Strict(BaseModel):
    """Base for every file model: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class Move(StrEnum):
    """What the trainee just did, read from the scorer's output; persona beats are keyed by it."""

    asked = "asked"
    reflected = "reflected"
    empathised = "empathised"
    offered_help = "offered_help"
    dismissed = "dismissed"
    off_script = "off_script"


class MoodState(Strict):
    """One mood the persona can be in, entered when trust reaches ``min_trust``."""

    min_trust: float = Field(ge=0.0, le=1.0, description="Trust (0-1) at which this mood begins.")
    description: ShortText = Field(description="How the persona feels and behaves in this mood.")
    example_lines: list[Line] = Field(
        min_length=1, description="Lines in the persona's voice for this mood (shown to the model)."
    )
    beats: dict[Move, list[Line]] = Field(
        default_factory=dict,
        description=(
            "Authored lines keyed by what the trainee just did (asked, reflected, empathised, "
            "offered_help, dismissed, off_script). The model voices the beat in context; a beat "
            "line is also the fallback when no generated candidate passes the guards."
        ),
    )


class TrustRules(Strict):
    """How the trainee's behaviour moves the persona's trust: declarative, no code in YAML.

    Each behaviour adds ``weight * level / 3`` and each pitfall adds its (negative) weight; the
    weights come from the rubric (a dimension's ``trust_weight``, a pitfall's ``trust_penalty``)
    unless ``weights`` overrides them for this persona. Help offered while the persona's mood is
    below ``help_welcome_from`` counts as premature fixing.
    """

    weights: dict[Id, float] = Field(
        default_factory=dict,
        description=(
            "Per dimension or pitfall id, this persona's trust weight instead of the rubric's "
            "(e.g. {blaming: -0.3} for someone who takes blame hard)."
        ),
    )
    nothing_observed: float = Field(
        default=-0.03, description="Trust change for a reply that shows none of the behaviours."
    )
    help_welcome_from: str | None = Field(
        default=None,
        description="Mood name from which help is welcome; earlier help is premature fixing.",
    )


class Mood(Strict):
    """The persona's mood states and the trust dynamics between them."""

    start: str = Field(description="Name of the mood state the conversation starts in.")
    start_trust: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Starting trust; defaults to the start state's."
    )
    states: dict[Id, MoodState] = Field(min_length=2)
    trust_rules: TrustRules = Field(default_factory=TrustRules)

    @model_validator(mode="after")
    def _check_states(self) -> Mood:
        if self.start not in self.states:
            raise ValueError(
                f"mood.start {self.start!r} is not one of the states: {', '.join(self.states)}"
            )
        if not any(s.min_trust == 0.0 for s in self.states.values()):
            raise ValueError("one mood state must have min_trust: 0 so every trust has a mood")
        help_from = self.trust_rules.help_welcome_from
        if help_from is not None and help_from not in self.states:
            raise ValueError(
                f"trust_rules.help_welcome_from {help_from!r} is not one of the states: "
                f"{', '.join(self.states)}"
            )
        return self

    def ordered_states(self) -> list[tuple[str, MoodState]]:
        """States from lowest to highest trust threshold."""
        return sorted(self.states.items(), key=lambda item: item[1].min_trust)

    def state_for(self, trust: float) -> str:
        """The mood name for a trust value: the highest state whose threshold it reaches."""
        name = self.ordered_states()[0][0]
        for state_name, state in self.ordered_states():
            if trust >= state.min_trust:
                name = state_name
        return name

    def rank(self, state_name: str) -> int:
        """Position of a state in trust order (0 = lowest)."""
        return [name for name, _ in self.ordered_states()].index(state_name)

    def initial_trust(self) -> float:
        """Explicit ``start_trust``, or a point just inside the start state's band."""
        if self.start_trust is not None:
            return self.start_trust
        ordered = self.ordered_states()
        names = [name for name, _ in ordered]
        index = names.index(self.start)
        low = ordered[index][1].min_trust
        high = ordered[index + 1][1].min_trust if index + 1 < len(ordered) else 1.0
        return round(low + (high - low) / 3, 3)


def standard_mood() -> Mood:
    """The mood ladder a persona gets when ``persona.mood`` is left out (see
    :mod:`simulator.content.defaults`, the one place it is written)."""
    return Mood.model_validate(defaults.standard_mood())


class HiddenConcern(Strict):
    """Something the persona holds back until the trainee has earned it."""

    text: ShortText = Field(description="The concern, in the facilitator's words.")
    revealed_at: str = Field(description="Mood state from which the persona may share it.")
    keywords: list[Annotated[str, Field(min_length=2, max_length=60)]] = Field(
        default_factory=list,
        description="Words that would give the concern away; a reply using one before the "
        "concern is earned is rejected by the guard.",
    )
    reveal_line: Line | None = Field(
        default=None, description="How the persona says it when it is first revealed."
    )


class Persona(Strict):
    """Everything the persona model knows. Never shown to the trainee."""

    name: Annotated[str, Field(min_length=1, max_length=80)] = Field(
        description="Full name; the first name is the speaker label."
    )
    role: Annotated[str, Field(min_length=1, max_length=120)] = Field(
        description="Job title, e.g. Senior staff nurse."
    )
    background: ShortText = Field(description="Who they are and what happened; the model reads it.")
    speaking_style: ShortText = Field(description="How they talk: sentence length, tone, dialect.")
    opening_line: Line = Field(description="The first thing the persona says.")
    hidden_concerns: list[HiddenConcern] = Field(
        default_factory=list, description="What they hold back until the trainee earns it."
    )
    example_lines: list[Line] = Field(
        default_factory=list,
        description=(
            "Only without `mood`: a few lines in the persona's voice, added to every standard "
            "mood's example lines so the model hears how this person talks."
        ),
    )
    mood: Mood = Field(
        default_factory=standard_mood,
        description=(
            "Mood states and how trust moves between them. Left out: the standard moods "
            "(closed-off, guarded, opening-up, collaborative; see Standard moods below)."
        ),
    )

    @property
    def first_name(self) -> str:
        """The name used as the speaker label in scripts."""
        return self.name.split()[0]

    @property
    def has_standard_mood(self) -> bool:
        """Whether the file left ``mood`` out, so the standard moods were filled in."""
        return "mood" not in self.model_fields_set

    @model_validator(mode="after")
    def _check_concerns(self) -> Persona:
        if self.example_lines:
            if not self.has_standard_mood:
                raise ValueError(
                    "example_lines is only for a persona without mood; with mood, put the lines "
                    "in each state's example_lines (persona.mood.states.<name>.example_lines)"
                )
            # In place and only once: validate_assignment re-runs this on any later edit.
            for state in self.mood.states.values():
                missing = [line for line in self.example_lines if line not in state.example_lines]
                if missing:
                    state.example_lines = [*state.example_lines, *missing]
        for index, concern in enumerate(self.hidden_concerns):
            if concern.revealed_at not in self.mood.states:
                raise ValueError(
                    f"hidden_concerns[{index}].revealed_at {concern.revealed_at!r} is not one of "
                    f"the mood states: {', '.join(self.mood.states)}"
                )
        return self


class Difficulty(StrEnum):
    easy = "easy"
    medium = "medium"
    hard = "hard"


class Scenario(Strict):
    """A practice conversation: what the trainee sees, the persona, and facilitator notes."""

    id: Id
    version: int = Field(ge=1, description="Bump when the scenario changes; stored with results.")
    title: Annotated[str, Field(min_length=1, max_length=120)] = Field(
        description="Shown in the scenario list."
    )
    brief: ShortText = Field(description="Shown to the trainee before the conversation.")
    learner_role: Annotated[str, Field(min_length=1, max_length=80)] = Field(
        description="Who the trainee plays, e.g. Ward manager."
    )
    setting: Annotated[str, Field(min_length=1, max_length=80)] = Field(
        default="workplace", description="Sector, e.g. healthcare, software, retail."
    )
    difficulty: Difficulty = Field(default=Difficulty.medium, description="easy, medium or hard.")
    rubric: Id = Field(default=DEFAULT_RUBRIC_ID, description="Rubric id to score with.")
    max_turns: int = Field(default=10, ge=1, le=50, description="Trainee turns before it ends.")
    persona: Persona = Field(description="Everything the persona model knows; never shown.")
    facilitator_notes: str = Field(
        default="",
        max_length=2000,
        description="For facilitators only; never prompted. What a strong conversation looks like.",
    )


class Exemplar(Strict):
    """A reply written to show a behaviour at a given level."""

    text: Line
    level: int = Field(ge=0, le=3)
    context: str = Field(default="", max_length=400, description="What the other person said.")


Role = Literal["attending", "understanding", "empathising", "helping"]
"""The part a dimension plays in reading the learner's move (what the persona answers to)."""


class Dimension(Strict):
    """One behaviour the rubric rates."""

    id: Id
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: ShortText
    levels: dict[int, ShortText] = Field(description="Descriptor for levels 1, 2 and 3.")
    exemplars: list[Exemplar] = Field(min_length=1)
    tip: ShortText = Field(description="One line on how to show more of this behaviour.")
    role: Role | None = Field(
        default=None,
        description=(
            "Its part in reading the learner's move: attending (the persona hears a question), "
            "understanding (a reflection, checked against what the colleague said), empathising "
            "(a named feeling) or helping (an offer, premature before the persona feels heard); "
            "none for a behaviour that only moves trust."
        ),
    )
    trust_weight: float = Field(
        default=0.06, ge=-1.0, le=1.0, description="Trust gained per level / 3 of this behaviour."
    )
    floors: dict[str, Annotated[int, Field(ge=1, le=3)]] = Field(
        default_factory=dict,
        description=(
            "Cue name -> lowest level a reply with that cue gets (what the level descriptors "
            "name outright, e.g. {time_giving: 2}); cue names are listed in scoring/cues.py."
        ),
    )

    @field_validator("levels")
    @classmethod
    def _levels_are_1_to_3(cls, value: dict[int, str]) -> dict[int, str]:
        if sorted(value) != [1, 2, 3]:
            raise ValueError(f"levels must describe exactly 1, 2 and 3 (got {sorted(value)})")
        return value


class Pitfall(Strict):
    """A behaviour that undermines compassion; it lowers the dimensions it names."""

    id: Id
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: ShortText
    lowers: list[Id] = Field(min_length=1, description="Dimension ids this pitfall lowers.")
    examples: list[Line] = Field(default_factory=list)
    gate: bool = Field(
        default=False,
        description=(
            "A reply that is mainly this pitfall (its flagged words are most of the reply) earns "
            "0 on every behaviour and is never quoted as evidence."
        ),
    )
    tip: str = Field(
        default="", max_length=400, description="Advice shown when it lowered a level."
    )
    trust_penalty: float = Field(
        default=-0.1, ge=-1.0, le=1.0, description="Trust change when a reply shows this pitfall."
    )
    move: Literal["dismissed", "off_script"] | None = Field(
        default=None,
        description="How the persona reads a reply with this pitfall (its beat), if not by level.",
    )
    timing: bool = Field(
        default=False,
        description=(
            "Help offered before the person feels heard (also found without cues: strong help "
            "and no listening right after a feeling); its words still show the help."
        ),
    )


class Rubric(Strict):
    """A scoring rubric: a 0-3 scale, dimensions, pitfalls."""

    id: Id
    version: int = Field(ge=1)
    title: Annotated[str, Field(min_length=1, max_length=120)]
    scale: dict[int, Annotated[str, Field(min_length=1, max_length=80)]]
    dimensions: list[Dimension] = Field(min_length=1)
    pitfalls: list[Pitfall] = Field(default_factory=list)

    @field_validator("scale")
    @classmethod
    def _scale_is_0_to_3(cls, value: dict[int, str]) -> dict[int, str]:
        if sorted(value) != [0, 1, 2, 3]:
            raise ValueError(f"scale must name exactly 0, 1, 2 and 3 (got {sorted(value)})")
        if not re.search(r"not\s+observed", value[0], re.IGNORECASE):
            raise ValueError("scale level 0 must read 'not observed'")
        return value

    @model_validator(mode="after")
    def _check_references(self) -> Rubric:
        ids = [d.id for d in self.dimensions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"dimension ids must be unique; repeated: {', '.join(duplicates)}")
        for pitfall in self.pitfalls:
            unknown = [d for d in pitfall.lowers if d not in ids]
            if unknown:
                raise ValueError(
                    f"pitfall {pitfall.id!r} lowers unknown dimension(s) {', '.join(unknown)}; "
                    f"dimensions: {', '.join(ids)}"
                )
        return self

    def dimension(self, dimension_id: str) -> Dimension:
        """Look a dimension up by id."""
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(dimension_id)

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]
