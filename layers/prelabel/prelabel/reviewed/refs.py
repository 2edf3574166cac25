"""What an image reference in a review tool's file names: one S3 object, a path, a file name.

Prelabel's exports name images by `s3://bucket/key` (Label Studio's `data.image`, VOC's
`<source><image>`, the manifests' `image_uri`) and by the key itself (COCO's `file_name` and
`prelabel_bucket` + `prelabel_image_key`; VOC's and YOLO's flat file names). They never write a
presigned URL or the API's `/tasks/<id>/image` route (that answers JSON with a short-lived
link, nothing a tool keeps). Review tools add their own forms, read here too:

- S3 https URLs, virtual-hosted (`https://bucket.s3.region.amazonaws.com/key`) or path-style
  (`https://s3.region.amazonaws.com/bucket/key`), presigned or not: the key is URL-decoded;
- Label Studio uploads, `/data/upload/<project>/<8 hex>-<name>`: the file name is `<name>`
  (Label Studio puts 8 characters of a uuid and a dash in front of the uploaded name);
- Label Studio local files, `/data/local-files/?d=<path>`: the path;
- other URLs (`gs://`, `azure-blob://`, `https://cdn/...`) and plain paths: a path, which
  matches a task whose key is that path, in any bucket.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from prelabel.domain.locations import BUCKET_PATTERN
from prelabel.reviewed.model import ImageRef

MAX_REF_CHARS = 1024
_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$"
)
_PATH_STYLE_HOST = re.compile(r"^s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$")
_LS_UPLOAD = re.compile(r"^/?data/upload/\d+/[0-9a-f]{8}-(?P<name>.+)$")


def file_name_of(path: str) -> str | None:
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or None


def object_ref(written: str, bucket: str, key: str) -> ImageRef:
    return ImageRef(written[:MAX_REF_CHARS], bucket, key, file_name_of(key))


def path_ref(written: str, path: str) -> ImageRef:
    """A path that may be a key in any bucket (`./` and a leading `/` dropped)."""
    key = path.replace("\\", "/")
    while key.startswith("./"):
        key = key[2:]
    key = key.lstrip("/")
    return ImageRef(written[:MAX_REF_CHARS], None, key or None, file_name_of(key))


def image_ref(written: str) -> ImageRef:
    """The reference as a review tool wrote it, read as far as its form tells."""
    text = written.strip()
    if text.startswith("s3://"):
        bucket, sep, key = text[len("s3://") :].partition("/")
        if sep and key and BUCKET_PATTERN.fullmatch(bucket):
            return object_ref(written, bucket, key)
    upload = _LS_UPLOAD.match(text)
    if upload:
        return ImageRef(written[:MAX_REF_CHARS], None, None, file_name_of(upload["name"]))
    if "://" in text or text.startswith("/data/local-files"):
        return _url_ref(written, text)
    return path_ref(written, text)


def _url_ref(written: str, text: str) -> ImageRef:
    try:
        url = urlsplit(text)
    except ValueError:
        return ImageRef(written[:MAX_REF_CHARS], None, None, None)
    if url.path.rstrip("/").endswith("/data/local-files"):
        paths = parse_qs(url.query).get("d", [])
        return path_ref(written, paths[0]) if paths else ImageRef(written[:MAX_REF_CHARS])
    host = (url.hostname or "").lower()
    path = unquote(url.path).lstrip("/")
    if url.scheme in ("http", "https"):
        virtual = _VIRTUAL_HOST.match(host)
        if virtual and path:
            return object_ref(written, virtual["bucket"], path)
        if _PATH_STYLE_HOST.match(host):
            bucket, sep, key = path.partition("/")
            if sep and key and BUCKET_PATTERN.fullmatch(bucket):
                return object_ref(written, bucket, key)
    # Another store's URL: the path in its bucket or host, a key in any bucket of ours.
    return path_ref(written, path) if path else ImageRef(written[:MAX_REF_CHARS])
