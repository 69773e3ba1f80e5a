"""Request and response models of the REST API, in one place, documented for OpenAPI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Granularity = Literal["paragraph", "sentence"]


class _Strict(BaseModel):
    # Unknown fields are refused: an ambiguous request is an error, not a guess.
    model_config = ConfigDict(extra="forbid")


class Document(_Strict):
    text: str | None = Field(None, description="A whole article; the service splits it into paragraphs.")
    paragraphs: list[str] | None = Field(None, description="Paragraphs taken as given (non-prose still skipped).")

    @model_validator(mode="after")
    def _one_input(self) -> "Document":
        if (self.text is None) == (self.paragraphs is None):
            raise ValueError("give exactly one of 'text' (an article) or 'paragraphs' (a list of strings)")
        return self


class ClassifyRequest(Document):
    granularity: Granularity = Field("paragraph", description="Label paragraphs or sentences.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "The minister resigned on Monday.\n\nThis was long overdue.", "granularity": "paragraph"}]},
    )


class BatchDocument(Document):
    id: str = Field(..., min_length=1, max_length=512, description="Caller's identifier, echoed in the result.")


class BatchRequest(_Strict):
    documents: list[BatchDocument] = Field(..., min_length=1, description="Documents to classify.")
    granularity: Granularity = "paragraph"


class Scores(BaseModel):
    reporting: float
    quote: float
    commentary: float


class UnitResult(BaseModel):
    index: int = Field(..., description="Position of the unit in the document.")
    paragraph_index: int = Field(..., description="Paragraph the unit belongs to.")
    start: int = Field(..., description="Character offset of the unit in the input text (or its paragraph).")
    end: int = Field(..., description="End offset (exclusive).")
    text: str
    skipped: bool = Field(..., description="True for non-prose units, which get no stance.")
    skip_reason: str | None = Field(None, description="headline, byline, dateline, navigation, heading, fragment...")
    label: Literal["reporting", "quote", "commentary"] | None = None
    scores: Scores | None = Field(None, description="Calibrated probabilities of the three labels.")


class Profile(BaseModel):
    prose_units: int
    skipped_units: int
    prose_chars: int
    shares: Scores = Field(..., description="Share of prose characters per label.")
    counts: dict[str, int]
    dominant: Literal["reporting", "quote", "commentary"] | None
    opinion_heavy: bool = Field(..., description="Commentary share at or above the threshold.")
    opinion_threshold: float


class ModelRef(BaseModel):
    name: str
    version: str


class ClassifyResponse(BaseModel):
    granularity: Granularity
    units: list[UnitResult]
    profile: Profile
    model: ModelRef


class BatchResult(BaseModel):
    id: str
    granularity: Granularity
    units: list[UnitResult]
    profile: Profile


class BatchResponse(BaseModel):
    results: list[BatchResult]
    model: ModelRef


class ModelInfo(BaseModel):
    name: str
    version: str
    base_model: str
    labels: list[str]
    engine: str
    window_tokens: int
    temperature: float
    training_data: dict
    test_scores: dict


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    reason: str | None = None


class ErrorBody(BaseModel):
    error: str = Field(..., description="Machine-readable error code.")
    message: str = Field(..., description="What went wrong and, where it applies, the limit and the value.")


class Example(BaseModel):
    name: str
    text: str
