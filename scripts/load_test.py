"""Bounded load test of the web app on loopback: N concurrent ``gradio_client`` sessions, each
asking about its own clip, against a server in a subprocess.

    python scripts/load_test.py                    # 4 sessions x 3 requests
    python scripts/load_test.py --sessions 8 --requests 5 --json
    python scripts/load_test.py --llm              # the real language model parses (slower)

Each session uploads its own video (session k shows k+1 squares) with a detections JSON, so the
real tracker runs (no detector weights needed), and asks "how many squares are there?" or, in find
mode, "the square on the left". Checked and printed:

* isolation: every answer is about the session's own clip (the count is k+1, the referred object
  is its own leftmost square);
* queueing: the server ran one request at a time (run intervals logged by the server never
  overlap) and served every request;
* memory: the server's RSS after the sessions end, against its baseline after one warm-up request;
* temp files: session folders are removed when sessions end, and the app's folders when it stops.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

W, H, T, FPS = 128, 96, 16, 10.0
MODE_ASK = "Ask a question"
MODE_FIND = "Find objects (referring expression)"


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
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        str(Path(__file__).resolve()),
        "--serve",
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
        cmd, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--requests", type=int, default=3, help="requests per session")
    ap.add_argument("--llm", action="store_true", help="parse with the profile's language model")
    ap.add_argument(
        "--idle", type=float, default=3.0, help="seconds before an unused session is closed"
    )
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", action="store_true")
    # server mode (used by the client side)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--root", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--log", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve_main(args.port, Path(args.root), Path(args.log), args.llm, args.idle)
        return 0
    r = run_load(
        args.sessions,
        args.requests,
        args.llm,
        Path(args.workdir) if args.workdir else None,
        args.idle,
    )
    if args.json:
        print(json.dumps(r, indent=1))
    else:
        for k, v in r.items():
            print(f"{k:>34}: {v}")
    ok = (
        not r["errors"]
        and not r["wrong_answers"]
        and r["served"] == r["expected"]
        and r["overlapping_runs"] == 0
        and r["session_dirs_left"] == 0
        and not r["app_root_left"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
