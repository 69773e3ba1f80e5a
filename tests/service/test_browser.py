"""The demo page in headless Chromium: the seeds side by side, coloured by stance."""

import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
         "--no-first-run", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (CI installs it in .ci/run)"),
]


def run_chromium(tmp_path, *args):
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)


def test_seeds_rendered_side_by_side_with_colours_and_scores(live_server, tmp_path):
    url = f"{live_server.url}/?demo=seeds"
    dom = run_chromium(tmp_path, "--virtual-time-budget=30000", "--dump-dom", url).stdout
    assert dom.count('class="column"') == 5
    labelled = re.findall(r'class="unit (reporting|quote|commentary)" title="reporting: [0-9.]+\nquote: [0-9.]+\ncommentary: [0-9.]+"', dom)
    assert len(labelled) >= 40, "every prose paragraph is coloured and carries its scores on hover"
    assert dom.count('class="unit skipped"') >= 5
    assert dom.count('class="bar"') == 5 and 'data-label="commentary"' in dom

    png = tmp_path / "seeds.png"
    run_chromium(tmp_path, "--virtual-time-budget=30000", "--window-size=1800,1100", f"--screenshot={png}", url)
    from PIL import Image

    image = Image.open(png).convert("RGB")
    assert image.size == (1800, 1100)
    colours = {name: 0 for name in ("reporting", "quote", "commentary")}
    targets = {"reporting": (0xD8, 0xE8, 0xF7), "quote": (0xFB, 0xE3, 0xC2), "commentary": (0xF6, 0xCF, 0xD6)}
    for pixel in image.getdata():
        for name, rgb in targets.items():
            if pixel == rgb:
                colours[name] += 1
    assert max(colours.values()) > 2000, colours  # paragraphs are painted in their stance colour
