"""GIF is an accepted image type: the worker's preparation reads its first frame."""

from __future__ import annotations

import io

from PIL import Image

from prelabel.imaging.preprocess import prepare_image


def _animated_gif(width: int, height: int) -> bytes:
    frames = [
        Image.new("RGB", (width, height), (255, 0, 0)),
        Image.new("RGB", (width, height), (0, 0, 255)),
    ]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def test_an_animated_gif_is_prepared_from_its_first_frame() -> None:
    # Given an animated GIF of 640x480 whose first frame is red and second blue
    data = _animated_gif(640, 480)
    # When it is prepared for the detector
    prepared = prepare_image(data, 320)
    # Then its size is the GIF's, the detector gets a JPEG at the target size, and the pixels
    # are the first frame's
    assert (prepared.width, prepared.height) == (640, 480)
    assert (prepared.sent_width, prepared.sent_height) == (320, 240)
    sent = Image.open(io.BytesIO(prepared.payload))
    assert sent.format == "JPEG"
    red, green, blue = sent.convert("RGB").getpixel((160, 120))  # type: ignore[misc]
    assert red > 200 and green < 60 and blue < 60
