"""The data model of jobs, question banks and rubrics (the shared contract).

Pydantic models: they validate the shipped YAML banks and API input (a
validation error names the field), and give the OpenAPI schemas. Text that a
candidate or HR reads is localised: ``{"zh": "...", "en": "..."}``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from automation.rules import Automation

Lang = Literal["zh", "en"]
Education = Literal["none", "associate", "bachelor", "master", "doctorate"]
EDUCATION_ORDER: tuple[str, ...] = ("none", "associate", "bachelor", "master", "doctorate")  # lowest first


class Localized(BaseModel):
    """The same text in Simplified Chinese and English (at least one)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: str | None = None
    en: str | None = None

    @model_validator(mode="after")
    def _one_language(self) -> "Localized":
        if not (self.zh or self.en):
            raise ValueError("give the text in zh, en or both")
        return self

    def get(self, lang: str) -> str:
        return (self.zh if lang == "zh" else self.en) or self.en or self.zh or ""


class ExpectedPoint(BaseModel):
    """One thing a strong answer says, in several phrasings and both languages.

    Content scoring matches the answer's sentences against every phrasing
    semantically, so a paraphrase counts; ``terms`` are domain words that are
    also passed to ASR as hotwords.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    text: Localized
    paraphrases: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)


class Competency(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    name: Localized
    weight: float = Field(gt=0)
    points: list[ExpectedPoint] = Field(min_length=1)
    strong_examples: list[str] = Field(default_factory=list)
    weak_examples: list[str] = Field(default_factory=list)


class Rubric(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    competencies: list[Competency] = Field(min_length=1)

    @field_validator("competencies")
    @classmethod
    def _unique(cls, value: list[Competency]) -> list[Competency]:
        ids = [c.id for c in value]
        if len(ids) != len(set(ids)):
            raise ValueError("competency ids must be unique within a rubric")
        return value

    def terms(self) -> list[str]:
        return sorted({t for c in self.competencies for p in c.points for t in p.terms})


class Condition(BaseModel):
    """When an alternative is asked: every condition given holds on the candidate's parsed profile."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    has_experience_in: list[str] = Field(default_factory=list)  # any of these words in the work history or skills
    min_years: float | None = Field(default=None, ge=0)
    has_certificate: list[str] = Field(default_factory=list)  # any of these

    @model_validator(mode="after")
    def _something(self) -> "Condition":
        if not (self.has_experience_in or self.min_years is not None or self.has_certificate):
            raise ValueError("give at least one of has_experience_in, min_years, has_certificate")
        return self


class Alternative(BaseModel):
    """The same question asked another way for candidates the condition fits (千人千面).

    e.g. with retail experience "请描述一次你提升客户销售额的经历", without it the
    question's own text. It is scored on its own rubric; a report compares a
    question's scores per alternative.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    when: Condition
    text: Localized
    rubric: Rubric


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    kind: Literal["behavioural", "situational", "practice"]
    text: Localized
    prep_s: int = Field(default=30, ge=0, le=600)
    answer_s: int = Field(default=120, ge=15, le=900)
    rubric: Rubric | None = None  # None only for the practice question
    # Asked instead of the text above when the candidate's profile fits; the first that fits wins.
    alternatives: list[Alternative] = Field(default_factory=list)
    # Set on the question a session asks when one of its alternatives was chosen (never in a bank).
    alternative: str | None = None

    @model_validator(mode="after")
    def _rubric_unless_practice(self) -> "Question":
        if self.kind != "practice" and self.rubric is None:
            raise ValueError("a scored question needs a rubric")
        ids = [a.id for a in self.alternatives]
        if len(ids) != len(set(ids)):
            raise ValueError("alternative ids must be unique within a question")
        if self.alternatives and self.kind == "practice":
            raise ValueError("the practice question has no alternatives")
        return self


class ScoreWeights(BaseModel):
    """How the parts of an answer's score combine into its overall score.

    Engagement (face presence, gaze) and emotion (facial expression, voice
    arousal) are context shown to HR with zero weight unless a bank sets one;
    a deployment's policy may still keep emotion off altogether (``eu``), and
    a candidate with an accommodation is scored on content alone.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    content: float = Field(default=0.8, ge=0)
    delivery: float = Field(default=0.2, ge=0)
    engagement: float = Field(default=0.0, ge=0)
    emotion: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _not_all_zero(self) -> "ScoreWeights":
        if self.content + self.delivery + self.engagement + self.emotion <= 0:
            raise ValueError("at least one weight must be above 0")
        return self


class BankScoring(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    weights: ScoreWeights = Field(default_factory=ScoreWeights)


class QuestionBank(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    job_id: str
    title: Localized
    questions: list[Question] = Field(min_length=1)
    scoring: BankScoring = Field(default_factory=BankScoring)

    @field_validator("questions")
    @classmethod
    def _unique_questions(cls, value: list[Question]) -> list[Question]:
        ids = [q.id for q in value]
        if len(ids) != len(set(ids)):
            raise ValueError("question ids must be unique within a bank")
        return value


class Requirements(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    education: Education = "bachelor"
    min_years: float = Field(default=0, ge=0)
    skills: list[str] = Field(default_factory=list)
    certificates: list[str] = Field(default_factory=list)  # CFA, FRM, AFP, 基金从业资格, ...
    languages: list[str] = Field(default_factory=list)  # zh, en, ...


class ScreeningWeights(BaseModel):
    """Points each kind of requirement is worth in the job-match score (relative; they are normalised)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    education: float = Field(default=20, ge=0)
    years: float = Field(default=25, ge=0)
    skills: float = Field(default=35, ge=0)
    certificates: float = Field(default=10, ge=0)
    languages: float = Field(default=10, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> "ScreeningWeights":
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one screening weight must be above 0")
        return self


class Screening(BaseModel):
    """How applications to a job are screened (screening/): weights and the two thresholds.

    At or above ``advance_at`` an application is marked for invite; below
    ``pool_below`` it goes to the pool, which a person confirms (PIPL Art. 24:
    nothing is rejected by the score alone); between them HR review it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    weights: ScreeningWeights = Field(default_factory=ScreeningWeights)
    advance_at: float = Field(default=70, ge=0, le=100)
    pool_below: float = Field(default=50, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> "Screening":
        if self.pool_below > self.advance_at:
            raise ValueError("pool_below must not be above advance_at")
        return self


class Retention(BaseModel):
    """How long a job keeps what it gathers; a field left out takes the policy profile's period (server/policy.py).

    ``recordings_days_after_decision``: answers' recordings are deleted this many days after the human
    decision (the Illinois AI Video Interview Act asks deletion within 30 days of a request).
    ``personal_data_months_after_campaign``: a candidate is erased (db/erasure.py) this many months after
    the last activity on their applications; their applications stay in the statistics, anonymously.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    recordings_days_after_decision: int | None = Field(default=None, ge=0, le=3650)
    personal_data_months_after_campaign: int | None = Field(default=None, ge=1, le=120)


class Job(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    title: Localized
    description: Localized | None = None
    requirements: Requirements = Field(default_factory=Requirements)
    screening: Screening = Field(default_factory=Screening)  # the defaults unless the job sets its own
    automation: Automation = Field(default_factory=Automation)  # rules and message templates (automation/)
    retention: Retention | None = None  # overrides the policy profile's periods (docs/retention.md)


class CandidateProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    education: Education | None = None
    years: float | None = Field(default=None, ge=0)
    skills: list[str] = Field(default_factory=list)
    certificates: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    # Titles, employers and what the work history says: for personalised questions only.
    experience: list[str] = Field(default_factory=list)
    accommodation: bool = False  # scored on content alone
