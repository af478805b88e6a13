"""Issue 12: consent comes from the candidate's own exchanged token, never HR's copy, and records which."""

from __future__ import annotations

import time

from pathlib import Path

import httpx

from db import token_hash
from tests.helpers import HR_TOKEN
from tests.test_hardening_limits import ApiServer

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


def test_only_the_candidates_exchanged_token_gives_consent(tmp_path: Path) -> None:
    with ApiServer(tmp_path, consent_needs_candidate_link=True) as api, httpx.Client(base_url=api.url) as http:
        session = http.post("/v1/sessions", json={}, headers=HR).json()
        consent_url = f"/v1/sessions/{session['id']}/consent"
        hr_copy = {"Authorization": f"Bearer {session['candidate_token']}"}

        refused = http.post(consent_url, json={"voice": True, "face": True}, headers=hr_copy)
        assert refused.status_code == 403, refused.text
        assert refused.json()["type"].endswith("candidate-consent-only")
        assert http.get(f"/v1/sessions/{session['id']}", headers=HR).json()["consent"] is None

        code = session["candidate_url"].split("#code=", 1)[1]
        exchanged = http.post("/v1/candidate/exchange", json={"code": code}).json()["token"]
        given = http.post(consent_url, json={"voice": True, "face": False}, headers={"Authorization": f"Bearer {exchanged}"})
        assert given.status_code == 200, given.text

        deadline = time.monotonic() + 10
        while True:  # the event writer batches: the row lands within a moment
            events = api.candor.store.store.read_events(session["id"], 0, types=["consent.given"])
            if events or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [e.payload.given_with for e in events] == [f"link:{token_hash(exchanged)[:12]}"]  # which token gave it
        assert http.get(f"/v1/sessions/{session['id']}", headers=HR).json()["consent"]["face"] is False

        # withdrawing is always allowed, HR's copy included (it can only stop analysis)
        assert http.delete(consent_url, headers=hr_copy).status_code == 204


def test_a_forged_exchanged_looking_token_is_not_a_token(tmp_path: Path) -> None:
    with ApiServer(tmp_path, consent_needs_candidate_link=True) as api, httpx.Client(base_url=api.url) as http:
        session = http.post("/v1/sessions", json={}, headers=HR).json()
        forged = {"Authorization": f"Bearer c.{session['candidate_token']}"}
        assert http.post(f"/v1/sessions/{session['id']}/consent", json={"voice": True, "face": True}, headers=forged).status_code == 401
