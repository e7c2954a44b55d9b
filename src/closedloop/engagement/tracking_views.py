"""The Segment-compatible tracking endpoints: POST /v1/identify, track, page, screen, group,
alias, batch (and import, Segment's alias of batch).

Plain Django views, CSRF-exempt because they are authenticated by a source's write key (HTTP
basic auth username with an empty password, or `writeKey` in the body, as Segment accepts).
Answers, as Segment's clients expect them:

- 200 `{"success": true}` once every accepted message is committed. A batch with malformed
  messages is still a 200 (retrying would not fix them, and Segment's clients retry anything
  else): the good messages are stored and the body lists the others as `rejected`,
  `[{index, messageId, reason}]`. A single call whose one message is malformed is a 400.
- 400 for a body that is not JSON (or not a JSON object, or a batch without a `batch` list);
  401 for a missing or unknown write key; 413 over the size limits (Segment's 32 KB for a
  single call; 4 MB for a batch, RudderStack's limit, as its clients send batches that big;
  counted after gzip decompression).
Errors carry `code` and `message`, which is what Segment's clients log.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from closedloop.engagement import segment
from closedloop.engagement.ingest import ingest_messages
from closedloop.engagement.tracking import source_for_key


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JsonResponse:
        body = {"success": False, "code": self.code, "message": self.message}
        return JsonResponse(body, status=self.status)


def _read_body(request, limit: int) -> bytes:
    """The request body, gunzipped when sent with Content-Encoding: gzip, at most `limit` bytes."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _Refused(413, "payload_too_large", f"the body is over {limit // 1024} KB")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise _Refused(413, "payload_too_large", f"the body is over {limit // 1024} KB")
    if request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower() != "gzip":
        return raw
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise _Refused(400, "invalid_gzip", f"the gzip body cannot be read: {exc}") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise _Refused(413, "payload_too_large", f"the body is over {limit // 1024} KB unzipped")
    return body


def _parse(body: bytes) -> dict:
    try:
        try:
            data = json.loads(body)
        except RecursionError:
            # One message nested thousands deep: cut it down so it is rejected alone.
            data = json.loads(segment.without_deep_values(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Refused(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise _Refused(400, "invalid_json", "the body is nested too deep") from None
    if not isinstance(data, dict):
        raise _Refused(400, "invalid_json", "the body must be a JSON object")
    return data


def _basic_auth_key(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    # "key:" as Segment documents; a key without the colon still works, as it does there.
    return decoded.partition(":")[0]


def _source(request, data: dict):
    key = _basic_auth_key(request) or data.get("writeKey") or ""
    if not isinstance(key, str) or not key:
        raise _Refused(401, "unauthorized", "send the source's write key as the basic auth user")
    source = source_for_key(key)
    if source is None:
        raise _Refused(401, "unauthorized", "unknown or disabled write key")
    return source


@csrf_exempt
@require_POST
def single(request, kind: str):
    """POST /v1/<kind>: one message of that type."""
    try:
        data = _parse(_read_body(request, segment.MAX_EVENT_BYTES))
        source = _source(request, data)
    except _Refused as refused:
        return refused.response()
    result = ingest_messages([data], source=source, kind=kind)
    if result.rejected:
        reason = result.rejected[0].reason
        return JsonResponse(
            {"success": False, "code": "invalid_message", "message": reason}, status=400
        )
    return JsonResponse({"success": True})


@csrf_exempt
@require_POST
def batch(request):
    """POST /v1/batch (and /v1/import): many messages, each with its own `type`."""
    try:
        data = _parse(_read_body(request, segment.MAX_BATCH_BYTES))
        source = _source(request, data)
        messages = data.get("batch")
        if not isinstance(messages, list):
            raise _Refused(400, "invalid_batch", "batch: must be a list of messages")
    except _Refused as refused:
        return refused.response()
    defaults = {k: data[k] for k in ("context", "integrations", "sentAt") if k in data}
    if problem := segment.envelope_problem(defaults, check_size=False):
        # Shared by every message of the batch: each would be rejected for it.
        return _Refused(400, "invalid_batch", f"the batch's shared fields: {problem}").response()
    result = ingest_messages(messages, source=source, defaults=defaults, check_size=True)
    body: dict = {"success": True}
    if result.rejected:
        body["rejected"] = [r.as_dict() for r in result.rejected]
    return JsonResponse(body)
