"""Image references as review tools write them, and what each names."""

from __future__ import annotations

import pytest

from prelabel.reviewed import ImageRef
from prelabel.reviewed.refs import image_ref


@pytest.mark.parametrize(
    ("written", "bucket", "key", "file_name"),
    [
        # Prelabel's own exports: s3:// URIs, raw keys (spaces and accents as they are)
        ("s3://data/org/my photos/café 2.jpg", "data", "org/my photos/café 2.jpg", "café 2.jpg"),
        ("org/photos/a.jpg", None, "org/photos/a.jpg", "a.jpg"),
        # S3 URLs: virtual-hosted (regional, dash form) and path-style; keys URL-decoded
        (
            "https://data.s3.amazonaws.com/org/a%20b.jpg?X-Amz-Signature=x",
            "data",
            "org/a b.jpg",
            "a b.jpg",
        ),
        ("https://my.bucket.s3.us-east-2.amazonaws.com/k/a.png", "my.bucket", "k/a.png", "a.png"),
        ("https://data.s3-eu-west-1.amazonaws.com/k/a.png", "data", "k/a.png", "a.png"),
        ("https://s3.eu-west-1.amazonaws.com/data/k/a.png", "data", "k/a.png", "a.png"),
        # Label Studio: uploads (an 8-hex prefix on the name) and local files
        ("/data/upload/12/0a1b2c3d-street.jpg", None, None, "street.jpg"),
        ("/data/local-files/?d=photos%2Fstreet.jpg", None, "photos/street.jpg", "street.jpg"),
        ("http://localhost:8080/data/local-files/?d=photos/s.jpg", None, "photos/s.jpg", "s.jpg"),
        # Other stores and plain paths: a path that may be a key in any bucket
        ("gs://bucket/photos/a.jpg", None, "photos/a.jpg", "a.jpg"),
        ("https://cdn.example.com/photos/a.jpg", None, "photos/a.jpg", "a.jpg"),
        ("./images/default/a.jpg", None, "images/default/a.jpg", "a.jpg"),
        ("C:\\data\\a.jpg", None, "C:/data/a.jpg", "a.jpg"),
        # Names nothing: an s3:// URI without a key, a host alone
        ("s3://data", None, None, None),
        ("https://example.com/", None, None, None),
    ],
)
def test_a_reference_names_an_object_a_path_or_a_file(
    written: str, bucket: str | None, key: str | None, file_name: str | None
) -> None:
    # Given a reference as a tool wrote it
    # When read
    ref = image_ref(written)
    # Then it names the object, path and file it can, and keeps the text as written
    assert ref == ImageRef(written, bucket, key, file_name)


def test_a_long_reference_is_cut_in_what_reports_show() -> None:
    # Given a 5,000-character path
    written = "a/" * 2500 + "x.jpg"
    # When read
    ref = image_ref(written)
    # Then the report's text is cut at 1,024 characters, while the key is kept whole for lookup
    assert len(ref.written) == 1024
    assert ref.key == written
    assert ref.file_name == "x.jpg"
