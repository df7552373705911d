"""Uploads of the web app: the session's own copy of each uploaded file (one per content, by
SHA-1), tracks zips unpacked safely (no absolute paths, ``..``, links or zip bombs) and tracks
folders zipped for download."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from vidagent.app.sessions import Session
from vidagent.errors import InputError

MAX_ZIP_BYTES = 4 << 30  # a tracks zip may unpack to at most this many bytes
MAX_ZIP_FILES = 200_000  # ... and hold at most this many files


def unpack_tracks_zip(zip_path: str | os.PathLike, dest: Path) -> Path:
    """Unpack a zip of a tracks folder into ``dest``; returns the folder holding objects.json.

    The zip may hold ``objects.json`` + ``masks/`` at its top or inside one folder. Only
    ``objects.json``, ``rle.json`` and ``masks/*.png`` are extracted; absolute paths, ``..``,
    links and archives unpacking to more than ``MAX_ZIP_BYTES`` are refused (InputError).
    """
    name = Path(zip_path).name
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise InputError(
            f"{name}: not a zip file; upload a zip of a tracks folder (objects.json + masks/)"
        ) from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_FILES or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise InputError(
                f"{name}: the zip is too large to unpack; keep it under {MAX_ZIP_BYTES >> 30} GiB"
            )
        metas = [i.filename for i in infos if i.filename.rsplit("/", 1)[-1] == "objects.json"]
        prefixes = {m[: -len("objects.json")] for m in metas if m.count("/") <= 1}
        if len(prefixes) != 1:
            raise InputError(
                f"{name}: expected one objects.json at the top of the zip or in one folder"
            )
        prefix = prefixes.pop()
        dest.mkdir(parents=True, exist_ok=True)
        for info in infos:
            parts = info.filename.replace("\\", "/").split("/")
            if (
                info.filename.startswith("/")
                or ".." in parts
                or ":" in parts[0]
                or (info.external_attr >> 28) == 0xA
            ):
                raise InputError(f"{name}: unsafe path {info.filename!r} in the zip")
            rel = info.filename[len(prefix) :] if info.filename.startswith(prefix) else None
            if rel is None or not (
                rel in ("objects.json", "rle.json")
                or (rel.startswith("masks/") and rel.count("/") == 1 and rel.endswith(".png"))
            ):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    return dest


def zip_tracks(folder: Path, dest: Path, arcname: str) -> Path:
    """Zip a tracks folder (objects.json, rle.json, masks/) under top folder ``arcname``."""
    with zipfile.ZipFile(
        dest, "w", compression=zipfile.ZIP_STORED
    ) as zf:  # PNGs are compressed already
        for rel in ("objects.json", "rle.json"):
            if (folder / rel).is_file():
                zf.write(folder / rel, f"{arcname}/{rel}", compress_type=zipfile.ZIP_DEFLATED)
        for png in sorted((folder / "masks").glob("*.png")):
            zf.write(png, f"{arcname}/masks/{png.name}")
    return dest


_DIGESTS: dict[
    tuple, str
] = {}  # (path, size, mtime_ns, inode) -> sha1: a re-sent upload is not re-read
_DIGESTS_MAX = 4096


def file_sha1(path: str | os.PathLike) -> str:
    """SHA-1 of a file's content (cached by path, size, mtime and inode)."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key in _DIGESTS:
        return _DIGESTS[key]
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if len(_DIGESTS) >= _DIGESTS_MAX:
        _DIGESTS.clear()
    _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def session_video(session: Session, upload: str) -> str:
    """The session's own copy of an uploaded video, one per distinct content.

    A browser re-sends the same upload for each question, a script uploads it again; either
    way the Agent sees one stable path per video and session, so its scene cache is hit.
    """
    if not Path(upload).is_file():
        raise InputError(f"{Path(upload).name}: the uploaded video is gone; upload it again")
    digest = file_sha1(upload)
    if digest not in session.videos:
        folder = Path(tempfile.mkdtemp(prefix="video-", dir=session.dir))
        dest = folder / Path(upload).name
        try:
            os.link(upload, dest)
        except OSError:
            shutil.copyfile(upload, dest)
        session.videos[digest] = str(dest)
    return session.videos[digest]


def side_input(session: Session, upload) -> tuple[Path | None, str | None]:
    """(tracks folder, detections file) from the optional upload, kept in the session folder
    once per distinct content: a .zip of a tracks folder is unpacked, a .json of detections
    is copied (stable paths keep the Agent's scene cache valid across questions)."""
    path = str(getattr(upload, "name", upload))
    suffix = Path(path).suffix.lower()
    if suffix not in (".zip", ".json"):
        raise InputError(
            f"{Path(path).name}: upload a .zip of a tracks folder (objects.json + masks/) "
            "or a .json detections file"
        )
    digest = file_sha1(path)
    if suffix == ".json":
        if digest not in session.detections:
            folder = Path(tempfile.mkdtemp(prefix="detections-", dir=session.dir))
            session.detections[digest] = str(shutil.copyfile(path, folder / Path(path).name))
        return None, session.detections[digest]
    if digest not in session.tracks_dirs:
        dest = Path(tempfile.mkdtemp(prefix="tracks-", dir=session.dir))
        session.tracks_dirs[digest] = unpack_tracks_zip(path, dest)
    return session.tracks_dirs[digest], None
