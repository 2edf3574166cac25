"""A zip archive's directory, written apart from its members: the record of each member (kept
compact while slices write their members), the central directory and the end records, in
ZIP64 where offsets, sizes or the number of members demand it (as zipfile writes them), and
members whose deflated data is the concatenation of pieces deflated apart.

Deflate pieces join into one stream when every piece but the last ends on a full flush (a byte
boundary, and nothing after it refers back into it); a member's CRC-32 is then combined from
its pieces' (zlib's crc32_combine, which Python's zlib does not offer).
"""

from __future__ import annotations

import dataclasses
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# zipfile's limits: past them, a record takes the ZIP64 extra field, the archive ZIP64 ends
# (read when used: tests lower them to write ZIP64 archives of a few bytes).
ZIP64_LIMIT = (1 << 31) - 1
FILECOUNT_LIMIT = (1 << 16) - 1
# The zip format's records (as zipfile packs them: APPNOTE 4.3).
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR = struct.Struct("<4sLQL")
_RECORD = struct.Struct("<HHBHHHHIQQQIH")
_ZIP64_VERSION = 45


@dataclass(frozen=True, slots=True)
class Record:
    """What the central directory says of one member (`offset`: of its local header)."""

    name: bytes
    flag_bits: int
    compress_type: int
    dostime: int
    dosdate: int
    crc: int
    compress_size: int
    file_size: int
    offset: int
    external_attr: int
    create_version: int = 20
    extract_version: int = 20
    create_system: int = 3

    @classmethod
    def of(cls, info: zipfile.ZipInfo, offset: int | None = None) -> Record:
        # As zipfile encodes names: ASCII, or UTF-8 with the flag that says so.
        try:
            name, flags = info.filename.encode("ascii"), info.flag_bits
        except UnicodeEncodeError:
            name, flags = info.filename.encode("utf-8"), info.flag_bits | 0x800
        dt = info.date_time
        return cls(
            name=name,
            flag_bits=flags,
            compress_type=info.compress_type,
            dostime=dt[3] << 11 | dt[4] << 5 | (dt[5] // 2),
            dosdate=(dt[0] - 1980) << 9 | dt[1] << 5 | dt[2],
            crc=info.CRC,
            compress_size=info.compress_size,
            file_size=info.file_size,
            offset=info.header_offset if offset is None else offset,
            external_attr=info.external_attr,
            create_version=info.create_version,
            extract_version=info.extract_version,
            create_system=info.create_system,
        )

    def pack(self) -> bytes:
        return (
            _RECORD.pack(
                self.create_version,
                self.extract_version,
                self.create_system,
                self.flag_bits,
                self.compress_type,
                self.dostime,
                self.dosdate,
                self.crc,
                self.compress_size,
                self.file_size,
                self.offset,
                self.external_attr,
                len(self.name),
            )
            + self.name
        )

    def moved(self, base: int) -> Record:
        return dataclasses.replace(self, offset=self.offset + base)


def unpack_records(data: bytes) -> Iterator[Record]:
    at = 0
    while at < len(data):
        (cv, ev, cs, flags, ctype, dtime, ddate, crc, csize, fsize, offset, attr, n) = (
            _RECORD.unpack_from(data, at)
        )
        at += _RECORD.size
        name = data[at : at + n]
        at += n
        yield Record(name, flags, ctype, dtime, ddate, crc, csize, fsize, offset, attr, cv, ev, cs)


def central_entry(record: Record) -> bytes:
    """The member's central directory entry (zipfile's ZipFile._write_end_record)."""
    limit = ZIP64_LIMIT
    extra: list[int] = []
    file_size, compress_size, offset = record.file_size, record.compress_size, record.offset
    if file_size > limit or compress_size > limit:
        extra += [file_size, compress_size]
        file_size = compress_size = 0xFFFFFFFF
    if offset > limit:
        extra.append(offset)
        offset = 0xFFFFFFFF
    extra_data = b""
    create_version, extract_version = record.create_version, record.extract_version
    if extra:
        extra_data = struct.pack("<HH" + "Q" * len(extra), 1, 8 * len(extra), *extra)
        create_version = max(create_version, _ZIP64_VERSION)
        extract_version = max(extract_version, _ZIP64_VERSION)
    head = _CENTRAL.pack(
        b"PK\x01\x02",
        create_version,
        record.create_system,
        extract_version,
        0,
        record.flag_bits,
        record.compress_type,
        record.dostime,
        record.dosdate,
        record.crc,
        compress_size,
        file_size,
        len(record.name),
        len(extra_data),
        0,
        0,
        0,
        record.external_attr,
        offset,
    )
    return head + record.name + extra_data


def end_records(count: int, start: int, size: int) -> bytes:
    """The ZIP64 end record and locator where needed, then the end record, for a central
    directory of `count` entries and `size` bytes at `start`."""
    out = b""
    if count > FILECOUNT_LIMIT or start > ZIP64_LIMIT or size > ZIP64_LIMIT:
        end64 = _END64.pack(
            b"PK\x06\x06",
            44,
            _ZIP64_VERSION,
            _ZIP64_VERSION,
            0,
            0,
            count,
            count,
            size,
            start,
        )
        locator = _LOCATOR.pack(b"PK\x06\x07", 0, start + size, 1)
        out = end64 + locator
        count, size, start = min(count, 0xFFFF), min(size, 0xFFFFFFFF), min(start, 0xFFFFFFFF)
    return out + _END.pack(b"PK\x05\x06", 0, 0, count, count, size, start, 0)


def directory(records: Iterable[Record], start: int) -> Iterator[bytes]:
    """The central directory of `records` at `start`, then the end records, in chunks."""
    count = size = 0
    chunk = bytearray()
    for record in records:
        entry = central_entry(record)
        chunk += entry
        count += 1
        size += len(entry)
        if len(chunk) >= 1024 * 1024:
            yield bytes(chunk)
            chunk.clear()
    yield bytes(chunk) + end_records(count, start, size)


def local_header(record: Record) -> bytes:
    """The local header of a member whose CRC and sizes are known before its data."""
    extra = b""
    file_size, compress_size = record.file_size, record.compress_size
    extract_version = record.extract_version
    if file_size > ZIP64_LIMIT or compress_size > ZIP64_LIMIT:
        extra = struct.pack("<HHQQ", 1, 16, file_size, compress_size)
        file_size = compress_size = 0xFFFFFFFF
        extract_version = max(extract_version, _ZIP64_VERSION)
    head = _LOCAL.pack(
        b"PK\x03\x04",
        extract_version,
        0,
        record.flag_bits,
        record.compress_type,
        record.dostime,
        record.dosdate,
        record.crc,
        compress_size,
        file_size,
        len(record.name),
        len(extra),
    )
    return head + record.name + extra


# --- deflate pieces ---------------------------------------------------------------------------


def deflated(data: bytes, *, last: bool) -> bytes:
    """`data` deflated on its own (raw deflate), ending on a full flush unless it is the last
    piece of its member (then the stream's end)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH
    )


class DeflatePiece:
    """Items deflated as they come into one piece, with its CRC-32 and length."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.crc = 0
        self.size = 0

    def compress(self, data: bytes) -> bytes:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        return self._compressor.compress(data)

    def close(self) -> bytes:
        return self._compressor.flush(zlib.Z_FULL_FLUSH)


def _gf2_times(matrix: list[int], vector: int) -> int:
    total = 0
    i = 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from A's, B's and B's length (zlib's crc32_combine)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator of one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # the first square gives a zero byte
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2
