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
import json
import sys
from pathlib import Path

from vidagent.testing.app_load import run_load


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
    args = ap.parse_args(argv)
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
