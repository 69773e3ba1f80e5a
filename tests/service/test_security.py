"""API keys on a real `stance serve` process: only `Authorization: Bearer <key>` opens it.

Every near miss is a 401 that names the expected scheme, and neither the
configured keys nor the tokens callers presented ever show up in an answer
or in the server's log (kept at debug level here, where leaks would show).
"""

from __future__ import annotations

import base64
import json
from collections import Counter

import httpx
import pytest

from tests.conftest import ServerProcess

KEY = "stk-live-7f3a9c1e5b2d4a68"
OTHER_KEY = "stk-live-Q8w2Zr6Ty1Pm0Nc4"
SECRET_PARTS = ("7f3a9c1e", "Q8w2Zr6T")  # the random parts: no fragment of them may leak
BODY = {"text": "The minister resigned on Monday after a week of pressure from her own party."}


def flip(key: str, position: int) -> str:
    changed = "x" if key[position] != "x" else "y"
    return key[:position] + changed + key[position + 1 :]


REFUSED = {
    "no key": {},
    "wrong key": {"headers": {"authorization": "Bearer not-the-key"}},
    "last character differs": {"headers": {"authorization": f"Bearer {flip(KEY, -1)}"}},
    "first character differs": {"headers": {"authorization": f"Bearer {flip(KEY, 0)}"}},
    "middle character differs": {"headers": {"authorization": f"Bearer {flip(KEY, len(KEY) // 2)}"}},
    "key minus its last character": {"headers": {"authorization": f"Bearer {KEY[:-1]}"}},
    "key plus one character": {"headers": {"authorization": f"Bearer {KEY}0"}},
    "key in capitals": {"headers": {"authorization": f"Bearer {KEY.upper()}"}},
    "both keys joined by a comma": {"headers": {"authorization": f"Bearer {KEY},{OTHER_KEY}"}},
    "scheme without token": {"headers": {"authorization": "Bearer"}},
    "key in the query string (api_key)": {"params": {"api_key": KEY}},
    "key in the query string (access_token)": {"params": {"access_token": KEY}},
    "key in the query string (key, token)": {"params": {"key": KEY, "token": OTHER_KEY}},
    "Basic scheme with the key": {"headers": {"authorization": "Basic " + base64.b64encode(KEY.encode()).decode()}},
    "Basic scheme with user:key": {"headers": {"authorization": "Basic " + base64.b64encode(f"user:{KEY}".encode()).decode()}},
    "Token scheme": {"headers": {"authorization": f"Token {KEY}"}},
    "ApiKey scheme": {"headers": {"authorization": f"ApiKey {KEY}"}},
    "Bearer: with a colon": {"headers": {"authorization": f"Bearer: {KEY}"}},
    "key without a scheme": {"headers": {"authorization": KEY}},
    "X-API-Key header": {"headers": {"x-api-key": KEY}},
    "key in a cookie": {"headers": {"cookie": f"api_key={KEY}"}},
    "key in the JSON body": {"body": {**BODY, "api_key": KEY}},
    "non-ASCII token bytes": {"headers": {"authorization": b"Bearer \xff\xfe\xc3\xa9"}},
    "100 KB token": {"headers": {"authorization": "Bearer " + "k" * 100_000}},
}
ACCEPTED = {
    "first key": {"headers": {"authorization": f"Bearer {KEY}"}},
    "second key": {"headers": {"authorization": f"Bearer {OTHER_KEY}"}},
    "scheme in lower case": {"headers": {"authorization": f"bearer {KEY}"}},
}


@pytest.fixture(scope="module")
def keyed_server(tiny_model, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("security") / "server.log"
    server = ServerProcess(
        tiny_model, env={"STANCE_API_KEYS": f"{KEY}, {OTHER_KEY}", "STANCE_LOG_LEVEL": "debug"}, log_path=log_path
    ).start(timeout=120)
    yield server
    server.stop()


def send(http: httpx.Client, path: str, spec: dict) -> httpx.Response:
    body = spec.get("body", BODY)
    if path == "/v1/classify/batch":
        body = {"documents": [{"id": "a", **body}]}
    if path == "/v1/model":
        return http.get(path, headers=spec.get("headers"), params=spec.get("params"))
    headers = {"content-type": "application/json", **spec.get("headers", {})}
    return http.post(path, content=json.dumps(body), headers=headers, params=spec.get("params"))


def presented_secrets(spec: dict) -> list[str]:
    """Tokens a caller sent that look like keys: none may be echoed back."""
    values = [*spec.get("headers", {}).values(), *spec.get("params", {}).values()]
    return [v for v in values if isinstance(v, str) and len(v) >= 12]


def test_api_keys_over_http(keyed_server):
    tally: Counter = Counter()
    responses: list[tuple[str, httpx.Response]] = []
    failures: list[str] = []
    with httpx.Client(base_url=keyed_server.url, timeout=60) as http:
        for path in ("/v1/classify", "/v1/classify/batch", "/v1/model"):
            for name, spec in REFUSED.items():
                response = send(http, path, spec)
                responses.append((f"{path} {name}", response))
                tally[(path, response.status_code)] += 1
                if response.status_code != 401:
                    failures.append(f"{path} {name}: {response.status_code} {response.text[:200]}")
                    continue
                message = response.json().get("message", "")
                if "Bearer" not in message or response.headers.get("www-authenticate") != "Bearer":
                    failures.append(f"{path} {name}: 401 should name the Bearer scheme: {response.headers} {message!r}")
                for secret in presented_secrets(spec):
                    if secret in response.text or any(secret in v for v in response.headers.values()):
                        failures.append(f"{path} {name}: the presented token is echoed back")
            for name, spec in ACCEPTED.items():
                response = send(http, path, spec)
                responses.append((f"{path} {name}", response))
                tally[(path, response.status_code)] += 1
                if response.status_code != 200:
                    failures.append(f"{path} {name}: expected 200, got {response.status_code} {response.text[:200]}")
        for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
            response = http.get(path)
            responses.append((path, response))
            tally[(path, response.status_code)] += 1
            if response.status_code != 200:
                failures.append(f"{path} without a key: {response.status_code}")
    keyed_server.stop()  # flush and close the log before reading it
    log = keyed_server.log_path.read_text(errors="replace")

    print("\nsecurity: requests by route and status")
    for (path, status), count in sorted(tally.items()):
        print(f"  {path} -> {status}: {count}")
    assert not failures, "\n".join(failures)
    assert sum(count for (_, status), count in tally.items() if status == 401) == 3 * len(REFUSED)
    for name, response in responses:
        seen = response.text + json.dumps(dict(response.headers))
        assert not any(part in seen for part in SECRET_PARTS), f"{name}: a key appears in the response"
    assert "model" in log and "ready" in log, "the log was not captured"
    assert not any(part in log for part in SECRET_PARTS), "a key appears in the server log"
    assert "k" * 1000 not in log, "a presented token appears in the server log"
