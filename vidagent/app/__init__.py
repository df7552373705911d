"""The Gradio web app: upload a video, ask a question or name an object, see the answer with its
evidence, the overlay video, a visibility timeline and the plan; download the tracks and the JSON.

```python
from vidagent.app import launch
launch()                      # http://127.0.0.1:7860, no public link
```

Besides the video, a user may upload a zip of a tracks folder (perception is skipped) or a
detections JSON (the detector is skipped; the user's boxes/masks are tracked), as with the CLI's
``--tracks`` and ``--detections``.

The app calls only the public API (``vidagent.Agent`` and the tracks format). Each browser session
gets its own ``Agent`` (made by ``agent_factory``) and its own folder: a second question about the
same video in the same session re-uses the scene already perceived, and no session sees another's
scenes or files. Sessions are closed (agent closed, folder removed) when the page is closed, after
``SESSION_IDLE_S`` without use, or when the server stops.

Safe by default: binds 127.0.0.1, no share link unless asked, uploads limited to
``MAX_UPLOAD``, one queue with ``CONCURRENCY`` runs at a time, errors shown as one line (the
traceback of an unexpected one goes to the server log only), Gradio's cache swept hourly.

Modules, by job: ``sessions`` (per-browser Agent and folder, idle sweep), ``uploads`` (safe
unpacking of tracks zips, size limits, content hashes), ``timeline`` (visibility scan and
drawing), ``runner`` (what the Run button does), ``ui`` (the page), ``server`` (queue, launch).
"""

from __future__ import annotations

from vidagent.app.runner import EVIDENCE_COLUMNS, MODE_ASK, MODE_FIND, Runner
from vidagent.app.server import CONCURRENCY, MAX_UPLOAD, QUEUE_SIZE, launch, serve
from vidagent.app.sessions import (
    KEEP_RUNS,
    MAX_SESSIONS,
    SESSION_IDLE_S,
    AgentFactory,
    Session,
    Sessions,
)
from vidagent.app.timeline import Visibility, draw_timeline, visibility
from vidagent.app.ui import (
    CACHE_SWEEP,
    EXAMPLES_DIR,
    MAX_ERROR_CHARS,
    build_app,
    default_agent_factory,
    one_line,
)
from vidagent.app.uploads import MAX_ZIP_BYTES, MAX_ZIP_FILES, unpack_tracks_zip, zip_tracks

__all__ = [
    "CACHE_SWEEP",
    "CONCURRENCY",
    "EVIDENCE_COLUMNS",
    "EXAMPLES_DIR",
    "KEEP_RUNS",
    "MAX_ERROR_CHARS",
    "MAX_SESSIONS",
    "MAX_UPLOAD",
    "MAX_ZIP_BYTES",
    "MAX_ZIP_FILES",
    "MODE_ASK",
    "MODE_FIND",
    "QUEUE_SIZE",
    "SESSION_IDLE_S",
    "AgentFactory",
    "Runner",
    "Session",
    "Sessions",
    "Visibility",
    "build_app",
    "default_agent_factory",
    "draw_timeline",
    "launch",
    "one_line",
    "visibility",
    "serve",
    "unpack_tracks_zip",
    "zip_tracks",
]
