"""The app's page: inputs (video, optional tracks zip or detections JSON, mode, text, profile),
outputs (answer, evidence, overlay, timeline, plan, downloads) and the bundled example, wired to
a ``Runner``; errors are shown as one line."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from vidagent.app.runner import EVIDENCE_COLUMNS, MODE_ASK, MODE_FIND, Runner
from vidagent.app.sessions import AgentFactory, Sessions
from vidagent.app.uploads import zip_tracks
from vidagent.errors import VidagentError

log = logging.getLogger("vidagent.app")

CACHE_SWEEP = (3600, 3600)  # Gradio cache: every hour delete served files older than an hour
MAX_ERROR_CHARS = 300  # error lines shown in the UI are cut to this length
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


def one_line(exc: BaseException) -> str:
    """A user-facing line for an exception: vidagent errors verbatim, others prefixed by type."""
    text = " ".join(str(exc).split())
    if not isinstance(exc, VidagentError):
        text = (
            f"unexpected error ({type(exc).__name__}): {text}"
            if text
            else f"unexpected error ({type(exc).__name__})"
        )
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def default_agent_factory(device: str | None = None, offline: bool = False) -> AgentFactory:
    """A factory of quiet Agents (no terminal progress bars) for the given device/offline mode."""

    def make(profile: str):
        from vidagent import Agent

        return Agent(profile=profile, device=device, offline=offline, progress=False)

    return make


def _example_rows(root: Path) -> list[list]:
    """The bundled example clip with its tracks (zipped into ``root``), or [] when absent."""
    video, tracks = EXAMPLES_DIR / "shapes.mp4", EXAMPLES_DIR / "shapes_tracks"
    if not (video.is_file() and (tracks / "objects.json").is_file()):
        return []
    zip_path = zip_tracks(tracks, root / "shapes_tracks.zip", "shapes_tracks")
    return [
        [str(video), str(zip_path), MODE_ASK, "how many balls are there?"],
        [str(video), str(zip_path), MODE_ASK, "when does the box leave?"],
        [str(video), str(zip_path), MODE_FIND, "the ball on the left"],
    ]


def build_app(
    agent_factory: AgentFactory | None = None,
    profile: str | None = None,
    device: str | None = None,
    offline: bool = False,
    root: str | os.PathLike | None = None,
):
    """The app as a ``gr.Blocks`` (not launched; see ``launch``).

    Args:
        agent_factory: profile name -> Agent, called once per session (and on a profile change);
            default: ``vidagent.Agent(profile, device, offline, progress=False)``.
        profile: profile selected at start (None: ``gpu`` with CUDA, else ``cpu``).
        device, offline: passed to the default factory.
        root: folder for session folders (default: a new temporary folder, removed at exit).
    """
    from vidagent.profiles import PROFILES, get_profile

    default_profile = get_profile(profile, device).name
    factory = agent_factory or default_agent_factory(device, offline)
    root_path = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="vidagent-app-"))
    root_path.mkdir(parents=True, exist_ok=True)
    sessions = Sessions(root_path)
    sessions.start_sweeper()
    runner = Runner(sessions, factory)
    if root is None:
        atexit.register(shutil.rmtree, root_path, True)
    atexit.register(sessions.close_all)

    def run(
        video,
        tracks_zip,
        mode,
        question,
        profile_name,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008 - Gradio passes progress through this default
    ):
        try:
            return runner(video, tracks_zip, mode, question, profile_name, request, progress)
        except VidagentError as exc:
            raise gr.Error(one_line(exc), print_exception=False) from None
        except Exception as exc:
            # unexpected: the full traceback goes to the server log, one line to the user
            log.exception("run failed")
            raise gr.Error(one_line(exc), print_exception=False) from None

    def unload(request: gr.Request):
        sessions.close(getattr(request, "session_hash", None) or "default")

    with gr.Blocks(title="vidagent", analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown(
            "## vidagent — ask questions about a video\n"
            "Upload a video (or pick an example), type a question or a referring expression and press **Run**. "
            "Optionally upload a zip of a tracks folder (skips perception) or a detections JSON "
            "(skips the detector)."
        )
        with gr.Row():
            with gr.Column(scale=1):
                video = gr.Video(label="Video", sources=["upload"])
                tracks = gr.File(
                    label="Tracks zip or detections JSON (optional)", file_types=[".zip", ".json"]
                )
                mode = gr.Radio([MODE_ASK, MODE_FIND], value=MODE_ASK, label="Mode")
                question = gr.Textbox(
                    label="Question or referring expression",
                    placeholder="how many balls are there?",
                    max_lines=2,
                )
                profile_box = gr.Dropdown(sorted(PROFILES), value=default_profile, label="Profile")
                button = gr.Button("Run", variant="primary")
            with gr.Column(scale=1):
                answer = gr.Textbox(label="Answer", interactive=False)
                details = gr.Markdown()
                evidence = gr.Dataframe(
                    label="Evidence", headers=EVIDENCE_COLUMNS, interactive=False
                )
                overlay = gr.Video(label="Overlay (masks, ids, labels)", interactive=False)
                timeline = gr.Image(
                    label="Timeline (which object is visible when)", type="pil", interactive=False
                )
                plan = gr.Code(
                    label="Plan (what the language model made of the text)",
                    language="json",
                    interactive=False,
                )
                files = gr.File(
                    label="Downloads (tracks zip, result JSON)",
                    file_count="multiple",
                    interactive=False,
                )
        rows = _example_rows(root_path)
        if rows:
            gr.Examples(
                rows,
                inputs=[video, tracks, mode, question],
                label="Example: bundled clip with its tracks",
            )
        inputs = [video, tracks, mode, question, profile_box]
        outputs = [answer, details, evidence, overlay, timeline, plan, files]
        button.click(run, inputs, outputs, api_name="run")
        question.submit(run, inputs, outputs, api_name=False)
        demo.unload(unload)
    demo.vidagent_sessions = sessions  # for tests and operators: live session count, close_all()
    return demo
