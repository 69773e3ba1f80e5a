"""The service benchmark's baseline: a plain FastAPI app around the transformers pipeline.

What a first deployment usually looks like: one `pipeline("text-classification")`
on the same model directory, called once per request with that request's
paragraphs. Articles are segmented with the service's own segmenter so both
apps classify the same paragraphs. A lock keeps one model call at a time, as
the service does; without it, concurrent calls from FastAPI's thread pool
would oversubscribe the two cores and make the baseline look worse than it
need be. No micro-batching, no ONNX, no length sorting.

    python bench/plain_app.py --model-dir models/stance-minilm --port 8100
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from contextlib import asynccontextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import from the repo root, not from bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from service import segment


class Body(BaseModel):
    text: str | None = None
    paragraphs: list[str] | None = None


def create_app(model_dir: Path, batch_size: int) -> FastAPI:
    state: dict = {}
    lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import torch
        from transformers import pipeline

        torch.set_num_threads(os.cpu_count() or 1)
        state["pipe"] = pipeline("text-classification", model=str(model_dir), device=-1, top_k=None)
        state["pipe"](["The council met on Tuesday to discuss the budget."])
        yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/classify")
    def classify(body: Body) -> dict:
        if (body.text is None) == (body.paragraphs is None):
            raise HTTPException(422, "give exactly one of text or paragraphs")
        texts = body.paragraphs if body.paragraphs is not None else [u.text for u in segment.paragraphs(body.text) if u.is_prose]
        with lock:
            scores = state["pipe"](texts, batch_size=batch_size)
        return {"units": [{"text": t, "label": s[0]["label"], "scores": {r["label"]: r["score"] for r in s}} for t, s in zip(texts, scores)]}

    @app.get("/readyz")
    def readyz() -> dict:
        if "pipe" not in state:
            raise HTTPException(503, "loading")
        return {"ready": True}

    return app


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", type=Path, required=True)
    p.add_argument("--port", type=int, default=8100)
    p.add_argument("--batch-size", type=int, default=8, help="pipeline batch size for a request's paragraphs")
    args = p.parse_args()
    uvicorn.run(create_app(args.model_dir, args.batch_size), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
