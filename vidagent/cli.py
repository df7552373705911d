"""The ``vidagent`` command line (CONTRACT.md). Every command calls the public API only.

Exit codes: 0 done; 2 bad input (one line on stderr naming the problem); 3 model weights not
available (one line naming the ``vidagent models download ...`` command). Progress goes to stderr;
with ``--json`` stdout holds exactly one JSON object (``-``: one object per input line).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Callable, Iterator

from vidagent.errors import InputError, VidagentError

PROG = "vidagent"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{PROG}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _common(p: argparse.ArgumentParser, perception: bool = True) -> None:
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    p.add_argument("--profile", default=None, help="model profile (see 'vidagent models list')")
    p.add_argument("--device", default=None, choices=["cpu", "cuda"], help="where models run")
    p.add_argument("--offline", action="store_true", help="never touch the network")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    if perception:
        p.add_argument("--tracks", default=None, metavar="DIR", help="skip perception: use these tracks")
        p.add_argument("--detections", default=None, metavar="FILE", help="skip the detector: use these detections")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Ask questions about a video; get answers backed by tracked masks.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    a = sub.add_parser("ask", help="answer a question about a video")
    a.add_argument("video")
    a.add_argument("question", help="the question, or - to read one per line from stdin")
    _common(a)

    s = sub.add_parser("segment", help="masks of the object(s) an expression refers to")
    s.add_argument("video")
    s.add_argument("expression", help="referring expression, or - for one per line from stdin")
    s.add_argument("--out", required=True, metavar="DIR")
    s.add_argument("--no-overlay", action="store_true", help="skip overlay.mp4")
    _common(s)

    t = sub.add_parser("track", help="track every object matching a text prompt with stable ids")
    t.add_argument("video")
    t.add_argument("prompt", help='phrases separated by " . ", e.g. "dog . ball"')
    t.add_argument("--out", required=True, metavar="DIR")
    t.add_argument("--no-overlay", action="store_true", help="skip overlay.mp4")
    _common(t)

    q = sub.add_parser("parse", help="the plan only: what the language model made of a question")
    q.add_argument("question", help="the question, or - for one per line from stdin")
    q.add_argument("--expression", action="store_true", help="parse as a referring expression")
    _common(q, perception=False)

    m = sub.add_parser("models", help="list model profiles, show the weight cache, download weights")
    m.add_argument("action", nargs="?", default="list", choices=["list", "where", "download", "verify"])
    m.add_argument("--profile", default=None)
    m.add_argument("--json", action="store_true")
    m.add_argument("--offline", action="store_true")

    g = sub.add_parser("app", help="the Gradio web app")
    g.add_argument("--host", default="127.0.0.1")
    g.add_argument("--port", type=int, default=7860)
    g.add_argument("--share", action="store_true", help="also open a public share link")
    g.add_argument("--profile", default=None)
    g.add_argument("--device", default=None, choices=["cpu", "cuda"])
    g.add_argument("--offline", action="store_true")

    n = sub.add_parser("annotate", help="annotate a collection of videos (Ray)")
    n.add_argument("manifest")
    n.add_argument("--prompt", required=True)
    n.add_argument("--out", required=True, metavar="DIR")
    n.add_argument("--questions", default=None, metavar="FILE")
    n.add_argument("--workers", type=int, default=1)
    n.add_argument("--address", default=None, metavar="RAY")
    _common(n, perception=False)

    e = sub.add_parser("eval", help="score predicted tracks against reference tracks (J&F, identity)")
    e.add_argument("pred")
    e.add_argument("gt")
    e.add_argument("--json", action="store_true")

    b = sub.add_parser("bench", help="speed benchmark: this pipeline vs the naive baselines")
    b.add_argument("--json", action="store_true")
    b.add_argument("--seconds", type=float, default=10.0, help="clip length")
    b.add_argument("--sample", type=int, default=3, help="frames to time per baseline")
    b.add_argument("--profile", default=None)
    b.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    b.add_argument("--objects", type=int, default=3, help="boxes every detector returns (top-k)")
    b.add_argument("--skip", action="append",
                   choices=["per_frame", "grounded_sam2", "schedule_quality"], default=[],
                   help="leave a baseline or the schedule quality out (repeatable)")
    b.add_argument("--quality-seeds", type=int, nargs="+", default=None, metavar="SEED",
                   help="synthetic scenes the schedule quality is scored on (default: 10 11)")
    b.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="speed lever on top of the profile: det_size, sam_size, a tracker setting"
                        " (detect_every, stride, ...) or schedule.KEY (schedule.kind=adaptive,"
                        " schedule.max_gap=60, ...); repeatable")
    return p


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("vidagent")
    except Exception:
        return "0.1.0"


def _emit(obj, as_json: bool, text: Callable) -> None:
    """Print a result: a typed result (``vidagent.results``, its ``to_json()``) or a dict;
    ``text(obj)`` is the human-readable form."""
    from vidagent.results import jsonable

    out = sys.__stdout__ if sys.__stdout__ is not None else sys.stdout
    if as_json:
        data = obj.to_json() if hasattr(obj, "to_json") else obj
        out.write(json.dumps(jsonable(data), ensure_ascii=False) + "\n")
    else:
        out.write(text(obj) + "\n")
    out.flush()


def _stdin_lines(what: str) -> Iterator[str]:
    if sys.stdin is None:
        raise InputError(f"'-' reads {what}s from stdin, but there is no stdin")
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.strip():
            yield line


def _agent(args, progress: bool = True):
    from vidagent.pipeline import Agent

    return Agent(
        profile=getattr(args, "profile", None),
        device=getattr(args, "device", None),
        offline=getattr(args, "offline", False),
        progress=progress and not getattr(args, "quiet", False),
    )


def _check_video_first(args) -> None:
    """Inputs are checked before any model is loaded."""
    from vidagent.video import open_video

    args.video_reader = open_video(args.video)
    if getattr(args, "tracks", None) and getattr(args, "detections", None):
        raise InputError("give --tracks or --detections, not both")
    info = args.video_reader.info
    args.detections_file = getattr(args, "detections", None)  # the path, for the --out check
    if getattr(args, "detections", None):
        from vidagent.io.detections import load_detections

        # validated once here (cheap, no model); the agent takes the checked object
        args.detections = load_detections(args.detections, info.num_frames, info.width, info.height)
    if getattr(args, "tracks", None):
        from vidagent.io.tracks import open_tracks

        open_tracks(args.tracks, info)  # sizes and frame count; ids are checked as masks are read


def _ask_text(r) -> str:
    lines = [r.answer]
    for ev in r.evidence[:10]:
        lines.append(
            f"  #{ev.get('id')} {ev.get('label')}: frames {ev.get('first_frame')}-{ev.get('last_frame')}"
            f" ({ev.get('first_time')}s-{ev.get('last_time')}s)"
        )
    return "\n".join(lines)


def cmd_ask(args) -> int:
    from vidagent.pipeline import check_question

    _check_video_first(args)
    if args.question != "-":
        check_question(args.question)
    agent = _agent(args)
    try:
        if args.question == "-":
            failed = 0
            for line in _stdin_lines("question"):
                try:
                    r = agent.ask(args.video_reader, line, tracks=args.tracks, detections=args.detections)
                except InputError as exc:
                    failed += 1
                    r = {"question": line, "error": str(exc)}
                _emit(r, True, _ask_text)
            return 2 if failed else 0
        r = agent.ask(args.video_reader, args.question, tracks=args.tracks, detections=args.detections)
        _emit(r, args.json, _ask_text)
        return 0
    finally:
        agent.close()


def _seg_text(r) -> str:
    if not r.ids:
        return f"no object matches {r.expression!r}; wrote empty masks to {r.out}"
    objs = ", ".join(f"#{i} {r.labels[i]}" for i in r.ids)
    return f"{objs} -> {r.out}"


def _check_out(args) -> None:
    """``--out`` is a folder (or absent) and not one of the command's inputs (nor inside one,
    nor holding one); checked after the inputs (read only), before any model or output."""
    from vidagent.io.paths import check_out_not_input

    out = args.out
    check_out_not_input(out, [
        ("the video", args.video),
        ("the --tracks folder", getattr(args, "tracks", None)),
        ("the --detections file", getattr(args, "detections_file", None)),
    ])
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError(f"{out}: exists and is not a folder; choose another --out")


def cmd_segment(args) -> int:
    from vidagent.pipeline import check_question

    _check_video_first(args)
    _check_out(args)
    if args.expression != "-":
        check_question(args.expression, "expression")
    agent = _agent(args)
    try:
        if args.expression == "-":
            failed = 0
            for k, line in enumerate(_stdin_lines("expression")):
                out = os.path.join(args.out, str(k))
                try:
                    r = agent.segment(
                        args.video_reader, line, out, tracks=args.tracks, detections=args.detections,
                        overlay=not args.no_overlay,
                    )
                except InputError as exc:
                    failed += 1
                    r = {"expression": line, "error": str(exc)}
                _emit(r, True, _seg_text)
            return 2 if failed else 0
        r = agent.segment(
            args.video_reader, args.expression, args.out, tracks=args.tracks, detections=args.detections,
            overlay=not args.no_overlay,
        )
        _emit(r, args.json, _seg_text)
        return 0
    finally:
        agent.close()


def cmd_track(args) -> int:
    from vidagent.pipeline import split_prompt

    _check_video_first(args)
    _check_out(args)
    if args.tracks:
        raise InputError("track makes tracks; --tracks is for ask and segment")
    if args.detections is None:
        split_prompt(args.prompt)
    agent = _agent(args)
    try:
        r = agent.track(args.video_reader, args.prompt, args.out, detections=args.detections, overlay=not args.no_overlay)
        _emit(r, args.json, _seg_text)
        return 0
    finally:
        agent.close()


def cmd_parse(args) -> int:
    from vidagent.pipeline import check_question

    if args.question != "-":
        check_question(args.question, "expression" if args.expression else "question")
    agent = _agent(args)
    if args.question == "-":
        failed = 0
        for line in _stdin_lines("question"):
            try:
                plan = agent.parse(line, expression=args.expression)
                r = {"question": line, "plan": plan.to_json()}
            except InputError as exc:
                failed += 1
                r = {"question": line, "error": str(exc)}
            _emit(r, True, str)
        return 2 if failed else 0
    plan = agent.parse(args.question, expression=args.expression)
    r = {"question": args.question, "plan": plan.to_json()}
    _emit(r, args.json, lambda o: json.dumps(o["plan"], indent=2))
    return 0


def cmd_models(args) -> int:
    from vidagent.models import manage
    from vidagent.profiles import get_profile

    if args.action == "list":
        profiles = manage.list_profiles()
        default = get_profile(None).name

        def text(o: dict) -> str:
            rows = []
            for p in o["profiles"]:
                mark = "*" if p["name"] == o["default"] else " "
                rows.append(f"{mark} {p['name']:<10} {p['description']}")
                rows.append(f"    detector {p['detector']['model']} @ {p['detector']['short_side']}px, "
                            f"segmenter {p['segmenter']['model']} @ {p['segmenter']['input_size']}px, "
                            f"propagation {p['video_model'] or p['propagator']}, llm {p['llm']}")
            return "\n".join(rows + ["(* = default here)"])

        _emit({"default": default, "profiles": profiles, **manage.locations()}, args.json, text)
        return 0
    name = get_profile(args.profile).name
    if args.action == "where":
        rows = manage.cache_report(name)
        _emit({"profile": name, **manage.locations(), "weights": rows}, args.json, lambda o: "\n".join(
            [f"hub cache: {o['hub_cache']}", f"VIDAGENT_HOME: {o['vidagent_home']}"]
            + [f"{'ok     ' if r['present'] else 'missing'} {r['what']}: {r['where']}" for r in o["weights"]]))
        return 0
    if args.action == "download":
        if args.offline:
            raise InputError("'models download' needs the network; drop --offline")
        rows = manage.download(name, progress=not args.json)
        failed = [r for r in rows if r["status"] == "failed"]
        _emit({"profile": name, "weights": rows}, args.json, lambda o: "\n".join(
            f"{r['status']:<10} {r['what']}: {r['where']}" + (f" ({r['error']})" if r["error"] else "")
            for r in o["weights"]))
        return 3 if failed else 0
    rows = manage.verify(name)
    bad = [r for r in rows if r["ok"] is False]
    _emit({"profile": name, "weights": rows, "ok": not bad}, args.json, lambda o: "\n".join(
        f"{'ok  ' if r['ok'] else ('??  ' if r['ok'] is None else 'BAD ')} {r['what']}: {r['detail']}"
        for r in o["weights"]))
    return 3 if bad else 0


def cmd_app(args) -> int:
    from vidagent import app

    app.launch(host=args.host, port=args.port, share=args.share, profile=args.profile,
               device=args.device, offline=args.offline)
    return 0


def cmd_annotate(args) -> int:
    from vidagent import annotate

    return int(annotate.cli(args, _emit) or 0)


def cmd_eval(args) -> int:
    from vidagent import evaluation

    r = evaluation.evaluate(args.pred, args.gt)

    def text(o: dict) -> str:
        lines = [f"J&F {o['JF']:.4f}  J {o['J']:.4f}  F {o['F']:.4f}"]
        for ob in o.get("objects", []):
            lines.append(f"  gt {ob['gt_id']} <- pred {ob['pred_id']}: J {ob['J']:.4f} F {ob['F']:.4f}")
        if "IDF1" in o:
            lines.append(f"IDF1 {o['IDF1']:.4f}")
        return "\n".join(lines)

    _emit(r, args.json, text)
    return 0


def cmd_bench(args) -> int:
    from vidagent import bench

    return int(bench.cli(args, _emit) or 0)


COMMANDS = {
    "ask": cmd_ask,
    "segment": cmd_segment,
    "track": cmd_track,
    "parse": cmd_parse,
    "models": cmd_models,
    "app": cmd_app,
    "annotate": cmd_annotate,
    "eval": cmd_eval,
    "bench": cmd_bench,
}


def _quiet_libraries() -> None:
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import warnings

    warnings.filterwarnings("ignore")


class _Terminated(KeyboardInterrupt):
    """SIGTERM turned into an exception, so that cleanup runs (temp folders, partial outputs)."""


def _on_sigterm(signum, frame) -> None:
    raise _Terminated()


def _handle_sigterm() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _on_sigterm)


def main(argv: list[str] | None = None) -> int:
    _quiet_libraries()
    _handle_sigterm()
    args = build_parser().parse_args(argv)
    if getattr(args, "offline", False):
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        # anything a library prints goes to stderr; stdout carries results only
        with contextlib.redirect_stdout(sys.stderr):
            return COMMANDS[args.command](args)
    except VidagentError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, _Terminated)
        sys.stderr.write(f"{PROG}: {'terminated' if terminated else 'interrupted'}\n")
        return 143 if terminated else 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        sys.stderr.write(f"{PROG}: error: out of memory; try a shorter or smaller video\n")
        return 1
    except Exception as exc:  # an unexpected failure: one line, the traceback only when asked
        if os.environ.get("VIDAGENT_DEBUG"):
            raise
        sys.stderr.write(
            f"{PROG}: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
            "(set VIDAGENT_DEBUG=1 for the traceback)\n"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
