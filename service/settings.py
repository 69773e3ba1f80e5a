"""One settings object for the service, the batch command and the engine.

Every field can be set with an environment variable `STANCE_<FIELD>`; the CLI
flags write into the same object. Unsafe combinations fail at start-up.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "stance-minilm"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STANCE_", extra="ignore")

    model_dir: Path = Field(DEFAULT_MODEL_DIR, description="Model directory (Hugging Face format, optional onnx/).")
    examples_dir: Path = Field(REPO_ROOT / "seeds", description="Articles offered as examples on the demo page.")
    engine: str = Field("auto", description="auto (ONNX if exported, else torch), onnx or torch.")
    precision: str = Field(
        "auto",
        description="auto (int8 when `stance export` kept an int8 variant, else fp32), fp32 or int8. Export keeps int8 only when it is measurably faster and within 0.005 macro-F1 of fp32; its probabilities differ from fp32 by up to a few hundredths.",
    )
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the server listens on.")
    threads: int = Field(0, ge=0, description="Inference threads; 0 means one per CPU core.")
    replicas: int = Field(0, ge=0, description="ONNX sessions that run batches side by side, each on threads/replicas cores; 0 means one per inference thread.")

    max_body_bytes: int = Field(2_000_000, ge=1024, description="Largest request body accepted (413 above).")
    max_unit_chars: int = Field(20_000, ge=100, description="Most characters in one paragraph or sentence.")
    max_units: int = Field(500, ge=1, description="Most units (paragraphs or sentences) in one document.")
    max_documents: int = Field(64, ge=1, description="Most documents in one batch request.")
    max_text_chars: int = Field(500_000, ge=1000, description="Most characters of article text in one document.")
    max_queue_units: int = Field(4096, ge=1, description="Units waiting for the model before 503.")
    request_timeout_s: float = Field(30.0, gt=0, description="A request still waiting after this gets 503.")

    batch_size: int = Field(32, ge=1, le=1024, description="Units the micro-batcher gathers for one model call; most windows in one model batch.")
    max_batch_tokens: int = Field(1024, ge=64, description="Most padded tokens in one model batch; larger batches run slower per token on CPU.")
    max_wait_ms: float = Field(
        0.0, ge=0,
        description="How long a free model replica waits for more requests before it runs a call. On CPU a call of one "
        "paragraph costs per paragraph about what a batch does, so the default 0 never leaves a replica idle; "
        "requests that arrive while every replica is busy still gather into the next call.",
    )
    window_tokens: int = Field(256, ge=32, le=512, description="Model window; longer units are split.")
    window_stride: int = Field(192, ge=16, description="Token step between windows of a long unit.")

    opinion_threshold: float = Field(0.5, ge=0, le=1, description="Commentary share of prose that flags opinion-heavy.")
    api_keys: str = Field("", description="Comma-separated bearer tokens; empty disables auth.", repr=False)
    log_level: str = Field("info", description="Log level of the server.")

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ("auto", "onnx", "torch"):
            raise ValueError("engine must be auto, onnx or torch")
        return value

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, value: str) -> str:
        if value not in ("auto", "fp32", "int8"):
            raise ValueError("precision must be auto, fp32 or int8")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        if self.precision == "int8" and self.engine == "torch":
            raise ValueError("STANCE_PRECISION=int8 needs the ONNX engine; set STANCE_ENGINE to onnx or auto")
        if self.window_stride > self.window_tokens - 2:
            raise ValueError(
                f"STANCE_WINDOW_STRIDE ({self.window_stride}) must be at most STANCE_WINDOW_TOKENS - 2 "
                f"({self.window_tokens - 2}), or windows would leave gaps"
            )
        if self.max_unit_chars > self.max_text_chars:
            raise ValueError("STANCE_MAX_UNIT_CHARS cannot exceed STANCE_MAX_TEXT_CHARS")
        return self

    @property
    def key_set(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.api_keys.split(",") if k.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
