"""ZIP downloads, streamed: entries are written a chunk at a time, so memory stays flat
however many images an archive holds, and a stored file gone missing is left out and
listed in a README.txt instead of breaking the whole download."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from django.http import StreamingHttpResponse

CHUNK = 256 * 1024
# Images in one archive at most (a selection or a collection).
ZIP_AT_MOST = 500

# What opening a stored file may raise when it is gone or unreadable.
UNREADABLE = (OSError, ValueError)

# (name in the archive, how to open its bytes) per entry; opening is deferred so a
# missing file is found as the archive reaches it.
Entry = tuple[str, Callable[[], BinaryIO]]


class _Pipe:
    """A write-only file for zipfile whose bytes the generator hands on as they come."""

    def __init__(self):
        self.buffer = bytearray()

    def write(self, data) -> int:
        self.buffer += data
        return len(data)

    def flush(self):
        pass

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def stream_zip(entries: Iterable[Entry], *, unreadable=UNREADABLE) -> Iterator[bytes]:
    """The archive's bytes (stored, not deflated: images do not compress)."""
    pipe, missing = _Pipe(), []
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, opener in entries:
            try:
                source = opener()
            except unreadable:
                missing.append(name)
                continue
            # Plain 32-bit entries (an image is far below 2 GB) unzip everywhere; the
            # archive as a whole still switches to ZIP64 on its own past 4 GB.
            with source, archive.open(name, "w") as entry:
                while chunk := source.read(CHUNK):
                    entry.write(chunk)
                    yield pipe.take()
            yield pipe.take()
        if missing:
            archive.writestr("README.txt", missing_note(missing))
    yield pipe.take()


def missing_note(names: list[str]) -> str:
    several = len(names) != 1
    return "\n".join(
        [
            f"{len(names)} image{'s' if several else ''} could not be read from storage and "
            f"{'are' if several else 'is'} not in this archive:",
            "",
            *names,
            "",
        ]
    )


def zip_response(entries: Iterable[Entry], *, filename: str, **kwargs) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream_zip(entries, **kwargs), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
