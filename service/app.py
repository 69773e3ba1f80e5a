"""The HTTP layer: routes, limits, auth, error -> status mapping, metrics.

No model logic lives here: documents go through `service.analyze`, model
calls through `service.batcher`, and every failure type maps to one status.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from service import __version__, analyze, schemas
from service.batcher import BatcherClosed, MicroBatcher, QueueFull
from service.engine import Engine, ModelLoadError
from service.settings import Settings, get_settings

log = logging.getLogger("stance")
STATIC_DIR = Path(__file__).resolve().parent / "static"


class ServiceError(Exception):
    """An error with its HTTP status; the message is safe to show to callers."""

    status = 500
    code = "error"

    def __init__(self, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class PayloadTooLarge(ServiceError):
    status, code = 413, "too_large"


class UnsupportedMediaType(ServiceError):
    status, code = 415, "unsupported_media_type"


class InvalidInput(ServiceError):
    status, code = 422, "invalid_input"


class Overloaded(ServiceError):
    status, code = 503, "overloaded"


class NotReady(ServiceError):
    status, code = 503, "not_ready"


ERROR_RESPONSES = {
    status: {"model": schemas.ErrorBody, "description": description}
    for status, description in {
        401: "Missing or invalid API key (when STANCE_API_KEYS is set).",
        413: "A limit was exceeded; the message names the limit and the value.",
        415: "The body is not application/json.",
        422: "Empty, malformed or ambiguous input.",
        503: "Overloaded (queue full or timed out, with Retry-After) or model not loaded.",
    }.items()
}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("stance_requests_total", "HTTP requests by route and status.", ["route", "status"], registry=self.registry)
        self.errors = Counter("stance_errors_total", "Error responses by status.", ["status"], registry=self.registry)
        self.latency = Histogram(
            "stance_request_seconds", "Request latency.", ["route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30),
        )
        self.batch_units = Histogram(
            "stance_batch_units", "Units per model call.", registry=self.registry, buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
        )
        self.queue_depth = Gauge("stance_queue_units", "Units waiting for the model.", registry=self.registry)
        self.units = Counter("stance_units_total", "Units classified.", registry=self.registry)


class BodyLimitMiddleware:
    """Refuse bodies over STANCE_MAX_BODY_BYTES before reading them whole, and
    non-JSON bodies on POST, as errors of the same shape as the API's."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            shown = media_type or "none"
            return await _send_error(send, UnsupportedMediaType(f"content type must be application/json, got {shown}"))
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _send_error(send, InvalidInput("Content-Length is not a number"))
            if int(declared) > limit:
                return await _send_error(
                    send, PayloadTooLarge(f"request body of {declared} bytes is over the limit STANCE_MAX_BODY_BYTES={limit}")
                )
        received = 0
        too_large = False

        async def counting_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def guarded_send(message):
            nonlocal started
            if too_large:
                # The app's answer to a body cut short (FastAPI says 400) gives way to the 413 below.
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        error = PayloadTooLarge(f"request body is over the limit STANCE_MAX_BODY_BYTES={limit}")
        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # The app saw the body cut short; the caller hears why.
            if not (too_large and not started):
                raise
            await _send_error(send, error)
            return
        if too_large and not started:
            await _send_error(send, error)


class MetricsMiddleware:
    """Count and time every HTTP request by route and status.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's
    BaseHTTPMiddleware spends a task and two memory streams on each request,
    more than half of the HTTP layer's CPU time (bench/README.md).
    """

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def recording_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            path = route.path if route is not None else "unmatched"
            self.metrics.requests.labels(path, str(status)).inc()
            if status >= 400:
                self.metrics.errors.labels(str(status)).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)


async def _send_error(send, error: ServiceError) -> None:
    body = json.dumps({"error": error.code, "message": error.message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class State:
    """What the running service holds: the engine, the batcher, readiness."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine: Engine | None = None
        self.batcher: MicroBatcher | None = None
        self.not_ready_reason: str | None = "model is loading"
        self.info: dict = {}


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    state = State(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            state.engine = engine or await asyncio.to_thread(Engine.from_settings, settings)
            # A load is not a success until the model has answered once.
            await asyncio.to_thread(state.engine.classify, ["The council met on Tuesday to discuss the budget."])
        except (ModelLoadError, OSError, ValueError, KeyError) as exc:
            state.not_ready_reason = f"model not loaded: {exc}"
            log.error("%s", state.not_ready_reason)
        else:
            state.info = state.engine.info()
            state.batcher = MicroBatcher(
                state.engine.classify, settings.batch_size, settings.max_wait_ms, settings.max_queue_units,
                on_batch=lambda n: (metrics.batch_units.observe(n), metrics.units.inc(n)),
                concurrency=state.engine.replicas,
            )
            state.batcher.start()
            state.not_ready_reason = None
            log.info("model %s ready (%s engine)", state.info["name"], state.info["engine"])
        if not settings.key_set and settings.host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("serving on %s without API keys: anyone who can reach it can use it", settings.host)
        yield
        state.not_ready_reason = "shutting down"
        if state.batcher:
            await state.batcher.close()

    app = FastAPI(
        title="Editorial stance classifier",
        version=__version__,
        description="Labels each paragraph (or sentence) of a news article as reporting, quote or commentary.",
        lifespan=lifespan,
    )
    app.state.stance = state
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError):
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # FastAPI answers a body that json cannot decode (bad UTF-8, nesting too
        # deep, an over-long number) with a bare 400: to callers that is malformed input.
        if exc.status_code == 400:
            return await service_error(request, InvalidInput("the body is not valid JSON: it must be UTF-8 and not nested too deeply"))
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return JSONResponse({"error": code, "message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = []
        for error in exc.errors()[:10]:
            if error.get("type") == "json_invalid":
                # Here loc holds a character offset, not a field.
                reason = error.get("ctx", {}).get("error", "cannot decode")
                problems.append(f"the body is not valid JSON: {reason} (character {error['loc'][-1]})")
                continue
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return JSONResponse({"error": "invalid_input", "message": "; ".join(problems)}, status_code=422)

    async def require_key(request: Request) -> None:
        # async: a plain def would cost every request a hop to the thread pool.
        keys = settings.key_set
        if not keys:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        presented = token.strip().encode() if scheme.lower() == "bearer" else b""
        # Compare against every key, always, so timing reveals nothing.
        matched = False
        for key in keys:
            matched |= hmac.compare_digest(presented, key.encode())
        if not matched:
            raise Unauthorized("a valid API key is required: send 'Authorization: Bearer <key>'", {"WWW-Authenticate": "Bearer"})

    async def run(documents: list[tuple[schemas.Document, str]]) -> list[dict]:
        if state.batcher is None:
            raise NotReady(state.not_ready_reason or "model not loaded", {"Retry-After": "5"})
        prepared = []
        for document, granularity in documents:
            try:
                prepared.append(analyze.prepare(settings, document.text, document.paragraphs, granularity))
            except analyze.LimitError as exc:
                raise PayloadTooLarge(str(exc)) from exc
            except analyze.InputError as exc:
                raise InvalidInput(str(exc)) from exc
        texts = [t for units in prepared for t in analyze.prose_texts(units)]
        if len(texts) > settings.max_queue_units:
            raise PayloadTooLarge(f"{len(texts)} units in one request is over the limit STANCE_MAX_QUEUE_UNITS={settings.max_queue_units}")
        metrics.queue_depth.set(state.batcher.queued_units + len(texts))
        try:
            # asyncio.timeout, not wait_for: no extra task per request.
            async with asyncio.timeout(settings.request_timeout_s):
                probs = await state.batcher.classify(texts)
        except QueueFull as exc:
            raise Overloaded(str(exc), {"Retry-After": str(exc.retry_after)}) from exc
        except TimeoutError as exc:
            raise Overloaded(
                f"no answer within STANCE_REQUEST_TIMEOUT_S={settings.request_timeout_s}s; the service is busy",
                {"Retry-After": str(state.batcher.retry_after())},
            ) from exc
        except BatcherClosed as exc:
            raise NotReady(str(exc), {"Retry-After": "5"}) from exc
        finally:
            metrics.queue_depth.set(state.batcher.queued_units)
        results, offset = [], 0
        for units, (_, granularity) in zip(prepared, documents):
            n = len(analyze.prose_texts(units))
            results.append(analyze.assemble(units, probs[offset : offset + n], granularity, settings.opinion_threshold))
            offset += n
        return results

    def model_ref() -> dict:
        return {"name": state.info.get("name", "none"), "version": state.info.get("version", "none")}

    @app.post("/v1/classify", response_model=schemas.ClassifyResponse, responses=ERROR_RESPONSES, dependencies=[Depends(require_key)])
    async def classify(body: schemas.ClassifyRequest) -> dict:
        """Classify one article (`text`) or a list of paragraphs (`paragraphs`)."""
        (result,) = await run([(body, body.granularity)])
        return {**result, "model": model_ref()}

    @app.post("/v1/classify/batch", response_model=schemas.BatchResponse, responses=ERROR_RESPONSES, dependencies=[Depends(require_key)])
    async def classify_batch(body: schemas.BatchRequest) -> dict:
        """Classify many documents in one request; each result carries its document's id."""
        if len(body.documents) > settings.max_documents:
            raise PayloadTooLarge(
                f"{len(body.documents)} documents is over the limit STANCE_MAX_DOCUMENTS={settings.max_documents}"
            )
        ids = [d.id for d in body.documents]
        if len(set(ids)) != len(ids):
            raise InvalidInput("document ids must be unique within a batch")
        results = await run([(d, body.granularity) for d in body.documents])
        return {"results": [{"id": i, **r} for i, r in zip(ids, results)], "model": model_ref()}

    @app.get("/v1/model", response_model=schemas.ModelInfo, responses=ERROR_RESPONSES, dependencies=[Depends(require_key)])
    async def model_info() -> dict:
        """What is loaded: name, version, base model, labels, data summary, test scores, engine."""
        if not state.info:
            raise NotReady(state.not_ready_reason or "model not loaded", {"Retry-After": "5"})
        return state.info

    @app.get("/v1/examples", response_model=list[schemas.Example])
    async def examples() -> list[dict]:
        """The seed articles, for the demo page."""
        return [{"name": p.stem, "text": p.read_text(encoding="utf-8")} for p in sorted(settings.examples_dir.glob("*.txt"))]

    @app.get("/healthz", response_model=schemas.Health)
    async def healthz() -> dict:
        """The process is alive (it may still be loading the model)."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=schemas.Readiness, responses={503: {"model": schemas.Readiness}})
    async def readyz():
        """Ready only once the model is loaded and has answered."""
        if state.not_ready_reason:
            return JSONResponse({"ready": False, "reason": state.not_ready_reason}, status_code=503)
        return {"ready": True, "reason": None}

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    return app
