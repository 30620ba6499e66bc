"""The photo pools the field-grade model learns from, each photo with its domain and group.

Four pools: lab potato photos (PlantVillage), lab negatives (pepper), field potato photos
(PlantDoc, Magelang and officers' labelled uploads) and field negatives (25 other crops). Every
photo carries:

- ``domain``: ``"lab"`` or ``"field"``; training balances each class across both domains.
- ``group``: photos that must stay on one side of any split. Field photos are few and
  correlated (the same plant shot twice, one field on one day), so they are grouped by source and
  date or camera sequence, and near-copies (same difference hash) are merged into one group.
- ``subset``: what the report reads apart (``tomato`` for tomato negatives, the close relative).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from training.datasets import LabelledImage, list_class_images, list_negative_images, split_by_photo

LAB = "lab"
FIELD = "field"
TOMATO = "tomato"
LAB_HOLDOUT_FRACTION = 0.2  # the lab hold-out: same hash split as every model so far
#: The sources retraining names checked field photos by: farmers' reviewed uploads (named so before officers
#: collected any), and officers' photos from garden visits.
UPLOADS_SOURCE = "field"
COLLECTED_SOURCE = "collected"


@dataclass(frozen=True)
class PoolImage:
    """A photo with what the field protocol needs to split, balance and report it."""

    image: LabelledImage
    domain: str
    group: str
    subset: str = ""

    @property
    def label(self) -> str:
        return self.image.label

    @property
    def path(self) -> Path:
        return self.image.path

    @property
    def key(self) -> str:
        """A stable id for reports: collection and file name."""
        return f"{self.image.source}/{self.image.path.name}"


@dataclass
class Pools:
    """Every photo of one training: lab (split once into train and hold-out) and field."""

    lab_train: list[PoolImage]
    lab_holdout: list[PoolImage]
    field: list[PoolImage]

    @property
    def everything(self) -> list[PoolImage]:
        return self.lab_train + self.lab_holdout + self.field


# -- groups ------------------------------------------------------------------------------------

_DATE = re.compile(r"(20\d{6})")
_MILLISECONDS = re.compile(r"^pld_(1\d{12})")
_CAMERA_NUMBER = re.compile(r"IMG_(\d{4})")


def name_group(source: str, file_name: str) -> str:
    """The group a field photo's name gives: its date, else its camera sequence, else itself.

    ``pld_20230816_141040.jpg`` -> ``source:20230816``; ``pld_1692332350457.jpg`` (a Unix time in
    milliseconds) -> its UTC date; ``pld_IMG_0912.jpg`` -> ``source:IMG_09xx`` (one hundred shots of
    one camera, a proxy for one visit); anything else is its own group.
    """
    stem = Path(file_name).stem
    if match := _DATE.search(stem):
        return f"{source}:{match.group(1)}"
    if match := _MILLISECONDS.match(stem):
        day = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).strftime("%Y%m%d")
        return f"{source}:{day}"
    if match := _CAMERA_NUMBER.search(stem):
        return f"{source}:IMG_{match.group(1)[:2]}xx"
    return f"{source}:{stem}"


def difference_hash(path: Path, side: int = 8) -> int:
    """A 64-bit difference hash (dHash): near-copies of one photo differ in a few bits."""
    with Image.open(path) as image:
        image.draft("L", (side * 4, side * 4))
        small = np.asarray(image.convert("L").resize((side + 1, side), Image.Resampling.BILINEAR), dtype=np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int("".join("1" if bit else "0" for bit in bits), 2)


def merge_near_copies(groups: Sequence[str], hashes: Sequence[int], max_distance: int = 6) -> list[str]:
    """Union the groups of photos whose hashes differ in at most ``max_distance`` bits."""
    parent = {group: group for group in groups}

    def find(group: str) -> str:
        while parent[group] != group:
            parent[group] = parent[parent[group]]
            group = parent[group]
        return group

    values = np.array(hashes, dtype=np.uint64)
    for i in range(len(values)):
        distances = [bin(int(v)).count("1") for v in np.bitwise_xor(values[i + 1 :], values[i])]
        for offset, distance in enumerate(distances):
            if distance <= max_distance:
                a, b = find(groups[i]), find(groups[i + 1 + offset])
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return [find(group) for group in groups]


def grouped(images: Iterable[LabelledImage], domain: str, group_of=None) -> list[PoolImage]:
    """Pool images with their groups (``group_of(image)``, default: the name's group), near-copies merged."""
    images = list(images)
    names = [group_of(image) if group_of else name_group(image.source, image.path.name) for image in images]
    merged = merge_near_copies(names, [difference_hash(image.path) for image in images])
    return [
        PoolImage(image, domain, group, TOMATO if image.path.name.lower().startswith("tomato") else "")
        for image, group in zip(images, merged, strict=True)
    ]


# -- the pools ---------------------------------------------------------------------------------


def collect_pools(
    lab_dir: Path,
    lab_negatives: Sequence[Path],
    field_dirs: Sequence[Path],
    field_negatives: Sequence[Path],
    reject_label: str,
    extra_field: Sequence[LabelledImage] = (),
    max_per_class: int | None = None,
) -> Pools:
    """Every photo, labelled, with domain and group; the lab photos split once by a hash of their name.

    ``extra_field`` are more field photos (officers' labelled uploads and the photos officers collected), one
    group per case or garden visit (its photos are of one garden; ``training.retraining`` names them
    ``<case id>.jpg``, ``<case id>-<n>.jpg``, ``<visit id>-<photo id>.jpg``), joined where near-copies join
    them. A field folder with a ``MANIFEST.csv`` naming groups (an exported dataset) keeps those groups.
    """
    lab = list_class_images(lab_dir, source=Path(lab_dir).name)
    for folder in lab_negatives:
        lab += list_negative_images(folder, reject_label)
    lab = _cap(lab, max_per_class)
    lab_train, lab_holdout = split_by_photo(lab, LAB_HOLDOUT_FRACTION)
    field = []
    for folder in field_dirs:
        images = _cap(list_class_images(folder, source=Path(folder).name), max_per_class)
        field += grouped(images, FIELD, group_of=manifest_groups(folder))
    for folder in field_negatives:
        field += grouped(_cap(list_negative_images(folder, reject_label), max_per_class), FIELD)
    if extra_field:
        field += grouped(extra_field, FIELD, group_of=case_group)
    return Pools(
        [PoolImage(image, LAB, _own_group(image)) for image in lab_train],
        [PoolImage(image, LAB, _own_group(image)) for image in lab_holdout],
        field,
    )


def manifest_groups(folder: Path):
    """``group_of`` for a folder whose ``MANIFEST.csv`` names each photo's group (a dataset exported by
    ``classifier.collection.dataset``: one garden per group), else ``None`` (groups from the names)."""
    manifest = Path(folder) / "MANIFEST.csv"
    if not manifest.exists():
        return None
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "group" not in rows[0]:
        return None
    groups = {row["file"]: row["group"] for row in rows}

    def group_of(image: LabelledImage) -> str:
        relative = image.path.relative_to(folder).as_posix()
        return f"{image.source}:{groups[relative]}" if relative in groups else name_group(image.source, image.path.name)

    return group_of


def case_group(image: LabelledImage) -> str:
    """An uploaded photo's group: its case or garden visit (the UUID that names it, before any ``-<n>``)."""
    stem = image.path.stem
    return f"{image.source}:{stem[:36] if len(stem) > 36 and stem[36] == '-' else stem}"


def _own_group(image: LabelledImage) -> str:
    return f"{image.source}:{image.path.name}"


def _cap(items: list[LabelledImage], cap: int | None) -> list[LabelledImage]:
    """At most ``cap`` photos per class, spread over the sorted list (tests and quick runs)."""
    if not cap:
        return items
    kept = []
    for label in sorted({item.label for item in items}):
        of_label = [item for item in items if item.label == label]
        step = max(1, len(of_label) // cap)
        kept += of_label[::step][:cap]
    return kept
