"""The LangChain environment's fixtures: the standard tests' downloads, served locally."""

from __future__ import annotations

import importlib
import io
import struct
import wave
import zlib
from collections.abc import Iterator

import pytest
import respx

pytest_plugins = ["pytester"]

# urllib3 (langsmith's) probes for IPv6 with a socket when first imported; sockets are
# disabled in tests (pytest.ini), so it is imported here, before any test runs
importlib.import_module("urllib3.util.connection")


def _png() -> bytes:
    """A 1x1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _wav() -> bytes:
    """A tenth of a second of silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
DOWNLOADS = {
    ".png": (_png(), "image/png"),
    ".pdf": (PDF, "application/pdf"),
    ".wav": (_wav(), "audio/wav"),
}


@pytest.fixture
def served_downloads() -> Iterator[respx.MockRouter]:
    """The files the multimodal standard tests download (an image, a PDF, a WAV), served by
    respx; any other HTTP request fails the test (sockets are disabled anyway)."""
    with respx.mock(assert_all_called=False) as router:
        for suffix, (body, mime) in DOWNLOADS.items():
            router.get(url__regex=rf"^https://.*\{suffix}$").respond(
                200, content=body, headers={"content-type": mime}
            )
        yield router


@pytest.fixture(scope="module")
def vcr_config() -> dict:
    """pytest-recording's settings for the standard `test_stream_time`: myna fakes make no
    HTTP requests, so there is nothing to record, and nothing may be."""
    return {"record_mode": "none"}
