"""Bad photos get a clear refusal; good ones come out upright, small and without EXIF, comments or text."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from classifier.validators import validate_photo
from tests.images import jpeg_bytes, png_bytes


def upload(content: bytes, name="leaf.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def refusal_code(content: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_photo(upload(content))
    return caught.value.code


def test_empty_file_is_refused():
    assert refusal_code(b"") == "empty"


def test_text_file_is_refused():
    assert refusal_code(b"this is not a photo at all") == "not_an_image"


def test_truncated_jpeg_is_refused():
    whole = jpeg_bytes(size=(800, 600))
    assert refusal_code(whole[: len(whole) // 2]) == "damaged"


def test_gif_is_refused_with_format_named():
    buffer = io.BytesIO()
    Image.new("P", (20, 20)).save(buffer, format="GIF")
    with pytest.raises(ValidationError) as caught:
        validate_photo(upload(buffer.getvalue(), "leaf.gif"))
    assert caught.value.code == "format"
    assert "GIF" in caught.value.messages[0]


def test_too_many_bytes_is_refused(settings):
    settings.MAX_UPLOAD_BYTES = 1000
    assert refusal_code(jpeg_bytes(size=(400, 400), quality=100)) == "too_big"


def test_decompression_bomb_is_refused_before_decoding(settings):
    settings.MAX_UPLOAD_PIXELS = 40_000_000
    # A 10000x10000 PNG of one colour compresses to a few KB but would need 300 MB decoded.
    buffer = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 200_000
    assert refusal_code(buffer.getvalue()) == "too_many_pixels"


def test_huge_header_dimensions_are_refused():
    # A PNG header claiming 60000x60000 pixels: Pillow's own bomb check or ours must stop it.
    assert refusal_code(png_header(60_000, 60_000)) in {"too_many_pixels", "damaged", "not_an_image"}


def png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_stored_copy_is_upright_and_has_no_exif():
    image = Image.new("RGB", (300, 100), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif.get_ifd(0x8825)[2] = (0.0, 20.0, 0.0)  # GPS latitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    photo = validate_photo(upload(buffer.getvalue()))
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.size == (100, 300) == (photo.width, photo.height)
    assert not stored.getexif()


def test_large_photo_is_stored_smaller(settings):
    photo = validate_photo(upload(jpeg_bytes(size=(4000, 3000))))
    assert settings.STORED_IMAGE_MAX_SIDE / 2 <= max(photo.width, photo.height) <= settings.STORED_IMAGE_MAX_SIDE
    assert photo.width / photo.height == pytest.approx(4 / 3, rel=0.01)


def test_transparent_png_is_flattened_to_rgb_jpeg():
    photo = validate_photo(upload(png_bytes(), "leaf.png"))
    assert Image.open(io.BytesIO(photo.content)).format == "JPEG"
    assert photo.original_format == "PNG"


def test_webp_is_accepted():
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50)).save(buffer, format="WEBP")
    assert validate_photo(upload(buffer.getvalue(), "leaf.webp")).original_format == "WEBP"


def test_heic_is_accepted():
    pillow_heif = pytest.importorskip("pillow_heif")
    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (64, 64), (10, 150, 10))).save(buffer, quality=80)
    assert validate_photo(upload(buffer.getvalue(), "leaf.heic")).original_format == "HEIF"


SECRET = "farmer Okello +256772000111 GPS -1.25,29.98"


def jpeg_with_comment() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (30, 160, 30)).save(buffer, format="JPEG", comment=SECRET.encode())
    return buffer.getvalue()


def png_with_text() -> bytes:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    for key in ("comment", "Comment", "Description", "Author"):
        text.add_text(key, SECRET)
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (30, 160, 30)).save(buffer, format="PNG", pnginfo=text)
    return buffer.getvalue()


def webp_with_xmp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (30, 160, 30)).save(buffer, format="WEBP", xmp=f"<x>{SECRET}</x>".encode())
    return buffer.getvalue()


def assert_no_metadata(content: bytes) -> None:
    assert b"Okello" not in content and b"256772000111" not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert not {"comment", "xmp", "exif"} & set(stored.info)
        assert not stored.getexif()


@pytest.mark.parametrize(
    ("content", "name"),
    [(jpeg_with_comment(), "leaf.jpg"), (png_with_text(), "leaf.png"), (webp_with_xmp(), "leaf.webp")],
    ids=["jpeg-comment", "png-text", "webp-xmp"],
)
def test_stored_copy_and_thumbnail_keep_no_comment_or_text(content, name):
    from classifier.thumbnails import make_thumbnail

    assert SECRET.encode() in content  # the upload does carry it
    photo = validate_photo(upload(content, name))
    assert_no_metadata(photo.content)
    assert_no_metadata(make_thumbnail(io.BytesIO(photo.content)))


def test_thumbnail_of_a_photo_stored_with_a_comment_has_none():
    """Photos stored before comments were dropped still must not pass theirs to the thumbnail."""
    from classifier.thumbnails import make_thumbnail

    assert_no_metadata(make_thumbnail(io.BytesIO(jpeg_with_comment())))
