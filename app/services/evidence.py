"""Evidence documents uploaded as answers to ``image``, ``audio``, ``video`` and ``file``
questions: checking an upload (size, an allowed extension, content that is what the extension
says), keeping it, and reading it back for a user whose scope covers the response.

An upload is checked before anything is written and kept only when the answer it belongs to
is saved, so a refused upload stores nothing. The bytes are kept once per content under their
SHA-256: in the database (the default), in ``EVIDENCE_DIRECTORY`` (a directory every node
shares), or in an S3-compatible store when ``EVIDENCE_S3_URL`` names a bucket. A file is only
ever served through the response it was uploaded to, so reading one is exactly as scoped as
reading the response.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from app.extensions import db
from app.models import EvidenceBlob, EvidenceFile, Response, User
from app.services import file_store
from app.services.errors import NotFound
from app.services.scope import get_scoped
from app.services.settings import setting
from app.xlsform.values import STORED_FILE, InputError

MEDIA_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
    "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg",
    "wav": "audio/wav", "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm",
    "ogv": "video/ogg", "pdf": "application/pdf", "doc": "application/msword", "rtf": "application/rtf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation", "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint", "txt": "text/plain", "csv": "text/csv",
}
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _mp3(data: bytes) -> bool:
    return data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def _iso_media(data: bytes) -> bool:   # MP4, M4A, QuickTime: a box named ftyp (or an old moov/mdat first)
    return data[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")


def _text(data: bytes) -> bool:   # plain text or CSV: no NUL byte
    return b"\x00" not in data


# What each extension's content begins with: a renamed program or page is refused.
SIGNATURES = {
    "jpg": lambda d: d.startswith(b"\xff\xd8\xff"), "png": lambda d: d.startswith(b"\x89PNG\r\n\x1a\n"),
    "gif": lambda d: d[:6] in (b"GIF87a", b"GIF89a"), "webp": lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP",
    "mp3": _mp3, "m4a": _iso_media, "mp4": _iso_media, "m4v": _iso_media, "mov": _iso_media,
    "ogg": lambda d: d.startswith(b"OggS"), "wav": lambda d: d[:4] == b"RIFF" and d[8:12] == b"WAVE",
    "webm": lambda d: d.startswith(b"\x1a\x45\xdf\xa3"), "pdf": lambda d: d.startswith(b"%PDF-"),
    "rtf": lambda d: d.startswith(b"{\\rtf"), "txt": _text, "csv": _text,
    **{ext: (lambda d: d.startswith(_ZIP)) for ext in ("docx", "xlsx", "pptx", "odt", "ods", "odp")},
    **{ext: (lambda d: d.startswith(_OLE)) for ext in ("doc", "xls", "ppt")},
}
SIGNATURES.update(jpeg=SIGNATURES["jpg"], oga=SIGNATURES["ogg"], opus=SIGNATURES["ogg"], ogv=SIGNATURES["ogg"])
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class Upload:
    """A file as sent: its name on the sender's disk and its bytes (read up to one byte past
    the limit, so a larger file is known to be too large without reading it all)."""
    filename: str
    data: bytes


@dataclass(frozen=True)
class Checked:
    """An upload that passed the checks, ready to be kept."""
    name: str          # <sha256>.<extension>: the answer's value
    original: str
    media_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return self.name.partition(".")[0]


def max_bytes() -> int:
    return int(setting("EVIDENCE_MAX_BYTES") or 0)


def extensions(kind: str) -> list[str]:
    """The extensions a question of type ``kind`` accepts, as configured (only known ones)."""
    configured = (setting("EVIDENCE_TYPES") or {}).get(kind, "")
    words = configured.replace(",", " ").split() if isinstance(configured, str) else list(configured)
    return [word.lower().lstrip(".") for word in words if word.lower().lstrip(".") in SIGNATURES]


def accept(kind: str) -> str:
    """The ``accept`` attribute of a file input for ``kind``: ``.pdf,.docx``."""
    return ",".join(f".{ext}" for ext in extensions(kind))


def read(stream: BinaryIO) -> bytes:
    """An upload's bytes, at most one past the limit."""
    return stream.read(max_bytes() + 1)


def check(kind: str, upload: Upload) -> Checked:
    """The upload, checked for a question of type ``kind``; InputError if it is refused."""
    original = _clean_name(upload.filename)
    extension = original.rpartition(".")[2].lower() if "." in original else ""
    allowed = extensions(kind)
    if not upload.data:
        raise InputError("file_empty")
    if len(upload.data) > max_bytes():
        raise InputError("file_too_large", (max_bytes(),))
    if extension not in allowed:
        raise InputError("file_type_refused", (", ".join(f".{ext}" for ext in allowed),))
    if not SIGNATURES[extension](upload.data):
        raise InputError("file_content_mismatch", (extension,))
    digest = hashlib.sha256(upload.data).hexdigest()
    return Checked(f"{digest}.{extension}", original, MEDIA_TYPES[extension], upload.data)


def _clean_name(filename: str) -> str:
    """The file's own name without a folder or control characters, at most 200 characters
    (the extension kept)."""
    name = _UNSAFE.sub("", unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]))
    name = name.strip().strip(".") or "file"
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:190] + dot + extension[:9]) if dot and len(extension) < 10 else name[:200]
    return name


def keep(actor: User, response_id: int, checked: Checked) -> EvidenceFile:
    """Keep a checked upload for the response (its bytes once per content); in the caller's
    transaction."""
    existing = find(response_id, checked.name)
    if existing is not None:
        return existing
    _store(checked)
    row = EvidenceFile(response_id=response_id, name=checked.name, original=checked.original,
                       media_type=checked.media_type, size=len(checked.data), uploaded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    return row


def _store(checked: Checked) -> None:
    bucket, directory = file_store.bucket(setting("EVIDENCE_S3_URL")), setting("EVIDENCE_DIRECTORY")
    if bucket:
        name, prefix = bucket
        _s3().put_object(Bucket=name, Key=f"{prefix}{checked.sha256}", Body=checked.data,
                         ContentType=checked.media_type)
    elif directory:
        target = _path(directory, checked.sha256)
        if not target.exists():   # the same content is never written twice
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            with os.fdopen(handle, "wb") as out:
                out.write(checked.data)
            os.replace(temporary, target)   # whole or not at all, for a reader on another node
    elif db.session.get(EvidenceBlob, checked.sha256) is None:
        db.session.add(EvidenceBlob(sha256=checked.sha256, data=checked.data))


def _path(directory: str, sha256: str) -> Path:
    return Path(directory) / sha256[:2] / sha256


def _s3():
    return file_store.client(setting("EVIDENCE_S3_ENDPOINT"))


def find(response_id: int, name: str) -> EvidenceFile | None:
    return db.session.scalars(select(EvidenceFile).where(EvidenceFile.response_id == response_id,
                                                         EvidenceFile.name == name)).first()


def files(response_id: int) -> dict[str, EvidenceFile]:
    """The response's uploaded files by stored name (the current answers' and earlier ones)."""
    return {row.name: row for row in db.session.scalars(
        select(EvidenceFile).where(EvidenceFile.response_id == response_id))}


def opened(user: User, response_id: int, name: str) -> tuple[EvidenceFile, bytes | str | BinaryIO]:
    """A file of the response, for a user who may read the response (NotFound otherwise, and
    for a name the response does not hold): its row and its bytes, path or stream."""
    get_scoped(user, Response, response_id)
    row = find(response_id, name) if STORED_FILE.match(name) else None
    if row is None:
        raise NotFound("not_found")
    sha256 = row.name.partition(".")[0]
    bucket, directory = file_store.bucket(setting("EVIDENCE_S3_URL")), setting("EVIDENCE_DIRECTORY")
    if bucket:
        stream = file_store.fetch(_s3(), bucket[0], f"{bucket[1]}{sha256}")
        if stream is None:
            raise NotFound("not_found")
        return row, stream
    if directory:
        path = _path(directory, sha256)
        if not path.exists():
            raise NotFound("not_found")
        return row, str(path)
    data = db.session.scalar(select(EvidenceBlob.data).where(EvidenceBlob.sha256 == sha256))
    if data is None:
        raise NotFound("not_found")
    return row, data
