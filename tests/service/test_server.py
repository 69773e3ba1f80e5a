"""A real `stance serve` process over HTTP."""

import httpx

from service.labels import LABELS
from tests.conftest import SEEDS


def test_seeds_over_http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        documents = [{"id": seed.stem, "text": seed.read_text(encoding="utf-8")} for seed in SEEDS]
        response = client.post("/v1/classify/batch", json={"documents": documents})
        assert response.status_code == 200
        results = response.json()["results"]
        assert [r["id"] for r in results] == [s.stem for s in SEEDS]
        for result, seed in zip(results, SEEDS):
            single = client.post("/v1/classify", json={"text": seed.read_text(encoding="utf-8")}).json()
            assert [u["label"] for u in single["units"]] == [u["label"] for u in result["units"]]
            assert single["profile"]["dominant"] in LABELS


def test_openapi_docs_served(live_server):
    assert httpx.get(live_server.url + "/docs").status_code == 200
    assert "/v1/classify/batch" in httpx.get(live_server.url + "/openapi.json").json()["paths"]
