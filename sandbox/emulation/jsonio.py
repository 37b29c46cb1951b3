"""JSON responses encoded straight to bytes: listing a 100,000-user site page by page must stay cheap."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

# The same bytes as json.dumps(ensure_ascii=False, separators=(",", ":")) in UTF-8 (floats aside:
# 1e+20 is written 1e20), at a fraction of the cost: encoding pages is most of a listing's work.
_encoder = msgspec.json.Encoder()


def encode_json(body: Any) -> bytes:
    return _encoder.encode(body)


def json_response(body: Any, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(encode_json(body), status, media_type=media_type)
