"""The checked field photos as a dataset others can use and cite (issue 27, item 4).

Laid out like the shared data folders (one folder per class), so ``cross_validate_field --field`` reads it as
it is, with its groups: ``<class>/<group>-<n>.jpg``, ``MANIFEST.csv`` (one row per photo: file, label, group,
source, district, date, evidence, who labelled and when, size, sha256), ``DATASHEET.md`` (what it holds, how it
was collected and checked, its licence) and ``LICENSE.txt``. Photos carry pixels only: no EXIF (no GPS), XMP,
ICC or comment. Groups and file names are derived from the case's or visit's id by a hash: a case's id is the
farmer's key to her result page, and never leaves the server.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image, ImageOps

from classifier.checked import COLLECTED, SOURCES, UPLOADS, CheckedPhoto, checked_field_photos
from classifier.models import District, Evidence
from classifier.validators import STORED_JPEG_QUALITY, jpeg_without_metadata

LICENCES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": (
        "Creative Commons Attribution-ShareAlike 4.0 International",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    "CC0-1.0": (
        "Creative Commons Zero 1.0 Universal (public domain)",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
}
MANIFEST_COLUMNS = (
    "file",
    "label",
    "group",
    "source",
    "district",
    "date",
    "evidence",
    "labelled_by",
    "labelled_at",
    "width",
    "height",
    "sha256",
)
SOURCE_NAMES = {UPLOADS: "farmer_upload", COLLECTED: "officer_visit"}
_GROUP_PREFIX = {UPLOADS: "case", COLLECTED: "visit"}
_METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile", "photoshop", "iptc")


@dataclass(frozen=True)
class DatasetOptions:
    title: str
    licence: str  # a key of LICENCES
    publisher: str
    sources: tuple[str, ...] = (COLLECTED,)


@dataclass
class DatasetSummary:
    """What was written: rows of the manifest and the counts the datasheet gives."""

    rows: list[dict] = field(default_factory=list)

    @property
    def photos(self) -> int:
        return len(self.rows)

    def counts(self, key: str) -> list[tuple[str, int]]:
        return sorted(Counter(row[key] for row in self.rows).items())

    def by_class_and_source(self) -> list[dict]:
        table: dict[str, Counter] = defaultdict(Counter)
        for row in self.rows:
            table[row["label"]][row["source"]] += 1
        return [
            {
                "label": label,
                **{source: counts[SOURCE_NAMES[source]] for source in SOURCES},
                "total": sum(counts.values()),
            }
            for label, counts in sorted(table.items())
        ]


def group_code(photo: CheckedPhoto) -> str:
    """A group's name in the dataset: ``visit-<hash>`` or ``case-<hash>`` (the id itself never leaves)."""
    digest = hashlib.sha256(f"{photo.source}:{photo.group}".encode()).hexdigest()[:12]
    return f"{_GROUP_PREFIX[photo.source]}-{digest}"


def pixels_only(content: bytes) -> tuple[bytes, int, int]:
    """The JPEG as stored (already stripped at upload), re-encoded only if any metadata is found in it."""
    with Image.open(io.BytesIO(content)) as image:
        size = image.size
        has_metadata = bool(image.getexif()) or any(key in image.info for key in _METADATA_KEYS)
        if image.format == "JPEG" and not has_metadata:
            return content, *size
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return jpeg_without_metadata(upright, quality=STORED_JPEG_QUALITY), *upright.size


def write_dataset(write: Callable[[str, bytes], None], options: DatasetOptions) -> DatasetSummary:
    """Write every checked photo of ``options.sources``, the manifest, the datasheet and the licence through
    ``write(relative path, bytes)``."""
    if options.licence not in LICENCES:
        raise ValueError(f"unknown licence {options.licence}")
    summary = DatasetSummary()
    numbers: Counter = Counter()
    for photo in checked_field_photos(tuple(source for source in SOURCES if source in options.sources)):
        with default_storage.open(photo.image, "rb") as stored:
            content, width, height = pixels_only(stored.read())
        group = group_code(photo)
        numbers[group] += 1
        path = f"{photo.label}/{group}-{numbers[group]}.jpg"
        write(path, content)
        summary.rows.append(
            {
                "file": path,
                "label": photo.label,
                "group": group,
                "source": SOURCE_NAMES[photo.source],
                "district": photo.district or "unknown",
                "date": photo.day.isoformat(),
                "evidence": ";".join(photo.evidence),
                "labelled_by": photo.labelled_by,
                "labelled_at": timezone.localtime(photo.labelled_at).isoformat(timespec="seconds"),
                "width": width,
                "height": height,
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        )
    write("MANIFEST.csv", manifest_csv(summary.rows).encode())
    write("DATASHEET.md", datasheet(summary, options).encode())
    write("LICENSE.txt", licence_text(options).encode())
    return summary


def manifest_csv(rows: Iterable[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def datasheet(summary: DatasetSummary, options: DatasetOptions) -> str:
    """``DATASHEET.md`` (after Gebru et al., "Datasheets for Datasets"), filled with this export's counts."""
    name, url = LICENCES[options.licence]
    dates = sorted(row["date"] for row in summary.rows)
    return render_to_string(
        "dataset/DATASHEET.md",
        {
            "options": options,
            "licence_name": name,
            "licence_url": url,
            "summary": summary,
            "classes": summary.by_class_and_source(),
            "districts": summary.counts("district"),
            "groups": len({row["group"] for row in summary.rows}),
            "labellers": len({row["labelled_by"] for row in summary.rows}),
            "first_date": dates[0] if dates else None,
            "last_date": dates[-1] if dates else None,
            "has_uploads": UPLOADS in options.sources,
            "has_collected": COLLECTED in options.sources,
            "evidence": Evidence.choices,
            "district_names": District.choices,
            "exported_at": timezone.localtime().isoformat(timespec="minutes"),
        },
    )


def licence_text(options: DatasetOptions) -> str:
    name, url = LICENCES[options.licence]
    year = timezone.localdate().year
    return (
        f"{options.title}\nCopyright {year} {options.publisher}\n\n"
        f"Licensed under {name} ({options.licence}).\n{url}\n"
    )


def zip_dataset(target, options: DatasetOptions, folder: str = "") -> DatasetSummary:
    """The dataset as a zip written to ``target`` (a path or a binary file), under ``folder/`` inside it."""
    prefix = f"{folder.strip('/')}/" if folder else ""
    with zipfile.ZipFile(target, "w") as archive:

        def write(path: str, content: bytes) -> None:
            # JPEGs are compressed already: stored as they are; the text files deflated.
            method = zipfile.ZIP_STORED if path.endswith(".jpg") else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(prefix + path, date_time=_zip_time()), content, compress_type=method)

        return write_dataset(write, options)


def folder_dataset(folder: Path, options: DatasetOptions) -> DatasetSummary:
    """The dataset written into ``folder`` (made if missing)."""
    folder = Path(folder)

    def write(path: str, content: bytes) -> None:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    return write_dataset(write, options)


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = timezone.localtime()
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)
