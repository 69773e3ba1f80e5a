"""The stance engine as a Ray Data actor, for users who outgrow one machine.

    import ray
    from service.ray_engine import classify_dataset

    ray.init(address="ray://head-node:10001")       # or "auto" inside a cluster
    ds = ray.data.read_json("s3://bucket/paragraphs/")  # rows with a "text" column
    labelled = classify_dataset(ds, model_dir="/models/stance-minilm", workers=8)

Each worker loads the model once (an actor), then classifies batches of
rows; `stance classify --engine ray` uses the same function.
"""

from __future__ import annotations

import numpy as np

from service.labels import LABELS
from service.settings import Settings

RAY_BATCH_ROWS = 256


class StanceActor:
    """Loads the engine once per worker; called with batches of rows."""

    def __init__(self, settings_json: str, text_column: str = "text"):
        from service.engine import Engine

        settings = Settings.model_validate_json(settings_json)
        self.engine = Engine.from_settings(settings)
        self.text_column = text_column

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        probs = self.engine.classify([str(t) for t in batch[self.text_column]])
        out = dict(batch)
        out["label"] = np.array([LABELS[i] for i in probs.argmax(axis=1)])
        for i, label in enumerate(LABELS):
            out[f"score_{label}"] = probs[:, i]
        return out


def classify_dataset(ds, model_dir: str | None = None, workers: int = 1, text_column: str = "text", settings: Settings | None = None):
    """Add `label` and `score_<label>` columns to a Ray Dataset with a text column."""
    settings = settings or Settings()
    if model_dir is not None:
        settings = settings.model_copy(update={"model_dir": model_dir})
    return ds.map_batches(
        StanceActor,
        fn_constructor_kwargs={"settings_json": settings.model_dump_json(), "text_column": text_column},
        batch_size=RAY_BATCH_ROWS,
        batch_format="numpy",
        compute=_actor_pool(workers),
    )


def _actor_pool(workers: int):
    import ray.data

    return ray.data.ActorPoolStrategy(size=workers)


def ray_classifier(settings: Settings, address: str | None, workers: int):
    """A `texts -> probabilities` function for the batch command, backed by Ray."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
    ray.data.DataContext.get_current().execution_options.preserve_order = True

    def classify(texts: list[str]) -> np.ndarray:
        ds = ray.data.from_items([{"position": i, "text": t} for i, t in enumerate(texts)])
        rows = classify_dataset(ds, workers=workers, settings=settings).take_all()
        rows.sort(key=lambda row: row["position"])
        return np.array([[row[f"score_{label}"] for label in LABELS] for row in rows], dtype=np.float32)

    return classify
