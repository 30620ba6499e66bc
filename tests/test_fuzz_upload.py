"""Fuzzing the upload path: whatever arrives, a 4xx or an accepted photo; never a 500 or a stray file."""

import io
import struct
import zlib

import hypothesis
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from PIL import Image

from classifier.models import Submission

pytestmark = pytest.mark.django_db


def seed_images() -> dict[str, bytes]:
    seeds = {}
    for fmt in ("JPEG", "PNG", "WEBP"):
        buffer = io.BytesIO()
        Image.new("RGB", (48, 32), (30, 120, 30)).save(buffer, format=fmt)
        seeds[fmt] = buffer.getvalue()
    return seeds


SEEDS = seed_images()


def png_with_size(width: int, height: int, body: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(body)
    return header + struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))


@st.composite
def mutated_image(draw) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, min(len(data) - 1, 300)))  # headers live at the start
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


uploads = st.one_of(
    st.binary(max_size=2048),
    mutated_image(),
    st.builds(png_with_size, st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1), st.binary(max_size=64)),
)


def test_upload_path_never_fails_with_500(client, settings, tmp_path, capsys):
    settings.MEDIA_ROOT = tmp_path
    tried = {"accepted": 0, "refused": 0}
    clients = iter(range(1, 1 << 24))  # each input from its own phone: the upload rate limit stays on

    @hypothesis.settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(content=uploads, district=st.sampled_from(["", "kabale", "unknown-place", "x" * 300]))
    def upload(content, district):
        before = Submission.objects.count()
        response = client.post(
            "/api/v1/submissions",
            {"image": SimpleUploadedFile("fuzz.jpg", content, content_type="image/jpeg"), "district": district},
            REMOTE_ADDR="10.{}.{}.{}".format(*next(clients).to_bytes(3, "big")),
        )
        assert response.status_code in (202, 400), response.content[:300]
        if response.status_code == 202:
            tried["accepted"] += 1
            assert Submission.objects.count() == before + 1
        else:
            tried["refused"] += 1
            assert "error" in response.json()
            assert Submission.objects.count() == before
        stored = sum(1 for p in tmp_path.rglob("*") if p.is_file())
        assert stored == Submission.objects.count(), "a file was left without its row"

    upload()
    total = tried["accepted"] + tried["refused"]
    with capsys.disabled():
        print(f"\nupload fuzzing: {total} inputs tried, {tried['accepted']} accepted, {tried['refused']} refused")
    assert total >= 100
