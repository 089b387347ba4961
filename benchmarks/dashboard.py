"""The dashboard on the bundled sample, timed in a real headless Chromium.

Measures, in one run:

* server start (the README command) to ``/_stcore/health``, and to the first
  page rendered with the sample loaded;
* a full train of the Train page's default models (wall time in the browser),
  against the same models evaluated by the engine directly in this process
  (the baseline: what the UI adds on top);
* page switches once models are fitted: browser wall time and the server's
  own time per page run (logged by app.py), and whether anything was refitted
  (goal: no refit, under 300 ms of server time).

Run: python benchmarks/dashboard.py   (needs Debian's chromium; never `playwright install`)
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LONG = 600_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def go(page, title: str) -> float:
    start = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    return time.perf_counter() - start


def engine_baseline() -> float:
    """The Train page's default models on its default split, evaluated by the engine alone."""
    from recsys_core import data
    from recsys_core.evaluation.runner import ModelSpec, evaluate
    from recsys_ui.ui import DEFAULT_MODELS, UI_DEFAULTS

    dataset = data.load_sample()
    specs = [ModelSpec(name, UI_DEFAULTS.get(name, {})) for name in DEFAULT_MODELS]
    start = time.perf_counter()
    evaluate(dataset, specs, split="random", split_params={"test_size": 0.2, "seed": 0}, ks=(5, 10, 20))
    return time.perf_counter() - start


def main() -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    log_file = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
               str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    start = time.perf_counter()
    server = subprocess.Popen(command, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        health = time.perf_counter() - start
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                                 args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url)
            page.get_by_role("heading", name="Data", exact=True).wait_for(timeout=LONG)
            page.get_by_text("Users", exact=True).first.wait_for(timeout=LONG)
            first_page = time.perf_counter() - start

            go(page, "Train")
            train_start = time.perf_counter()
            page.get_by_role("button", name=re.compile("Train and evaluate")).click()
            page.get_by_text(re.compile("Results ready for")).wait_for(timeout=LONG)
            train_seconds = time.perf_counter() - train_start

            log_file.flush()
            mark = Path(log_file.name).read_text().count("\n")
            switches = []
            for title in ["Compare", "Explore", "Compare", "Cold start", "Compare", "Train", "Compare"]:
                switches.append((title, go(page, title)))
            time.sleep(0.5)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    lines = Path(log_file.name).read_text().splitlines()[mark:]
    runs = [(m.group(1), float(m.group(2))) for m in (re.search(r"page (.+) ran in ([\d.]+) ms", line) for line in lines) if m]
    server_ms = [ms for _, ms in runs]
    refits = [line for line in lines if "fitted " in line]
    baseline = engine_baseline()
    print(f"server start -> /_stcore/health: {health:.1f} s")
    print(f"server start -> first page rendered (sample loaded): {first_page:.1f} s")
    print(f"full train of the default models (browser wall time): {train_seconds:.1f} s; "
          f"engine alone, same models and split: {baseline:.1f} s; ratio {train_seconds / baseline:.2f}x")
    walls = [seconds for _, seconds in switches]
    print("page switches (browser wall): " + ", ".join(f"{t} {s * 1000:.0f} ms" for t, s in switches))
    if server_ms:
        print("page runs (server time): " + ", ".join(f"{title} {ms:.0f} ms" for title, ms in runs))
        print(f"page runs (server time): median {statistics.median(server_ms):.0f} ms, max {max(server_ms):.0f} ms "
              f"over {len(server_ms)} runs")
    print(f"refits during page switches: {len(refits)}")
    # A page's first visit after training builds its charts (then cached); revisits only redraw.
    seen, revisits = set(), []
    for title, ms in runs:
        if title in seen:
            revisits.append(ms)
        seen.add(title)
    ok = not refits and revisits and max(revisits) < 300
    print(f"page revisits (server time): max {max(revisits, default=float('nan')):.0f} ms over {len(revisits)}; "
          f"page switch goal (no refit, < 300 ms server time): {'met' if ok else 'missed'}; "
          f"median browser wall {statistics.median(walls) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
