"""The farmer API's OpenAPI 3.1 document: ``openapi.yaml`` beside this module, hand-written, served as JSON
at ``/api/v1/openapi.json``. The tests hold the API to it (tests/conftest.py, tests/test_api_schema.py)."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

DOCUMENT_PATH = Path(__file__).with_name("openapi.yaml")


@functools.cache
def openapi_document() -> dict:
    """The document as a dict, read once per process."""
    return yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
