"""``vidagent annotate``: a whole collection of videos, tracked (and optionally questioned), on Ray.

MANIFEST is a folder of videos, a text file with one path per line, or JSON Lines of
``{"video": PATH, "detections": PATH (optional), "id": NAME (optional)}``. Each video becomes
``OUT/ID/`` in the tracks format and one line of ``OUT/index.jsonl``:
``{"id", "video", "status": "done" | "failed", "objects", "seconds", "error", "answers"}``.
Running the same command again skips videos already done.

With ``--workers N > 1`` or ``--address`` the videos are spread over Ray actors, each holding its
own loaded models; without Ray installed (``pip install 'vidagent[ray]'``) a single worker runs
them in this process. Only the driver writes ``index.jsonl``.

A Ray worker that dies mid-video (killed, out of memory) loses nothing: its half-written output
is removed and the video goes to a fresh worker, up to ``MAX_ATTEMPTS`` times in all; after that
it is recorded ``failed``. Every video ends up in the index exactly once.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from vidagent.errors import InputError, VidagentError

MAX_ATTEMPTS = 3  # tries of one video on Ray workers that die under it, before it is recorded failed
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
_ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Job:
    id: str
    video: str
    detections: str | None = None


def _check_id(name: str, where: str) -> str:
    if not _ID_OK.fullmatch(name) or name in (".", ".."):
        raise InputError(f"{where}: id {name[:40]!r} must be letters, digits, '.', '_' or '-' (no paths)")
    return name


def read_manifest(manifest: str | os.PathLike) -> list[Job]:
    """Jobs of a manifest (folder, text list, or JSON Lines); relative paths are relative to it."""
    m = Path(manifest)
    if not m.exists():
        raise InputError(f"{m}: no such manifest")
    jobs: list[Job] = []
    if m.is_dir():
        for p in sorted(m.iterdir()):
            if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES:
                jobs.append(Job(_check_id(p.stem, str(p)), str(p)))
        if not jobs:
            raise InputError(f"{m}: the folder holds no videos ({', '.join(VIDEO_SUFFIXES)})")
    else:
        base = m.parent
        try:
            lines = m.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise InputError(f"{m}: the manifest is not UTF-8 text") from None
        for n, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{m}:{n}"
            if line.startswith("{"):
                try:
                    rec = json.loads(line)
                except ValueError:
                    raise InputError(f"{where}: not valid JSON") from None
                if not isinstance(rec, dict) or not isinstance(rec.get("video"), str):
                    raise InputError(f"{where}: a JSON line needs a 'video' path")
                video = rec["video"]
                dets = rec.get("detections")
                if dets is not None and not isinstance(dets, str):
                    raise InputError(f"{where}: 'detections' must be a path")
                name = rec.get("id", Path(video).stem)
                if not isinstance(name, str):
                    raise InputError(f"{where}: 'id' must be a string")
            else:
                video, dets, name = line, None, Path(line).stem
            video = str(base / video) if not os.path.isabs(video) else video
            if dets is not None and not os.path.isabs(dets):
                dets = str(base / dets)
            jobs.append(Job(_check_id(name, where), video, dets))
        if not jobs:
            raise InputError(f"{m}: the manifest lists no videos")
    seen: set[str] = set()
    for j in jobs:
        if j.id in seen:
            raise InputError(f"{m}: id {j.id!r} appears twice; give each video a distinct 'id'")
        seen.add(j.id)
    return jobs


def read_questions(path: str | os.PathLike | None) -> list[str]:
    if path is None:
        return []
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such questions file")
    qs = [q.strip() for q in p.read_text(encoding="utf-8", errors="replace").splitlines() if q.strip()]
    if not qs:
        raise InputError(f"{p}: the questions file is empty")
    return qs


def clear_partial(out: Path, job_id: str, *, keep_done: bool = False) -> None:
    """Remove what a worker that died left of ``job_id`` in ``out``: the temporary folders the
    tracks writer stages beside ``out/ID`` (``.ID.*.partial``, ``.ID.old.*``) and, unless
    ``keep_done``, ``out/ID`` itself (not recorded done, so not to be trusted)."""
    import shutil

    for p in list(out.glob(f".{job_id}.*")):
        if p.name.endswith(".partial") or p.name.startswith(f".{job_id}.old."):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    if not keep_done and (out / job_id).exists():
        shutil.rmtree(out / job_id, ignore_errors=True)


def _check_out(out: Path, manifest, jobs: list[Job]) -> None:
    from vidagent.io.paths import check_out_not_input

    inputs = [("the manifest", manifest)]
    for j in jobs:
        inputs.append((f"the video of {j.id}", j.video))
        inputs.append((f"the detections of {j.id}", j.detections))
    check_out_not_input(out, inputs)


def done_ids(out: Path) -> set[str]:
    """Ids whose last index line says done and whose folder exists."""
    index = out / "index.jsonl"
    status: dict[str, str] = {}
    if index.is_file():
        for line in index.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
                status[str(rec["id"])] = str(rec["status"])
            except (ValueError, KeyError, TypeError):
                continue
    return {k for k, v in status.items() if v == "done" and (out / k / "objects.json").is_file()}


class Worker:
    """Runs jobs with one Agent (models loaded once per worker)."""

    def __init__(self, agent_kwargs: dict) -> None:
        from vidagent.pipeline import Agent

        self.agent = Agent(**agent_kwargs)

    def run(self, job: dict, prompt: str, out: str, questions: list[str]) -> dict:
        j = Job(**job)
        t0 = time.perf_counter()
        rec = {"id": j.id, "video": j.video, "status": "failed", "objects": [], "seconds": 0.0,
               "error": None, "answers": []}
        try:
            dest = Path(out) / j.id
            r = self.agent.track(j.video, prompt, dest, detections=j.detections)
            rec["objects"] = [{"id": int(i), "label": r.labels[i]} for i in r.ids]
            for q in questions:
                try:
                    # answered from the scene just tracked: nothing is read or decoded again
                    a = r.scene.ask(q).to_json()
                    rec["answers"].append({k: a[k] for k in ("question", "answer", "value")})
                except VidagentError as exc:
                    rec["answers"].append({"question": q, "error": str(exc)})
            rec["status"] = "done"
        except VidagentError as exc:
            rec["error"] = str(exc)
        except Exception as exc:  # one bad video must not stop the collection
            rec["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        finally:
            self.agent.close()
        rec["seconds"] = round(time.perf_counter() - t0, 3)
        return rec


def run(
    manifest: str | os.PathLike,
    prompt: str,
    out: str | os.PathLike,
    questions: str | os.PathLike | None = None,
    workers: int = 1,
    address: str | None = None,
    agent_kwargs: dict | None = None,
    worker_cls: type[Worker] | None = None,
) -> Iterator[dict]:
    """Annotate every job not yet done; yields each index record as it is written.

    ``worker_cls`` (a :class:`Worker` subclass) runs the videos; the default is :class:`Worker`.
    """
    from vidagent.pipeline import split_prompt

    jobs = read_manifest(manifest)
    _check_out(Path(out), manifest, jobs)
    qs = read_questions(questions)
    if prompt.strip():
        split_prompt(prompt)
    if workers < 1:
        raise InputError("--workers must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    skip = done_ids(out)
    todo = [j for j in jobs if j.id not in skip]
    for j in todo:  # what an earlier run that was killed may have left
        clear_partial(out, j.id)
    kwargs = dict(agent_kwargs or {})
    index = out / "index.jsonl"
    use_ray = workers > 1 or address is not None
    if use_ray:
        results = _run_ray(todo, prompt, out, qs, workers, address, kwargs, worker_cls)
    else:
        results = _run_local(todo, prompt, out, qs, kwargs, worker_cls)
    for rec in results:
        with open(index, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
        yield rec


def _run_local(jobs, prompt, out, qs, kwargs, worker_cls=None) -> Iterator[dict]:
    if not jobs:
        return
    worker = (worker_cls or Worker)(kwargs)
    for j in jobs:
        yield worker.run(asdict(j), prompt, str(out), qs)


def _run_ray(jobs, prompt, out, qs, workers, address, kwargs, worker_cls=None) -> Iterator[dict]:
    try:
        import ray
    except ImportError:
        raise InputError("--workers/--address need Ray: pip install 'vidagent[ray]'") from None
    if not jobs:
        return
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    RemoteWorker = ray.remote(num_cpus=1)(worker_cls or Worker)
    queue = list(jobs)
    attempts: dict[str, int] = {}
    pending: dict = {}  # object ref -> (actor, job)

    def submit(actor) -> None:
        if queue:
            j = queue.pop(0)
            attempts[j.id] = attempts.get(j.id, 0) + 1
            pending[actor.run.remote(asdict(j), prompt, str(out), qs)] = (actor, j)

    for _ in range(min(workers, len(jobs))):
        submit(RemoteWorker.remote(kwargs))
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        ref = ready[0]
        actor, job = pending.pop(ref)
        try:
            rec = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the worker process died under this video
            clear_partial(out, job.id)
            ray.kill(actor, no_restart=True)
            actor = RemoteWorker.remote(kwargs)
            if attempts[job.id] < MAX_ATTEMPTS:
                queue.insert(0, job)
                submit(actor)
                continue
            rec = {"id": job.id, "video": job.video, "status": "failed", "objects": [],
                   "seconds": 0.0, "answers": [],
                   "error": f"the worker died {attempts[job.id]} times on this video "
                            f"({type(exc).__name__})"}
        yield rec
        submit(actor)


def cli(args, emit) -> int:
    total = failed = 0
    kwargs = {"profile": args.profile, "device": args.device, "offline": args.offline,
              "progress": not args.quiet}
    for rec in run(args.manifest, args.prompt, args.out, args.questions, args.workers, args.address, kwargs):
        total += 1
        failed += rec["status"] != "done"
        if not args.json:
            emit(rec, False, lambda r: f"{r['id']}: {r['status']} ({r['seconds']} s)" + (f" {r['error']}" if r["error"] else ""))
    summary = {"out": str(args.out), "processed": total, "failed": failed, "index": str(Path(args.out) / "index.jsonl")}
    emit(summary, args.json, lambda s: f"{s['processed']} processed, {s['failed']} failed -> {s['index']}")
    return 0
