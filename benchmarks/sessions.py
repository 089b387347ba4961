"""Ten people training at once: concurrent browser sessions on one server, each against a solo run.

Starts the server (the README command, as tests/e2e/conftest.py does) with its session store in a
temporary directory, then drives headless Chromium with Playwright's async API:

1. solo: one browser context opens the app (the bundled sample), clicks "Train and evaluate" with
   the Train page's default selection and waits for the results; Compare's "Download CSV" gives
   its numbers. This is the baseline, measured in the same process.
2. load: ``--sessions`` contexts (default 10) in the same Chromium do the same at the same time.

Prints: errors (0 expected: exceptions in the browser flow, exceptions or failed models shown in
the page, tracebacks in the server log), whether every session's metric values (all but
fit_seconds / score_seconds) are identical to the solo run's, the slowest session's training wall
time against the solo time, and whether the server still answers /_stcore/health.

Run: python benchmarks/sessions.py [--sessions 10]   (Debian's chromium; never `playwright install`)
Several minutes on 2 cores. Not run in CI.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMED = ("fit_seconds", "score_seconds")
KEY = ["model", "fold", "metric", "k", "bucket"]
TIMEOUT = 45 * 60_000  # ms: ten sessions of the default models on two cores


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(log_path: Path, session_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    log = open(log_path, "w")
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1", "RECSYS_SESSION_DIR": session_dir})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start; see {log_path}")
        time.sleep(0.5)
    return server, url


async def wait_idle(page) -> None:
    await page.wait_for_timeout(400)
    await page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
              || !document.querySelector('[data-testid="stStatusWidget"]').innerText.includes('Running')""",
        timeout=TIMEOUT)


async def go(page, title: str) -> None:
    await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    await page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=120_000)
    await wait_idle(page)


async def page_problems(page) -> list[str]:
    """Exceptions and failed models the page shows."""
    problems = [f"exception: {text[:200]}" for text in
                await page.locator('[data-testid="stException"]').all_inner_texts()]
    problems += [f"shown error: {text[:200]}" for text in
                 await page.locator('[data-testid="stAlertContentError"]').all_inner_texts()]
    return problems


async def session(browser, url: str, name: str) -> dict:
    """One visitor: open, train the default models on the sample, download Compare's CSV."""
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    out: dict = {"name": name, "errors": [], "seconds": None, "table": None}
    try:
        await page.goto(url)
        await page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=TIMEOUT)  # the sample
        await go(page, "Train")
        button = page.get_by_role("button", name=re.compile("Train and evaluate"))
        await button.wait_for(timeout=120_000)
        start = time.perf_counter()
        await button.click()
        # Nothing was trained in this session before, so the first "Results ready" is this training's.
        await page.get_by_text(re.compile("Results ready for")).wait_for(timeout=TIMEOUT)
        out["seconds"] = time.perf_counter() - start
        await wait_idle(page)
        out["errors"] += await page_problems(page)
        await go(page, "Compare")
        csv_button = page.get_by_role("button", name=re.compile("Download CSV"))
        await csv_button.wait_for(timeout=120_000)
        async with page.expect_download(timeout=120_000) as info:
            await csv_button.click()
        download = await info.value
        out["table"] = pd.read_csv(io.BytesIO(Path(await download.path()).read_bytes()))
        out["errors"] += [p for p in await page_problems(page) if "failed and is not shown" in p
                          or p.startswith("exception")]
    except Exception as error:  # noqa: BLE001 -- counted and printed: the benchmark reports every failure
        out["errors"].append(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")
    finally:
        await context.close()
    return out


def metric_values(table: pd.DataFrame) -> pd.DataFrame:
    kept = table[~table["metric"].isin(TIMED)][KEY + ["value"]].copy()
    kept["k"] = kept["k"].astype("string")
    return kept.sort_values(KEY).reset_index(drop=True)


def differences(table: pd.DataFrame, solo: pd.DataFrame) -> str | None:
    """None when the metric values equal the solo run's exactly, else what differs."""
    mine, base = metric_values(table), metric_values(solo)
    if not mine[KEY].equals(base[KEY]):
        return f"different rows: {len(mine)} vs {len(base)} (models {sorted(set(mine['model']))})"
    diff = (mine["value"] - base["value"]).abs()
    same = (mine["value"] == base["value"]) | (mine["value"].isna() & base["value"].isna())
    if same.all():
        return None
    worst = diff.idxmax()
    return (f"{int((~same).sum())} values differ, largest {diff.max():.3g} at "
            f"{' / '.join(str(v) for v in mine.loc[worst, KEY])}")


async def run(url: str, n_sessions: int) -> tuple[dict, list[dict], float]:
    from playwright.async_api import async_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            print("solo session…", flush=True)
            solo = await session(browser, url, "solo")
            print(f"  trained in {solo['seconds']:.1f} s" if solo["seconds"] else f"  failed: {solo['errors']}",
                  flush=True)
            print(f"{n_sessions} concurrent sessions…", flush=True)
            start = time.perf_counter()
            many = await asyncio.gather(*(session(browser, url, f"s{i + 1:02d}") for i in range(n_sessions)))
            total = time.perf_counter() - start
        finally:
            await browser.close()
    return solo, list(many), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()

    session_dir = tempfile.mkdtemp(prefix="recsys-bench-sessions-")
    log_path = Path(tempfile.mkdtemp(prefix="recsys-bench-")) / "server.log"
    server, url = start_server(log_path, session_dir)
    try:
        solo, many, total = asyncio.run(run(url, args.sessions))
        alive = healthy(url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(session_dir, ignore_errors=True)

    log_text = log_path.read_text(errors="replace")
    tracebacks = log_text.count("Traceback (most recent call last)")
    print()
    print(f"server log: {log_path} ({tracebacks} tracebacks)")
    if solo["table"] is None:
        raise SystemExit(f"the solo run failed: {solo['errors']}")
    models = sorted(set(solo["table"]["model"]))
    print(f"models (the Train page's default selection, sample data): {len(models)}: {', '.join(models)}")
    print(f"solo: {solo['seconds']:.1f} s to train; errors: {len(solo['errors'])}")
    print()
    print(f"{'session':8} {'train s':>8}  {'errors':>6}  same numbers as solo")
    errors = len(solo["errors"]) + tracebacks
    identical = 0
    for out in many:
        errors += len(out["errors"])
        diff = "no table" if out["table"] is None else differences(out["table"], solo["table"])
        identical += diff is None
        seconds = f"{out['seconds']:8.1f}" if out["seconds"] is not None else f"{'-':>8}"
        print(f"{out['name']:8} {seconds}  {len(out['errors']):6d}  {'yes' if diff is None else 'NO: ' + diff}")
        for error in out["errors"]:
            print(f"{'':8}   ! {error}")
    times = [out["seconds"] for out in many if out["seconds"] is not None]
    print()
    print(f"errors: {errors} (0 expected)")
    print(f"sessions with numbers identical to the solo run: {identical} of {len(many)}")
    if times:
        slowest = max(times)
        print(f"slowest session: {slowest:.1f} s; solo: {solo['seconds']:.1f} s; ratio {slowest / solo['seconds']:.1f}x "
              f"(median session {sorted(times)[len(times) // 2]:.1f} s; all {len(many)} done in {total:.1f} s; "
              f"{len(many)} sessions serially would be ~{len(many) * solo['seconds']:.0f} s)")
    print(f"server answers /_stcore/health at the end: {'yes' if alive else 'NO'}")
    if errors or identical != len(many) or not alive:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
