"""Data locations: where in S3 an organization may read images (pure rules, no storage).

An organization owns `<org_id>/` in the product's data bucket, and reads elsewhere only under
bucket + prefix roots an operator granted it. S3 compares keys byte for byte and never
normalizes them, but browsers, proxies, SDK helpers and people do: a prefix such as
`org-a/../org-b/` or `org-a/%2e%2e/org-b/` names org A's keys for S3 and org B's keys for
whoever decodes or normalizes it on the way. So a spelling that could mean two different
places is refused outright instead of being interpreted, and every location ends with `/`, so
that `org-a/` never covers `org-ab/` and a grant of `team/` never covers `team-x/`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from prelabel.domain.errors import InvalidInput, NotAllowed

# S3's own limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
# Organization ids name a top-level folder of the data bucket: one plain path segment.
ORG_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# Top-level folders of the data bucket that the product itself writes (run manifests, export
# files, jobs' plans and parts): no organization id names them, so no organization's folder
# holds them.
RESERVED_ORG_IDS = frozenset({"runs", "exports", "jobs"})
BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# A percent-escape that decodes to a separator, a dot, a backslash, another escape or a control
# character: decoding it anywhere downstream would change which folder the text names.
_DANGEROUS_ESCAPE = re.compile(r"%(2[eEfF]|5[cC]|25|[01][0-9a-fA-F]|7[fF])")

REFUSED_MESSAGE = "is not one of this organization's data locations"
# The pre-label failure reason of a task whose image is outside its organization's locations.
OUTSIDE_LOCATIONS_REASON = "the image is outside the organization's data locations"


class LocationRefused(NotAllowed):
    """The location is outside the caller's data locations (the same answer whether it exists)."""


@dataclass(frozen=True, slots=True)
class DataLocation:
    """A bucket and a prefix root: "" (the whole bucket) or text ending with `/`."""

    bucket: str
    prefix: str

    def covers(self, bucket: str, key_or_prefix: str) -> bool:
        return bucket == self.bucket and key_or_prefix.startswith(self.prefix)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True, slots=True)
class OrgLocations:
    """Everything one organization may read: its own folder first, then its grants."""

    org_id: str
    locations: tuple[DataLocation, ...]


def spelling_problem(text: str) -> str | None:
    """Why `text` (a key or a prefix) is not a plain, unambiguous S3 path; None when it is."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        return "contains a control character"
    if "\\" in text:
        return "contains a backslash"
    if _DANGEROUS_ESCAPE.search(text):
        return "contains a percent-encoded '/', '.', '\\', '%' or control character"
    # Full-width and other compatibility forms turn into '/', '.', '\' under NFKC.
    for form in {text, unicodedata.normalize("NFKC", text)}:
        if form.startswith("/"):
            return "starts with '/'"
        if "\\" in form:
            return "contains a character that normalizes to a backslash"
        segments = form.split("/")
        # The last segment may be empty: a prefix ends with '/'.
        if any(s == "" for s in segments[:-1]):
            return "contains an empty path segment ('//')"
        if any(s in (".", "..") for s in segments):
            return "contains a '.' or '..' path segment"
    return None


def check_prefix(prefix: str, field: str = "prefix") -> str:
    """The prefix as given, if it is a plain path; InvalidInput naming the problem otherwise."""
    problem = spelling_problem(prefix)
    if problem is not None:
        raise InvalidInput(f"{field}: {prefix[:80]!r} {problem}", field=field)
    return prefix


def grant_root(bucket: str, prefix: str) -> DataLocation:
    """A grant's location: a valid bucket name and a plain prefix, closed with `/` (or "")."""
    if not BUCKET_PATTERN.fullmatch(bucket) or ".." in bucket:
        raise InvalidInput(f"bucket: {bucket!r} is not a valid S3 bucket name", field="bucket")
    root = check_prefix(prefix)
    if root and not root.endswith("/"):
        root += "/"
    return DataLocation(bucket, root)


def valid_org_id(org_id: str) -> bool:
    return bool(ORG_ID_PATTERN.fullmatch(org_id)) and org_id not in RESERVED_ORG_IDS


def own_location(org_id: str, data_bucket: str) -> DataLocation | None:
    """`<org_id>/` in the data bucket; None for an id that is not one plain segment."""
    return DataLocation(data_bucket, f"{org_id}/") if valid_org_id(org_id) else None


def org_locations(
    org_id: str,
    data_bucket: str,
    grants: Iterable[DataLocation],
    grant_buckets: Iterable[str],
) -> OrgLocations:
    """The organization's folder plus its grants on buckets this deployment may read.

    A grant whose bucket left the deployment's dataset buckets gives nothing (IAM would refuse
    the read anyway); grants never reach into the data bucket, where folders are per tenant.
    """
    readable = set(grant_buckets) - {data_bucket}
    own = own_location(org_id, data_bucket)
    found = ([own] if own else []) + [g for g in grants if g.bucket in readable]
    return OrgLocations(org_id, tuple(found))


def is_readable(locations: OrgLocations, bucket: str, key: str) -> bool:
    """True when the object `bucket`/`key` lies inside one of the organization's locations.

    For the worker and every other path that signs, fetches or exports one object.
    """
    if not key or key.endswith("/") or spelling_problem(key) is not None:
        return False
    return any(loc.covers(bucket, key) for loc in locations.locations)


def refused(bucket: str, prefix: str) -> LocationRefused:
    return LocationRefused(f"s3://{bucket}/{prefix[:200]} {REFUSED_MESSAGE}")


def require_prefix(locations: OrgLocations, bucket: str, prefix: str) -> str:
    """The prefix, if everything under it is inside the organization's locations.

    Decided from the request alone, before S3 is asked anything: a refused location gets the
    same answer whether or not it exists or holds images.
    """
    check_prefix(prefix)
    if not any(loc.covers(bucket, prefix) for loc in locations.locations):
        raise refused(bucket, prefix)
    return prefix
