"""Policy profiles: what a deployment may analyse, and the consent it asks first.

A deployment picks one profile (``CANDOR_POLICY``). Every profile asks for
notice and explicit consent before any analysis (WHIP answers 403 until the
candidate consents) and keeps a person deciding at the end. They differ in
what may run:

* ``pipl`` (the default for banks in China, PIPL Art. 28-29): face and voice
  are sensitive personal information, so each gets its own consent. Voice is
  required for an AI interview (the answers are scored on what is said);
  face is optional: without it the camera stays off and nothing of the face
  is analysed. Emotion (facial expression, voice arousal) runs as context.
* ``eu`` (EU AI Act Art. 5(1)(f) prohibits emotion inference in the
  workplace, hiring included): no emotion inference at all, neither face
  expression nor voice arousal; one consent covers camera and microphone.

In every profile engagement and emotion are context with zero weight unless
a bank's question bank sets a weight (``scoring.weights`` in the bank), and a
candidate with an accommodation is scored on content alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events import ConsentGiven, ConsentWithdrawn, Event


@dataclass(frozen=True)
class Scope:
    id: str  # "voice" | "face" | "recording"
    required: bool


@dataclass(frozen=True)
class Retention:
    """How long personal data is kept (docs/retention.md); a job's ``retention`` overrides it field by field.

    None: kept until erased on request.
    """

    recordings_days_after_decision: int | None = 30
    personal_data_months_after_campaign: int | None = 12

    def public(self) -> dict[str, Any]:
        return {"recordings_days_after_decision": self.recordings_days_after_decision,
                "personal_data_months_after_campaign": self.personal_data_months_after_campaign}

    def for_job(self, job: Any) -> "Retention":
        """This retention with a job's own periods (jobs.models.Retention, or None) over it."""
        own = getattr(job, "retention", None) if job is not None else None
        if own is None:
            return self
        return Retention(
            own.recordings_days_after_decision if own.recordings_days_after_decision is not None else self.recordings_days_after_decision,
            own.personal_data_months_after_campaign if own.personal_data_months_after_campaign is not None else self.personal_data_months_after_campaign,
        )


@dataclass(frozen=True)
class Policy:
    name: str
    emotion: bool  # facial expression and voice arousal may run
    separate_consent: bool  # face and voice each asked on their own
    scopes: tuple[Scope, ...]
    # The voluntary self-identification after the interview (bias audit) may ask for ethnicity: never under pipl
    # (ethnicity is sensitive personal information, PIPL Art. 28, and not needed there); under eu only as the
    # candidate's explicit, optional choice (GDPR Art. 9(2)(a)). Sex and age band are asked under every profile.
    ethnicity_self_id: bool = False
    # Retention (docs/retention.md). pipl: personal information kept no longer than necessary (Art. 19):
    # 12 months after the campaign; eu: 6 months (GDPR Art. 5(1)(e), the usual period for applicants).
    # Recordings 30 days after the decision in both (the Illinois AI Video Interview Act's 30 days).
    retention: Retention = Retention()

    def public(self) -> dict[str, Any]:
        """What the candidate page needs to ask for consent."""
        return {
            "name": self.name,
            "emotion": self.emotion,
            "consent": {
                "separate": self.separate_consent,
                "scopes": [{"id": s.id, "required": s.required} for s in self.scopes],
            },
        }

    def check(self, granted: dict[str, bool]) -> list[dict[str, str]]:
        """Field errors for a consent that leaves out a required scope."""
        errors = []
        for scope in self.scopes:
            if scope.required and not granted.get(scope.id, False):  # "recording" is never required
                what = "voice processing" if scope.id == "voice" else "face processing"
                errors.append(
                    {
                        "field": scope.id,
                        "message": f"consent to {what} is required for an AI interview under the "
                        f"{self.name} policy; ask HR for another arrangement",
                    }
                )
        return errors


PROFILES: dict[str, Policy] = {
    "pipl": Policy(
        "pipl", emotion=True, separate_consent=True,
        scopes=(Scope("voice", True), Scope("face", False), Scope("recording", False)),
    ),
    # Keeping a recording of the answers for human review is its own, optional consent in every profile
    # (recordings/, docs/recordings.md): without it nothing of the media is kept.
    "eu": Policy(
        "eu", emotion=False, separate_consent=False,
        scopes=(Scope("voice", True), Scope("face", True), Scope("recording", False)), ethnicity_self_id=True,
        retention=Retention(recordings_days_after_decision=30, personal_data_months_after_campaign=6),
    ),
}


@dataclass(frozen=True)
class Consent:
    """A candidate's consent as recorded in the session's event log."""

    policy: str
    voice: bool
    face: bool
    emotion: bool  # what the policy lets run on top of the consented scopes
    given_at: str
    # which token gave it: "link:<first 12 hex of its hash>" (the candidate's exchanged token) or "hr-token"
    given_with: str = ""
    recording: bool = False  # each answer's audio (video with face) kept for human review (recordings/)

    def scopes(self) -> tuple[str, bool, bool, bool, bool]:
        """What the consent lets run (its time left out): equal scopes, same analysis."""
        return (self.policy, self.voice, self.face, self.emotion, self.recording)

    def public(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "voice": self.voice,
            "face": self.face,
            "emotion": self.emotion,
            "recording": self.recording,
            "given_at": self.given_at,
        }

    def given(self) -> ConsentGiven:
        """The ``consent.given`` payload."""
        return ConsentGiven(**self.public(), given_with=self.given_with)




def consent_from_log(events: list[Event]) -> Consent | None:
    """The consent in force after these events, in order."""
    consent: Consent | None = None
    for event in events:
        payload = event.payload
        if isinstance(payload, ConsentWithdrawn):
            consent = None
        elif isinstance(payload, ConsentGiven):
            consent = Consent(
                policy=payload.policy,
                voice=payload.voice,
                face=payload.face,
                emotion=payload.emotion,
                given_at=payload.given_at,
                given_with=payload.given_with,
                recording=payload.recording,
            )
    return consent
