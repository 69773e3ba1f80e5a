"""The `stance` command: serve, classify, train, evaluate, export, data.

Training subcommands import the `training` package lazily, so a serving
install (the Docker image) runs `serve` and `classify` without torch.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from pydantic import ValidationError

from service.settings import Settings

TRAINING_COMMANDS = {
    "train": ("training.train", "fine-tune the stance model"),
    "evaluate": ("training.evaluate", "score a model and the baselines on the held-out sets"),
    "export": ("training.export", "export a model to ONNX and check parity"),
    "data": ("training.dataset", "rebuild the labelled data set from the installed packages"),
}


def _settings(**overrides) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"error: invalid settings: {problems}") from None


def ensure_model(settings: Settings) -> None:
    """Train and export the default model when no model directory exists."""
    if (settings.model_dir / "config.json").exists():
        return
    print(f"no model at {settings.model_dir}; training the default model first (about 19 minutes on 2 cores)", file=sys.stderr)
    try:
        from training import export, train
    except ImportError as exc:
        raise SystemExit(f"error: no model at {settings.model_dir} and training dependencies are missing ({exc}); run `make install`") from exc
    code = train.main(["--output-dir", str(settings.model_dir)])
    if code == 0:
        code = export.main(["--model-dir", str(settings.model_dir)])
    if code != 0:
        raise SystemExit(code)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    settings = _settings(host=args.host, port=args.port, model_dir=args.model_dir, engine=args.engine, precision=args.precision)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.no_train:
        ensure_model(settings)
    # uvicorn drains in-flight requests on SIGTERM, then raises SIGTERM again so
    # the process dies by the signal (exit -15/143); a completed drain is a clean exit.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.request_timeout_s),
        access_log=False,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in TRAINING_COMMANDS:
        import importlib

        try:
            module = importlib.import_module(TRAINING_COMMANDS[argv[0]][0])
        except ImportError as exc:
            print(f"error: `stance {argv[0]}` needs the training dependencies ({exc}); run `make install`", file=sys.stderr)
            return 2
        return module.main(argv[1:])

    parser = argparse.ArgumentParser(prog="stance", description="Editorial stance classifier: reporting, quote or commentary.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="start the REST API (trains the default model first if there is none)")
    p.add_argument("--host", default=None, help="bind address (STANCE_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (STANCE_PORT, default 8000)")
    p.add_argument("--model-dir", default=None, help="model directory (STANCE_MODEL_DIR)")
    p.add_argument("--engine", default=None, choices=("auto", "onnx", "torch"), help="STANCE_ENGINE")
    p.add_argument("--precision", default=None, choices=("auto", "fp32", "int8"), help="STANCE_PRECISION (auto: int8 if `stance export` kept it)")
    p.add_argument("--no-train", action="store_true", help="fail instead of training when no model exists")
    p.set_defaults(func=serve)

    from service import batch

    batch.add_parser(sub)
    for name, (_, help_text) in TRAINING_COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
