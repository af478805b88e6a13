"""Issue 12: no input makes a 5xx. The OpenAPI document fuzzed with schemathesis against a real server.

Every operation in ``GET /openapi.json`` gets valid and invalid inputs
(wrong JSON types, huge integers, odd strings in paths, queries and
headers), signed in as HR so that the handlers' own code is reached, not
only the auth check; the answer must be a 2xx-4xx, never a 5xx. The number
of examples is bounded (deterministic, a fixed seed) so the module takes
seconds. The routes the document cannot drive (WHIP, the WebSocket, the
candidate-token routes) have their own cases in test_hardening_inputs.py.

One test loops over the operations with hypothesis' ``@given`` on each
operation's strategy: schemathesis' own pytest fixture loader
(``schemathesis.pytest.from_fixture``) fails under pytest 9.2 (it reads
``request.node._nodeid``, which pytest no longer has).
"""

from __future__ import annotations

from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.helpers import HR_TOKEN
from tests.test_hardening_limits import ApiServer

EXAMPLES = 6  # per operation and mode; a question bank's schema is slow to generate: 2 there
HR = {"Authorization": f"Bearer {HR_TOKEN}"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with ApiServer(tmp_path_factory.mktemp("fuzz")) as server:
        yield server


def test_no_input_makes_a_5xx(api: ApiServer) -> None:
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    schema.config.update(base_url=api.url)
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40  # the whole table, not an empty document
    for operation in operations:
        if not all(body.media_type.endswith("json") or "form" in body.media_type for body in operation.body):
            continue  # SDP, ZIP, JSON lines: test_hardening_inputs.py sends those
        if {"candidateBearer": []} in (operation.definition.raw.get("security") or []):
            continue  # a candidate's token, not HR's: test_hardening_inputs.py and the routes' own tests drive those
        modes = [GenerationMode.POSITIVE]
        if len(operation.body) or any(_constrained(p.definition) for p in [*operation.query, *operation.headers]):
            modes.append(GenerationMode.NEGATIVE)  # a path's strings alone have no invalid value
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=2 if operation.path.startswith("/v1/banks") else EXAMPLES, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def call(case: schemathesis.Case) -> None:
                response = case.call(headers=HR, timeout=30)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if operation.path == "/healthz" and response.status_code == 503:
                    return  # "starting": this server loads no models, by design
                assert response.status_code < 500, f"{response.status_code} {response.text[:200]}"

            try:
                call()
            except Exception as exc:  # hypothesis re-raises the smallest failing example
                failures.append(f"{operation.label} ({mode.value}): {str(exc).splitlines()[0][:300]}")
    assert not failures, "\n".join(failures)
    # signed in: most calls reach the handlers (a 401 would mean the fuzzing only met the auth check)
    assert statuses.get(401, 0) < sum(statuses.values()) / 20, statuses


def _constrained(parameter: dict) -> bool:
    """Whether a parameter has invalid values to try: anything but a plain string (the security scheme's header is not one)."""
    if parameter.get("x-original-security-type"):
        return False
    schema = dict(parameter.get("schema") or {})
    schema.pop("description", None)
    return schema != {"type": "string"}
