"""How sync messages travel: JSON encoded with orjson, compressed with zstd when large.

orjson encodes about 4x faster than the standard library here, and zstd level 1 compresses 3x
faster than gzip level 1 into fewer bytes (docs/performance.md). Compressed bodies say so in
their Content-Type, so no proxy or client library decodes them behind our back.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
import zstandard

from core.errors import OutpostError

JSON = "application/json"
ZSTD_JSON = "application/vnd.outpost+json+zstd"
COMPRESS_ABOVE = 1024
# A pushed batch's id and the batch it goes after, also sent as headers: the cloud knows them
# before it decodes the body (docs/protocol.md, "Push").
BATCH_HEADER = "X-Outpost-Batch"
AFTER_HEADER = "X-Outpost-After"
MAX_BODY = 256 * 1024 * 1024  # decompressed; a larger body is refused, not allocated

_local = threading.local()  # zstd contexts are not thread-safe; the cloud encodes in many threads


class WireError(OutpostError):
    code = "bad_request"


def encode(value: Any, *, compress: bool = True) -> tuple[bytes, str]:
    """The body and its content type."""
    raw = orjson.dumps(value)
    if compress and len(raw) > COMPRESS_ABOVE:
        cctx = getattr(_local, "cctx", None)
        if cctx is None:
            cctx = _local.cctx = zstandard.ZstdCompressor(level=1)
        return cctx.compress(raw), ZSTD_JSON
    return raw, JSON


def decode(body: bytes, content_type: str | None) -> Any:
    ctype = (content_type or JSON).split(";")[0].strip().lower()
    if ctype == ZSTD_JSON:
        try:
            dctx = zstandard.ZstdDecompressor()
            size = zstandard.frame_content_size(body)  # -1 if the frame does not say
            if 0 <= size <= MAX_BODY:
                raw = dctx.decompress(body, max_output_size=MAX_BODY)  # one buffer, exact
            else:
                with dctx.stream_reader(body) as reader:
                    raw = reader.read(MAX_BODY + 1)
        except zstandard.ZstdError as exc:
            raise WireError(f"the compressed body is damaged: {exc}") from None
        if len(raw) > MAX_BODY:
            raise WireError("the body is too large")
    elif ctype in (JSON, "text/json") or ctype.endswith("+json"):
        raw = body
    else:
        raise WireError(f"unsupported content type {ctype!r}")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise WireError(f"the body is not valid JSON: {exc}") from None
