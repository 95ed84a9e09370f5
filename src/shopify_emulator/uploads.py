"""The storage behind Shopify (Google Cloud Storage, for Shopify's clients): the bucket that
`stagedUploadsCreate` targets point at, and the signed links bulk operation results download from.

Like GCS, the emulator keeps no record of the targets it hands out. A POST target carries a
base64 `policy` (the conditions the form must meet: bucket, key, content type, size range,
expiry) and a signature over it, so an upload is stored only when the signature is the
emulator's and the form meets every condition: an unknown key, a tampered field or an expired
target is refused with GCS's XML error document and a 4xx. A PUT target is a signed URL instead.
Form fields after the file are ignored, as GCS does, so a signed field sent late fails the policy.

Signatures use a key drawn when the process starts: no link outlives the process, nor, as on
Shopify, its expiry. Routes live under `/_storage/`, apart from Shopify's `/admin/api/` paths and
the `/_emulator/` side door; each shop is a bucket.
"""

import base64
import binascii
import hashlib
import hmac
import json
import mimetypes
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from xml.sax.saxutils import escape

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shopify_emulator.shops import Shop, ShopRegistry
from shopify_emulator.state import now

STAGED_PREFIX = "/_storage/staged-uploads"
RESULTS_PREFIX = "/_storage/bulk-operation-outputs"
ALGORITHM = "GOOG4-HMAC-SHA256"
CREDENTIAL = "shopify-emulator@storage"
# Shopify documents neither how long a staged target stays valid nor its exact limits for media;
# bulk mutation variables may be up to 100 MB (changelog "Faster bulk operations", 2026-01).
STAGED_TARGET_TTL = timedelta(hours=1)
BULK_VARIABLES_MAX_BYTES = 100 * 1024 * 1024
MEDIA_MAX_BYTES = 20 * 1024 * 1024
# Bulk operation result links expire seven days after the operation finishes (BulkOperation.url).
RESULT_TTL = timedelta(days=7)
JSONL_MEDIA_TYPE = "application/jsonl"

_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class StagedTarget:
    """What `StagedMediaUploadTarget` shows a client."""

    url: str
    resource_url: str | None
    parameters: list[dict[str, str]]


def origin(base_url: str) -> str:
    """Scheme and authority of the URL the client reached the emulator at: storage links must
    work from wherever the client is, whichever shop prefix it used."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _sign(*parts: str) -> str:
    return hmac.new(_KEY, "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given, expected)


def new_key(shop_id: int, filename: str, *, bulk: bool) -> str:
    """A fresh object key, shaped like Shopify's (`tmp/<shop id>/bulk/<uuid>/<filename>` for
    bulk mutation variables): unique, so targets never collide."""
    name = PurePosixPath(filename).name or "file"
    folder = "bulk/" if bulk else ""
    return f"tmp/{shop_id}/{folder}{uuid.uuid4()}/{name}"


def is_bulk_key(key: str) -> bool:
    """Bulk mutation variables live under `tmp/<shop id>/bulk/`: private, and up to 100 MB."""
    parts = key.split("/")
    return len(parts) > 2 and parts[0] == "tmp" and parts[2] == "bulk"


def max_bytes(key: str) -> int:
    return BULK_VARIABLES_MAX_BYTES if is_bulk_key(key) else MEDIA_MAX_BYTES


def _object_url(shop: str, base_url: str, key: str) -> str:
    return f"{origin(base_url)}{STAGED_PREFIX}/{quote(shop)}/{quote(key)}"


def staged_target(shop: str, base_url: str, key: str, mime_type: str, method: str) -> StagedTarget:
    """A target the client uploads one file to, under `key` (the `stagedUploadPath` of a bulk
    mutation). Bulk variables are private: no resource URL, as Shopify answers for them."""
    resource_url = None if is_bulk_key(key) else _object_url(shop, base_url, key)
    moment = now()
    date = moment.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{CREDENTIAL}/{moment:%Y%m%d}/auto/storage/goog4_request"
    if method == "POST":
        url = f"{origin(base_url)}{STAGED_PREFIX}/{quote(shop)}"
        return StagedTarget(
            url, resource_url, _post_parameters(shop, key, mime_type, moment, date, credential)
        )
    expires = str(int(STAGED_TARGET_TTL.total_seconds()))
    query = {
        "X-Goog-Algorithm": ALGORITHM,
        "X-Goog-Credential": credential,
        "X-Goog-Date": date,
        "X-Goog-Expires": expires,
        "X-Goog-SignedHeaders": "content-type;host",
        "X-Goog-Signature": _sign("PUT", shop, key, mime_type, date, expires),
    }
    parameters = [{"name": "content_type", "value": mime_type}, {"name": "acl", "value": "private"}]
    return StagedTarget(
        f"{_object_url(shop, base_url, key)}?{urlencode(query)}", resource_url, parameters
    )


def _post_parameters(
    shop: str, key: str, mime_type: str, moment: datetime, date: str, credential: str
) -> list[dict[str, str]]:
    fields = {
        "Content-Type": mime_type,
        "success_action_status": "201",
        "acl": "private",
        "key": key,
        "x-goog-date": date,
        "x-goog-credential": credential,
        "x-goog-algorithm": ALGORITHM,
    }
    policy = {
        "expiration": (moment + STAGED_TARGET_TTL).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conditions": [
            {"bucket": shop},
            *({name: value} for name, value in fields.items()),
            ["content-length-range", 0, max_bytes(key)],
        ],
    }
    encoded = base64.b64encode(json.dumps(policy, separators=(",", ":")).encode()).decode()
    return [
        *({"name": name, "value": value} for name, value in fields.items()),
        {"name": "x-goog-signature", "value": _sign("POST", encoded)},
        {"name": "policy", "value": encoded},
    ]


def result_url(shop: str, base_url: str, number: int, expires: datetime) -> str:
    """A signed link to a bulk operation's JSONL, valid until `expires`."""
    deadline = str(int(expires.timestamp()))
    query = urlencode(
        {
            "GoogleAccessId": CREDENTIAL,
            "Expires": deadline,
            "Signature": _sign("GET", shop, str(number), deadline),
        }
    )
    return f"{origin(base_url)}{RESULTS_PREFIX}/{quote(shop)}/{number}.jsonl?{query}"


# Serving ---------------------------------------------------------------------------------------


class StorageError(Exception):
    """A refusal, answered as GCS does: an XML error document and a 4xx status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><Error>"
            f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message></Error>"
        )
        return Response(body, self.status, media_type="application/xml")


def _bucket(request: Request) -> Shop:
    registry: ShopRegistry = request.app.state.registry
    shop = registry.by_name(request.path_params["shop"])
    if shop is None:
        raise StorageError(404, "NoSuchBucket", "The specified bucket does not exist.")
    return shop


def _refused(condition: str) -> StorageError:
    return StorageError(
        403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}"
    )


async def _form_before_file(request: Request) -> tuple[dict[str, str], UploadFile | None]:
    """The form's fields up to its file: GCS ignores whatever follows the file."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise StorageError(400, "InvalidArgument", "POST uploads must be multipart/form-data.")
    form = await request.form()
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            return fields, value if name == "file" else None
        fields.setdefault(name, value)
    return fields, None


def _policy(fields: dict[str, str]) -> dict[str, Any]:
    encoded = fields.get("policy")
    if encoded is None or "x-goog-signature" not in fields:
        raise StorageError(
            403, "AccessDenied", "Anonymous caller does not have storage.objects.create access."
        )
    if not _same(fields["x-goog-signature"], _sign("POST", encoded)):
        raise StorageError(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise StorageError(400, "InvalidPolicyDocument", "The policy is not valid.") from exc
    if policy["expiration"] < now().strftime("%Y-%m-%dT%H:%M:%SZ"):
        raise StorageError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    return policy


def _check_conditions(
    policy: dict[str, Any], shop: Shop, fields: dict[str, str], size: int
) -> None:
    for condition in policy["conditions"]:
        if isinstance(condition, list):
            _, low, high = condition
            if size > high:
                raise StorageError(
                    400, "EntityTooLarge", "Your proposed upload is larger than the maximum."
                )
            if size < low:
                raise StorageError(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum."
                )
            continue
        ((name, expected),) = condition.items()
        given = shop.name if name == "bucket" else fields.get(name)
        if given != expected:
            raise _refused(json.dumps(["eq", f"${name}", expected]))


async def receive_post(request: Request) -> Response:
    """A browser-style form upload (a POST target of `stagedUploadsCreate`)."""
    try:
        shop = _bucket(request)
        fields, upload = await _form_before_file(request)
        policy = _policy(fields)
        if upload is None:
            raise StorageError(400, "InvalidArgument", "The form has no file field before its end.")
        content = await upload.read()
        _check_conditions(policy, shop, fields, len(content))
    except StorageError as exc:
        return exc.response()
    key = fields["key"]
    shop.data.staged_uploads[key] = content
    return _post_answer(fields.get("success_action_status"), request, shop, key, content)


def _post_answer(
    status: str | None, request: Request, shop: Shop, key: str, content: bytes
) -> Response:
    """What GCS answers a successful form upload: `success_action_status` picks 201 (with an
    XML receipt), 200, or by default 204."""
    if status == "201":
        location = _object_url(shop.name, str(request.base_url), key)
        etag = hashlib.md5(content, usedforsecurity=False).hexdigest()
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><PostResponse>"
            f"<Location>{escape(location)}</Location><Bucket>{escape(shop.name)}</Bucket>"
            f'<Key>{escape(key)}</Key><ETag>"{etag}"</ETag></PostResponse>'
        )
        return Response(body, 201, media_type="application/xml")
    return Response(status_code=200 if status == "200" else 204)


async def receive_put(request: Request) -> Response:
    """An upload to a signed URL (a PUT target of `stagedUploadsCreate`)."""
    try:
        shop = _bucket(request)
        key = request.path_params["key"]
        _check_signed_put(request, shop.name, key)
        content = await request.body()
        if len(content) > max_bytes(key):
            raise StorageError(
                400, "EntityTooLarge", "Your proposed upload is larger than the maximum."
            )
    except StorageError as exc:
        return exc.response()
    shop.data.staged_uploads[key] = content
    return Response(status_code=200)


def _check_signed_put(request: Request, shop: str, key: str) -> None:
    query = request.query_params
    date, expires = query.get("X-Goog-Date", ""), query.get("X-Goog-Expires", "")
    mime_type = request.headers.get("content-type", "")
    if not _same(query.get("X-Goog-Signature"), _sign("PUT", shop, key, mime_type, date, expires)):
        raise StorageError(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check the Content-Type header against the target's content_type.",
        )
    issued = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=now().tzinfo)
    if now() > issued + timedelta(seconds=int(expires)):
        raise StorageError(400, "ExpiredToken", "Invalid argument: the URL has expired.")


async def serve_staged(request: Request) -> Response:
    """A staged media file, at the `resourceUrl` Shopify's mutations fetch it from. Bulk
    mutation variables are private, as on Shopify."""
    try:
        shop = _bucket(request)
        key = request.path_params["key"]
        if is_bulk_key(key):
            raise StorageError(403, "AccessDenied", "Anonymous caller does not have access.")
        content = shop.data.staged_uploads.get(key)
        if content is None:
            raise StorageError(404, "NoSuchKey", "The specified key does not exist.")
    except StorageError as exc:
        return exc.response()
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Response(content, media_type=media_type)


async def serve_result(request: Request) -> Response:
    """A bulk operation's JSONL, behind the signed link of `BulkOperation.url`."""
    try:
        shop = _bucket(request)
        number = request.path_params["number"]
        deadline = request.query_params.get("Expires", "")
        expected = _sign("GET", shop.name, str(number), deadline)
        if not _same(request.query_params.get("Signature"), expected):
            raise StorageError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if now().timestamp() > int(deadline):
            raise StorageError(400, "ExpiredToken", "Invalid argument: the URL has expired.")
        content = shop.data.bulk_results.get(number)
        if content is None:
            raise StorageError(404, "NoSuchKey", "The specified key does not exist.")
    except StorageError as exc:
        return exc.response()
    return Response(content, media_type=JSONL_MEDIA_TYPE)


def routes() -> list[Route]:
    return [
        Route(f"{STAGED_PREFIX}/{{shop}}", receive_post, methods=["POST"]),
        Route(f"{STAGED_PREFIX}/{{shop}}/{{key:path}}", receive_put, methods=["PUT"]),
        Route(f"{STAGED_PREFIX}/{{shop}}/{{key:path}}", serve_staged, methods=["GET"]),
        Route(f"{RESULTS_PREFIX}/{{shop}}/{{number:int}}.jsonl", serve_result, methods=["GET"]),
    ]
