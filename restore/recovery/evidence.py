"""Evidence files for checklist ticks: PDF, PNG or plain text, at most 10 MB.

The type is decided by the file's first bytes, and the name's extension must agree: a
renamed executable is refused whatever it is called. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from restore.records import ValidationError

MAX_BYTES = 10 * 1024 * 1024
EXTENSIONS = {
    ".pdf": "pdf",
    ".png": "png",
    ".txt": "text",
    ".text": "text",
    ".log": "text",
    ".csv": "text",
    ".md": "text",
}
KIND_NAMES = {"pdf": "a PDF", "png": "a PNG picture", "text": "plain text (UTF-8)"}
_PNG = b"\x89PNG\r\n\x1a\n"
# Control bytes plain text never holds (tab, newline, form feed and carriage return are fine).
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Evidence:
    """A checked file: its base name, kind (pdf | png | text), bytes and SHA-256 (hex)."""

    name: str
    kind: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)


def sniff(data: bytes) -> str | None:
    """The kind the bytes themselves say (pdf, png, text), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(_PNG):
        return "png"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _BINARY.search(data) else "text"


def check(name: str, data: bytes) -> Evidence:
    """The file as Evidence, or ValidationError naming every problem (nothing is stored)."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name.strip()
    problems = []
    if not base or len(base) > 200:
        problems.append("an evidence file needs a name of 1-200 characters")
    ext = PurePosixPath(base.lower()).suffix
    kind = EXTENSIONS.get(ext)
    if kind is None:
        allowed = ", ".join(sorted(EXTENSIONS))
        problems.append(f"evidence file {base!r}: only PDF, PNG or text files ({allowed})")
    if len(data) > MAX_BYTES:
        problems.append(
            f"evidence file {base!r} is {len(data) / 1024 / 1024:.1f} MB; the limit is 10 MB"
        )
    elif not data:
        problems.append(f"evidence file {base!r} is empty")
    elif kind is not None and sniff(data) != kind:
        problems.append(
            f"evidence file {base!r} is named as {KIND_NAMES[kind]} but its contents are not"
        )
    if problems:
        raise ValidationError("; ".join(problems))
    return Evidence(base, kind, bytes(data))
