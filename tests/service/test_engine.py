import sys

import numpy as np
import pytest

from service.engine import Engine, ModelLoadError
from service.labels import LABELS


def test_onnx_engine_serves_without_importing_torch(tiny_model):
    import subprocess

    code = (
        "import sys; from service.engine import Engine; "
        f"e = Engine({str(tiny_model)!r}); p = e.classify(['The council met on Tuesday.']); "
        "assert e.backend_name == 'onnx'; assert 'torch' not in sys.modules, 'torch imported'; print(p.shape)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "(1, 3)" in out.stdout


def test_probabilities_are_calibrated_distributions(tiny_model):
    engine = Engine(tiny_model)
    probs = engine.classify(["Police said two men were arrested.", "This decision is a disgrace.", ""])
    assert probs.shape == (3, len(LABELS))
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert engine.temperature > 0


def test_long_units_are_windowed_not_truncated(tiny_model):
    engine = Engine(tiny_model, window_tokens=64, window_stride=48)
    long_text = " ".join(f"Sentence number {i} reports that the council approved item {i}." for i in range(60))
    windows = engine.windows([long_text])
    assert len(windows) > 5
    covered = set()
    tokens = engine.tokenizer.encode(long_text, add_special_tokens=False).ids
    for w in windows:
        assert len(w.ids) <= 64
    body = 62
    starts = list(range(0, len(tokens) - body + 1, 48))
    if starts[-1] + body < len(tokens):
        starts.append(len(tokens) - body)
    for s in starts:
        covered.update(range(s, min(s + body, len(tokens))))
    assert covered == set(range(len(tokens)))
    # The combined score of a long unit differs from its first window alone.
    first_window = engine.tokenizer.decode(tokens[:body])
    assert not np.allclose(engine.classify([long_text]), engine.classify([first_window]))


def test_batch_order_does_not_change_results(tiny_model):
    engine = Engine(tiny_model, batch_size=2)
    texts = ["Short one here.", "A much longer paragraph about the central bank and interest rates " * 3, "Mid length text about a football match."]
    forward = engine.classify(texts)
    backward = engine.classify(texts[::-1])[::-1]
    assert np.allclose(forward, backward, atol=1e-5)


def test_torch_and_onnx_agree(tiny_model):
    texts = ["The ministry said 12 people died.", "Critics warned the plan would fail.", "It is time to rethink the policy."]
    onnx = Engine(tiny_model, engine="onnx").classify(texts)
    torch = Engine(tiny_model, engine="torch").classify(texts)
    assert (onnx.argmax(1) == torch.argmax(1)).all()
    assert np.abs(onnx - torch).max() < 1e-3


def test_missing_or_corrupt_model_directory_fails_clearly(tmp_path, tiny_model):
    with pytest.raises(ModelLoadError, match="no config.json"):
        Engine(tmp_path)
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "onnx" / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="cannot load ONNX model"):
        Engine(broken)
    (broken / "config.json").write_text("{ not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        Engine(broken)


def test_int8_precision_serves_the_quantized_variant_or_says_why_not(tiny_model, tmp_path):
    import shutil

    from onnxruntime.quantization import QuantType, quantize_dynamic

    from service.engine import INT8_FILE
    from service.settings import Settings

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    with pytest.raises(ModelLoadError, match="STANCE_PRECISION=fp32"):
        Engine(model, precision="int8")
    quantize_dynamic(str(model / "onnx" / "model.onnx"), str(model / "onnx" / INT8_FILE), weight_type=QuantType.QInt8)
    engine = Engine.from_settings(Settings(model_dir=model, precision="int8"))
    assert engine.backend_name == "onnx-int8"
    # auto, the default, serves the kept variant; fp32 and the torch engine never do.
    assert Engine.from_settings(Settings(model_dir=model)).backend_name == "onnx-int8"
    assert Engine(model).backend_name == "onnx"
    assert Engine(model, precision="fp32").backend_name == "onnx"
    texts = ["Police said two men were arrested.", "This decision is a disgrace and must be reversed."]
    probs = engine.classify(texts)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert np.abs(probs - Engine(model).classify(texts)).max() < 0.2
    with pytest.raises(ValueError, match="needs the ONNX engine"):
        Settings(model_dir=model, precision="int8", engine="torch")
    with pytest.raises(ModelLoadError, match="needs the ONNX engine"):
        Engine(model, engine="torch", precision="int8")


def test_replicas_run_batches_side_by_side_with_the_same_answers(tiny_model):
    texts = [f"Officials said {i} people were moved to shelters." + " Rain fell." * (i % 40) for i in range(120)]
    single = Engine(tiny_model, threads=2, replicas=1)
    pair = Engine(tiny_model, threads=2, replicas=2, batch_size=8)
    assert single.replicas == 1 and pair.replicas == 2
    assert np.allclose(single.classify(texts), pair.classify(texts), atol=1e-5)
    assert pair.tokens_processed == single.tokens_processed
