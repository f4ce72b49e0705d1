"""Shared by the Open311 tests: schema checks for both formats and small request helpers.

The schemas under ``schemas/`` were written for these tests from the GeoReport v2, Service
Discovery and mySociety update specifications; their objects are closed, so any field
outside the specification (or a declared extension) fails, personal data included.
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import xmlschema
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

SCHEMAS = Path(__file__).parent / "schemas"
BASE = "/open311/v2/"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"

# JSON definition and XSD file for each kind of document.
DOCUMENTS = {
    "discovery": ("discovery", "discovery"),
    "services": ("services", "services"),
    "definition": ("serviceDefinition", "service_definition"),
    "requests": ("serviceRequests", "service_requests"),
    "created": ("serviceRequestCreated", "service_request_created"),
    "token": ("token", "token"),
    "errors": ("errors", "errors"),
    "updates": ("requestUpdates", "service_request_updates"),
    "update_created": ("requestUpdateCreated", "service_request_update_created"),
}


@cache
def json_validator(definition: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "georeport-v2.schema.json").read_text(encoding="utf-8"))
    root = {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(root)


@cache
def _xsd(name: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / f"{name}.xsd"))


def valid_json(kind: str, response: Any) -> Any:
    """The parsed JSON body, after checking its content type and its schema."""
    assert response["Content-Type"] == JSON_TYPE
    data = json.loads(response.content.decode("utf-8"))
    json_validator(DOCUMENTS[kind][0]).validate(data)
    return data


def valid_xml(kind: str, response: Any) -> ET.Element:
    """The parsed XML root, after checking the content type, the declaration and the XSD."""
    assert response["Content-Type"] == XML_TYPE
    assert response.content.startswith(XML_DECLARATION + b"\n")
    _xsd(DOCUMENTS[kind][1]).validate(io.BytesIO(response.content))
    return ET.fromstring(response.content)  # noqa: S314 - our own server's output, already schema-checked


def rows(root: ET.Element) -> list[dict[str, str]]:
    """Each child of a list document as {element: text}, leaves only."""
    return [{field.tag: field.text or "" for field in item} for item in root]


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(BASE + path, params)


def post(client: Client, path: str, data: dict[str, Any], **headers: str) -> Any:
    return client.post(BASE + path, data, headers=headers)


def jpeg(color: str = "red", size: tuple[int, int] = (64, 48), name: str = "photo.jpg") -> SimpleUploadedFile:
    """A small JPEG upload made on the spot."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")
