"""One response, two formats: rows become GeoReport XML or its JSON mapping.

The JSON follows the spec's "Spark" mapping of the XML: a container of repeated elements
(``<attributes><attribute>…``) becomes an array, and a list response becomes a bare array
(``<service_requests><request>…`` → ``[{…}]``). ``Many`` marks such a container.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot carry at all, even escaped; user text may still contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Many:
    """A container of repeated ``item`` elements: an array in JSON."""

    item: str
    items: Sequence[Any]


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # never exponent notation, which xs:decimal refuses
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, Many):
        for item in value.items:
            _fill(ET.SubElement(element, value.item), item)
    else:
        element.text = _scalar_text(value)


def to_xml(root: str, body: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, body)
    ET.indent(element, space="  ")
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode") + "\n").encode("utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {name: _plain(child) for name, child in value.items()}
    if isinstance(value, Many):
        return [_plain(item) for item in value.items]
    if isinstance(value, Decimal):
        return float(value)
    return value


def to_json(body: Any) -> bytes:
    return json.dumps(_plain(body), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def document(fmt: str, root: str, body: Any, *, status: int = 200) -> HttpResponse:
    """The response for ``body`` under the root element ``root`` in ``fmt`` (xml or json)."""
    content = to_xml(root, body) if fmt == "xml" else to_json(body)
    return HttpResponse(content, status=status, content_type=FORMATS[fmt])


def errors(fmt: str, status: int, messages: Sequence[str], *, code: int | None = None) -> HttpResponse:
    """The spec's error list: one ``{code, description}`` per message, the HTTP status set."""
    rows = [{"code": code or status, "description": message} for message in messages]
    return document(fmt, "errors", Many("error", rows), status=status)
