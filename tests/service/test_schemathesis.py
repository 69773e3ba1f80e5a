"""Property-based requests from the live server's own OpenAPI schema (Schemathesis).

Schemathesis generates valid and invalid requests for every operation and
checks each answer: never a 5xx, only documented status codes and content
types, bodies and headers that match the schema, and invalid data refused.
It does not check that every schema-valid request is accepted: the schema
cannot say "exactly one of text or paragraphs" or "not only whitespace",
which the service rightly refuses with 422.
"""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
EXAMPLES_PER_OPERATION = 50
TALLY: Counter = Counter()


@pytest.fixture(scope="module")
def api_schema(live_server):
    return schemathesis.openapi.from_url(live_server.url + "/openapi.json", timeout=60)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case):
    response = case.call(timeout=60)
    TALLY[(f"{case.method} {case.path}", response.status_code)] += 1
    case.validate_response(response, checks=CHECKS)


def test_schemathesis_tally(live_server):
    """Runs after the generated tests: what was tried, and the server still stands."""
    print("\nschemathesis requests by operation and status:")
    for (operation, status), count in sorted(TALLY.items()):
        print(f"  {operation} -> {status}: {count}")
    print(f"  total: {sum(TALLY.values())}")
    assert sum(TALLY.values()) >= 100
    assert not [key for key in TALLY if key[1] >= 500]
    assert {operation for operation, _ in TALLY} >= {"POST /v1/classify", "POST /v1/classify/batch", "GET /v1/model"}
    assert httpx.get(live_server.url + "/readyz", timeout=30).status_code == 200
