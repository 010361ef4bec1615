#!/usr/bin/env python3
"""Screenshots of the dashboard for docs/demo.md, taken from a real ``nzd demo`` in Chromium.

    .venv/bin/python scripts/screenshots.py [--minutes 2] [--chromium /usr/bin/chromium]

Starts the demo at its defaults (07:00 of a clear June weekday, 60x), lets ``--minutes`` of wall
time pass (two minutes: simulated 09:00, the morning ramp and the first plans), logs in as the
operator and saves the overview, the firm view (Tintoria Rossi) and the plan page (the community
battery) at 1400 and 800 px wide into docs/img/. Ctrl-C stops the demo with everything it started.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from nzd.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
WIDTHS = (1400, 800)


def _start_demo(workdir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "nzd", "demo", "--port", str(port), "--dir", str(workdir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C stops everything." in line:
            break
        if time.monotonic() > deadline:
            break
    text = "".join(lines)
    found = re.search(r"user 'operator'\s+password '([^']+)'", text)
    if found is None:
        proc.kill()
        raise SystemExit(f"the demo did not start:\n{text}")
    return proc, found.group(1)


def _shoot(page: Page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(800)  # charts redraw at their new width on the next refresh
        path = OUT / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"wrote {path.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="wall minutes to let the demo run first")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium to drive")
    parser.add_argument("--dir", type=Path, default=None, help="keep the demo's folder (store, logs) here")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nzd-shots-") as tmp:
        proc, password = _start_demo(args.dir or Path(tmp), port)
        try:
            time.sleep(args.minutes * 60)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": WIDTHS[0], "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                page.click("#login-button")
                page.fill("#login-username", "operator")
                page.fill("#login-password", password)
                page.click("#login-submit")
                expect(page.locator("#live-state")).to_have_text("● live", timeout=30_000)
                expect(page.locator("#tile-shared .value")).not_to_have_text("–", timeout=30_000)
                _shoot(page, "overview")
                page.click("#tabs [data-view=firm]")
                page.select_option("#firm-site", "tintoria-rossi")
                expect(page.locator("#firm-chart-batch-power path").first).to_be_attached(timeout=30_000)
                _shoot(page, "firm")
                page.click("#tabs [data-view=plan]")
                page.select_option("#plan-site", "comunita-energetica")
                expect(page.locator("#plan-targets")).to_contain_text("battery", timeout=30_000)
                _shoot(page, "plan")
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
