"""The real app with a tiny trained model, through FastAPI's TestClient."""

import json

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.labels import LABELS
from service.settings import Settings
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def client(tiny_model):
    with TestClient(create_app(Settings(model_dir=tiny_model, max_units=50, max_documents=3))) as c:
        yield c


def post(client, path, body, **kwargs):
    return client.post(path, content=json.dumps(body), headers={"content-type": "application/json", **kwargs.pop("headers", {})}, **kwargs)


def test_ready_health_and_model_info(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"ready": True, "reason": None}
    info = client.get("/v1/model").json()
    assert info["labels"] == list(LABELS)
    assert info["engine"] == "onnx"
    assert "train" in info["training_data"] and "macro_f1" in info["test_scores"]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem[:3])
def test_seeds_classified_through_the_api(client, seed):
    text = seed.read_text(encoding="utf-8")
    body = post(client, "/v1/classify", {"text": text}).json()
    assert body["units"]
    for unit in body["units"]:
        assert text[unit["start"] : unit["end"]] == unit["text"]
        if unit["skipped"]:
            assert unit["label"] is None and unit["scores"] is None and unit["skip_reason"]
        else:
            assert unit["label"] in LABELS
            assert abs(sum(unit["scores"].values()) - 1) < 1e-3
    profile = body["profile"]
    assert abs(sum(profile["shares"].values()) - 1) < 1e-3
    assert profile["dominant"] in LABELS
    assert profile["opinion_threshold"] == 0.5


def test_sentence_granularity_keeps_paragraph_index(client):
    text = "The council met on Monday to vote on the plan. It passed by six votes.\n\nThe mayor said the plan was a disgrace to the town."
    units = post(client, "/v1/classify", {"text": text, "granularity": "sentence"}).json()["units"]
    assert [u["paragraph_index"] for u in units] == [0, 0, 1]
    assert [text[u["start"] : u["end"]] for u in units] == [u["text"] for u in units]


def test_given_paragraphs_and_skips(client):
    body = post(client, "/v1/classify", {"paragraphs": ["Comments", "Police said two men were arrested on Friday night."]}).json()
    assert body["units"][0]["skipped"] and body["units"][0]["skip_reason"] == "navigation"
    assert body["units"][1]["label"] in LABELS


def test_batch_endpoint_echoes_ids(client):
    body = post(client, "/v1/classify/batch", {"documents": [{"id": "a", "text": "The court ruled on Monday that the law was void."}, {"id": "b", "paragraphs": ["It is time to act on climate, and fast."]}]}).json()
    assert [r["id"] for r in body["results"]] == ["a", "b"]


@pytest.mark.parametrize(
    "body,status,needle",
    [
        ({"text": "   \n "}, 422, "empty"),
        ({}, 422, "exactly one"),
        ({"text": "a", "paragraphs": ["b"]}, 422, "exactly one"),
        ({"text": 5}, 422, "text"),
        ({"paragraphs": []}, 422, "empty"),
        ({"paragraphs": ["ok text here"], "extra": 1}, 422, "extra"),
        ({"text": "Fine text here today.", "granularity": "word"}, 422, "granularity"),
        ({"paragraphs": ["p"] * 51}, 413, "STANCE_MAX_UNITS=50"),
    ],
)
def test_bad_input_gets_clear_4xx(client, body, status, needle):
    response = post(client, "/v1/classify", body)
    assert response.status_code == status
    assert needle in response.json()["message"]


def test_too_many_documents_names_the_limit(client):
    docs = [{"id": str(i), "text": "Some words of text here."} for i in range(4)]
    response = post(client, "/v1/classify/batch", {"documents": docs})
    assert response.status_code == 413 and "STANCE_MAX_DOCUMENTS=3" in response.json()["message"]


def test_wrong_content_type_is_415(client):
    response = client.post("/v1/classify", content="text=hello", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


def test_body_over_limit_is_413(tiny_model):
    with TestClient(create_app(Settings(model_dir=tiny_model, max_body_bytes=2048))) as small:
        response = post(small, "/v1/classify", {"text": "word " * 1000})
        assert response.status_code == 413 and "STANCE_MAX_BODY_BYTES=2048" in response.json()["message"]


def test_metrics_and_openapi(client):
    post(client, "/v1/classify", {"text": "The minister resigned on Monday after a week of pressure."})
    metrics = client.get("/metrics").text
    for name in ("stance_requests_total", "stance_errors_total", "stance_request_seconds_bucket", "stance_batch_units_bucket", "stance_queue_units"):
        assert name in metrics
    schema = client.get("/openapi.json").json()
    responses = schema["paths"]["/v1/classify"]["post"]["responses"]
    assert {"200", "401", "413", "415", "422", "503"} <= set(responses)


def test_demo_page_and_examples(client):
    assert "Editorial stance" in client.get("/").text
    assert len(client.get("/v1/examples").json()) == 5


def test_api_keys(tiny_model, caplog):
    key = "s3cret-key-123"
    with TestClient(create_app(Settings(model_dir=tiny_model, api_keys=f"{key},other-key"))) as c:
        body = {"text": "The minister resigned on Monday after a week of pressure."}
        assert post(c, "/v1/classify", body).status_code == 401
        assert post(c, "/v1/classify", body, headers={"authorization": "Bearer wrong"}).status_code == 401
        assert post(c, "/v1/classify", body, headers={"authorization": f"Bearer {key[:-1]}4"}).status_code == 401
        assert c.post(f"/v1/classify?api_key={key}", content=json.dumps(body), headers={"content-type": "application/json"}).status_code == 401
        ok = post(c, "/v1/classify", body, headers={"authorization": f"Bearer {key}"})
        assert ok.status_code == 200
        assert c.get("/healthz").status_code == 200
    assert key not in caplog.text


def test_corrupt_model_never_becomes_ready(tmp_path, tiny_model):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "onnx" / "model.onnx").write_bytes(b"garbage")
    with TestClient(create_app(Settings(model_dir=broken))) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 503 and "cannot load ONNX model" in ready.json()["reason"]
        response = post(c, "/v1/classify", {"text": "The minister resigned on Monday."})
        assert response.status_code == 503 and "model not loaded" in response.json()["message"]


def test_request_over_the_timeout_is_503_with_retry_after(tiny_model):
    import time

    from service.engine import Engine

    settings = Settings(model_dir=tiny_model, request_timeout_s=0.2)
    engine = Engine.from_settings(settings)
    answer = engine.classify
    engine.classify = lambda texts: (time.sleep(1.0), answer(texts))[1]  # a model slower than the timeout
    with TestClient(create_app(settings, engine=engine)) as c:
        response = post(c, "/v1/classify", {"text": "The minister resigned on Monday after a week of pressure."})
        assert response.status_code == 503
        assert "STANCE_REQUEST_TIMEOUT_S=0.2" in response.json()["message"] and int(response.headers["retry-after"]) >= 1
