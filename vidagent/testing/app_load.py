"""The web app under load, for ``scripts/load_test.py`` and its test: N concurrent
``gradio_client`` sessions, each asking about its own clip, against a server in a subprocess
(``python -m vidagent.testing.app_load``, which logs the interval of every run).

Each session uploads its own video (session k shows k+1 squares) with a detections JSON, so the
real tracker runs (no detector weights needed), and asks "how many squares are there?" or, in find
mode, "the square on the left". ``run_load`` returns what it checked: isolation (every answer is
about the session's own clip), queueing (runs never overlap, every request served), the server's
RSS after the sessions end against its warmed-up baseline, and the temporary folders left.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from vidagent.testing.web import free_port

W, H, T, FPS = 128, 96, 16, 10.0
MODE_ASK = "Ask a question"  # the app's mode labels (vidagent.app.runner), without importing
MODE_FIND = "Find objects (referring expression)"  # the app in the client process


# ----------------------------------------------------------------------------- server side
def serve_main(port: int, root: Path, log_path: Path, use_llm: bool, idle_s: float) -> None:
    """Run the app (blocking until SIGINT/SIGTERM), logging each run's interval to ``log_path``."""
    import logging

    from vidagent import app as app_mod
    from vidagent.pipeline import Agent
    from vidagent.testing.doubles import RulesParser

    logging.basicConfig(level=logging.WARNING)
    lock = threading.Lock()

    def logged(method):
        def wrapper(self, *a, **k):
            t0 = time.time()
            try:
                return method(self, *a, **k)
            finally:
                with lock, open(log_path, "a") as f:
                    f.write(
                        json.dumps({"start": t0, "end": time.time(), "what": method.__name__})
                        + "\n"
                    )

        return wrapper

    class LoggedAgent(Agent):
        ask = logged(Agent.ask)
        segment = logged(Agent.segment)

        if not use_llm:

            @property
            def parser(self):
                return RulesParser()

    def factory(profile):
        return LoggedAgent(profile=profile, device="cpu", offline=True, progress=False)

    demo = app_mod.build_app(factory, profile="cpu", device="cpu", root=root)
    sessions = demo.vidagent_sessions
    sessions.idle_s = idle_s
    sessions.start_sweeper(every_s=0.5)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    app_mod.serve(demo, "127.0.0.1", port, block=False)
    print(f"READY http://127.0.0.1:{port}/", flush=True)
    stop.wait()
    demo.close()
    sessions.close_all()
    import shutil

    shutil.rmtree(root, ignore_errors=True)


# ----------------------------------------------------------------------------- client side
def square_x(j: int, t: int) -> int:
    return 4 + j * 30 + t


def make_clip(folder: Path, k: int) -> tuple[Path, Path]:
    """Session k's clip: k+1 squares side by side, drifting right; detections with RLE masks."""
    from vidagent.io.masks import encode_rle
    from vidagent.video import write_video

    folder.mkdir(parents=True, exist_ok=True)
    frames, dets = [], {}
    for t in range(T):
        f = np.full((H, W, 3), 110, np.uint8)
        items = []
        for j in range(k + 1):
            x = square_x(j, t)
            f[30:50, x : x + 20] = (220, 30 + 40 * j, 30)
            m = np.zeros((H, W), bool)
            m[30:50, x : x + 20] = True
            if t % 2 == 0:
                items.append(
                    {
                        "box": [x, 30, x + 20, 50],
                        "label": "square",
                        "score": 0.9,
                        "rle": encode_rle(m),
                    }
                )
        frames.append(f)
        if t % 2 == 0:
            dets[str(t)] = items
    video = Path(write_video(folder / f"clip{k}.mp4", frames, FPS))
    det_path = folder / f"clip{k}.json"
    det_path.write_text(json.dumps({"frames": dets}))
    return video, det_path


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def wait_ready(proc: subprocess.Popen, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("READY "):
            return line.split()[1]
        if not line and proc.poll() is not None:
            raise RuntimeError("the app exited before it was ready")
    raise TimeoutError("the app did not start")


def session_dirs(root: Path) -> list[Path]:
    return sorted(root.glob("session-*")) if root.is_dir() else []


def one_request(client, video: Path, dets: Path, mode: str, text: str) -> dict:
    from gradio_client import handle_file

    t0 = time.monotonic()
    outputs = client.predict(
        handle_file(str(video)), handle_file(str(dets)), mode, text, "cpu", api_name="/run"
    )
    answer, files = (
        outputs[0],
        outputs[-1],
    )  # (answer, details, evidence, overlay, timeline, plan, files)
    result = json.loads(Path(next(f for f in files if f.endswith(".json"))).read_text())
    return {"seconds": time.monotonic() - t0, "answer": answer, "result": result}


def run_load(
    sessions: int = 4,
    requests: int = 3,
    use_llm: bool = False,
    workdir: Path | None = None,
    idle_s: float = 3.0,
    timeout: float = 600,
) -> dict:
    """Start the server, drive the sessions, check isolation/queueing/memory/cleanup; returns numbers."""
    from gradio_client import Client

    ctx = tempfile.TemporaryDirectory(prefix="vidagent-load-") if workdir is None else None
    work = Path(workdir or ctx.name)
    work.mkdir(parents=True, exist_ok=True)
    root, gradio_tmp, log_path = work / "app", work / "gradio", work / "runs.jsonl"
    port = free_port()
    env = dict(
        os.environ,
        GRADIO_TEMP_DIR=str(gradio_tmp),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        OMP_NUM_THREADS="1",
        TMPDIR=str(work),
    )
    cmd = [
        sys.executable,
        "-m",
        "vidagent.testing.app_load",
        "--port",
        str(port),
        "--root",
        str(root),
        "--log",
        str(log_path),
        "--idle",
        str(idle_s),
    ] + (["--llm"] if use_llm else [])
    proc = subprocess.Popen(
        cmd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    report: dict = {"sessions": sessions, "requests_per_session": requests, "llm": use_llm}
    errors: list[str] = []
    try:
        url = wait_ready(proc)
        clips = [make_clip(work / "clips", k) for k in range(sessions)]
        # warm-up: one request (imports, first tracker run), then let its session expire
        warm = Client(url, verbose=False, download_files=str(work / "dl-warm"))
        one_request(warm, *clips[0], MODE_ASK, "how many squares are there?")
        warm.close() if hasattr(warm, "close") else None
        deadline = time.monotonic() + idle_s + 30
        while session_dirs(root) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.0)
        report["rss_baseline_mb"] = round(rss_mb(proc.pid), 1)
        log_path.write_text("")
        peak = [report["rss_baseline_mb"]]
        results: dict[int, list] = {k: [] for k in range(sessions)}

        def session(k: int) -> None:
            c = Client(url, verbose=False, download_files=str(work / f"dl-{k}"))
            video, dets = clips[k]
            for r in range(requests):
                mode = MODE_ASK if r % 2 == 0 else MODE_FIND
                text = (
                    "how many squares are there?" if mode == MODE_ASK else "the square on the left"
                )
                try:
                    results[k].append((mode, one_request(c, video, dets, mode, text)))
                except Exception as exc:  # noqa: BLE001 - recorded and reported
                    errors.append(f"session {k} request {r}: {type(exc).__name__}: {exc}")

        threads = [
            threading.Thread(target=session, args=(k,), daemon=True) for k in range(sessions)
        ]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        while any(th.is_alive() for th in threads):
            peak.append(rss_mb(proc.pid))
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"the load did not finish within {timeout} s")
            time.sleep(0.2)
        report["load_seconds"] = round(time.monotonic() - t0, 2)
        report["rss_peak_mb"] = round(max(peak), 1)
        report["sessions_during_load"] = len(session_dirs(root))
        # isolation: each session's answers are about its own clip
        wrong = []
        latencies = []
        for k, rows in results.items():
            for mode, row in rows:
                latencies.append(row["seconds"])
                res = row["result"]
                if mode == MODE_ASK and res.get("value") != k + 1:
                    wrong.append(f"session {k}: count {res.get('value')} (expected {k + 1})")
                if mode == MODE_FIND and len(res.get("ids", [])) != 1:
                    wrong.append(f"session {k}: referred ids {res.get('ids')} (expected one)")
        report["served"] = sum(len(v) for v in results.values())
        report["expected"] = sessions * requests
        report["wrong_answers"] = wrong
        report["errors"] = errors
        report["latency_s"] = {
            "min": round(min(latencies, default=0), 2),
            "max": round(max(latencies, default=0), 2),
            "mean": round(float(np.mean(latencies)) if latencies else 0, 2),
        }
        # queueing: the server's run intervals never overlap (concurrency 1)
        runs = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
        runs.sort(key=lambda r: r["start"])
        overlaps = sum(1 for a, b in itertools.pairwise(runs) if b["start"] < a["end"] - 1e-3)
        report["server_runs"] = len(runs)
        report["overlapping_runs"] = overlaps
        # sessions end (idle sweep): folders removed, memory back near the baseline
        deadline = time.monotonic() + idle_s + 30
        while session_dirs(root) and time.monotonic() < deadline:
            time.sleep(0.5)
        report["session_dirs_left"] = len(session_dirs(root))
        time.sleep(2.0)
        report["rss_after_mb"] = round(rss_mb(proc.pid), 1)
        report["rss_growth_mb"] = round(report["rss_after_mb"] - report["rss_baseline_mb"], 1)
        report["gradio_cache_files_while_running"] = sum(
            1 for p in gradio_tmp.rglob("*") if p.is_file()
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        report["server_exit"] = proc.returncode
    report["app_root_left"] = root.exists()
    left = [p for p in gradio_tmp.rglob("*") if p.is_file()]
    report["gradio_cache_files_after_stop"] = len(left)
    report["gradio_cache_bytes_after_stop"] = sum(p.stat().st_size for p in left)
    report["uploads_left_after_stop"] = sorted(p.name for p in left if p.name.startswith("clip"))
    if ctx is not None:
        ctx.cleanup()
    return report


if __name__ == "__main__":  # the server side of run_load
    ap = argparse.ArgumentParser(description="serve the app for the load test")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--idle", type=float, default=3.0)
    ap.add_argument("--llm", action="store_true")
    args = ap.parse_args()
    serve_main(args.port, Path(args.root), Path(args.log), args.llm, args.idle)
