"""Opening untrusted files: JSON, zip archives and XML, each within its limits.

Nothing is ever written to disk: zip members are read into memory through a bounded read, so
a member's name (`../../etc/x`) is only a string and a member's declared size (which a zip bomb
lies about) never decides how much is read. JSON refuses NaN and Infinity (Python's parser
takes them), whole numbers too long to convert, and nesting deep enough to exhaust the stack.
XML with a DOCTYPE is refused outright: no review tool writes one into a VOC file, and without
it there are no entities to expand or fetch.
"""

from __future__ import annotations

import io
import json
import lzma
import pyexpat
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from typing import Any

from prelabel.reviewed.model import ReadLimits, ReviewedFileError


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def load_json(data: bytes, place: str, limits: ReadLimits) -> Any:
    """The document in `data`; ReviewedFileError naming `place` where it is too large, not
    UTF-8 or not JSON."""
    if len(data) > limits.max_json_bytes:
        raise ReviewedFileError(
            place, f"{len(data):,} bytes of JSON; at most {limits.max_json_bytes:,} are read"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReviewedFileError(place, f"not UTF-8 text (byte {exc.start})") from None
    try:
        # Floats past their range come back as inf, which every reader of a number refuses
        # in place; whole numbers longer than Python's int_max_str_digits (4,300) raise.
        return json.loads(text, parse_constant=_constant)
    except RecursionError:
        raise ReviewedFileError(place, "not valid JSON: nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError is one
        raise ReviewedFileError(place, f"not valid JSON: {exc}") from None


# What zipfile raises on a corrupt, truncated, encrypted (RuntimeError) or unsupported member.
_UNPACK_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


class Archive:
    """A zip read in memory: its members' names and a bounded read of each."""

    def __init__(self, data: bytes, limits: ReadLimits) -> None:
        self._limits = limits
        self._read = 0
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (*_UNPACK_ERRORS, zipfile.LargeZipFile, struct.error) as exc:
            raise ReviewedFileError("file", f"not a readable zip archive ({exc})") from None
        if len(infos) > limits.max_zip_members:
            raise ReviewedFileError(
                "file",
                f"the zip holds {len(infos):,} entries; at most {limits.max_zip_members:,}",
            )
        self.members = [(safe_member_name(i.filename), i) for i in infos if not i.is_dir()]

    def read(self, name: str, info: zipfile.ZipInfo, cap: int) -> bytes:
        """The member's bytes, at most `cap` of them and within the archive's total budget."""
        left = self._limits.max_unpacked_bytes - self._read
        if info.file_size > cap:
            raise ReviewedFileError(name, f"{info.file_size:,} bytes; at most {cap:,} are read")
        try:
            with self._zip.open(info) as member:
                data = member.read(min(cap, left) + 1)
        except _UNPACK_ERRORS as exc:
            raise ReviewedFileError(name, f"cannot be unpacked ({exc})") from None
        if len(data) > cap:
            raise ReviewedFileError(name, f"unpacks past {cap:,} bytes; at most that is read")
        if len(data) > left:
            raise ReviewedFileError(
                name,
                f"the zip unpacks past {self._limits.max_unpacked_bytes:,} bytes in all; "
                "at most that is read",
            )
        self._read += len(data)
        return data


def safe_member_name(raw: str) -> str:
    """The member's name with `/` separators and no `.` segments; a name that is absolute,
    names a drive or climbs with `..` is refused: no export tool writes one, and whoever
    unzips the file after us could be led out of the folder."""
    name = raw.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
        raise ReviewedFileError(
            f"zip entry {raw[:200]!r}", "its name leads out of the archive; it is not read"
        )
    return "/".join(parts)


def is_noise(name: str) -> bool:
    """macOS's resource forks (`__MACOSX/`, `._a.xml`) that re-zipping a folder adds."""
    return name.startswith("__MACOSX/") or name.rsplit("/", 1)[-1].startswith("._")


class _Doctype(Exception):
    pass


class _RootReached(Exception):
    pass


def _refuse_doctype(*_: object) -> None:
    raise _Doctype


def _stop(*_: object) -> None:
    raise _RootReached


def parse_xml(data: bytes, place: str) -> ET.Element:
    """The document's root; ReviewedFileError for a DOCTYPE, a malformed document raises
    ET.ParseError (one bad file is the caller's to count). expat reads the prolog up to the
    root element first, in whatever encoding the document declares, so a DOCTYPE is found
    however it is encoded."""
    scan = pyexpat.ParserCreate()
    scan.StartDoctypeDeclHandler = _refuse_doctype
    scan.EntityDeclHandler = _refuse_doctype
    scan.StartElementHandler = _stop
    try:
        scan.Parse(data, True)
    except _Doctype:
        raise ReviewedFileError(place, "holds a DOCTYPE; XML with a DOCTYPE is not read") from None
    except _RootReached:
        pass
    except pyexpat.ExpatError as exc:
        raise ET.ParseError(str(exc)) from None
    # What defusedxml guards against comes through a DOCTYPE, refused above.
    return ET.fromstring(data)  # noqa: S314
