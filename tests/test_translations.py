"""The Simplified Chinese catalogue is complete, keeps its placeholders and is compiled.

Chinese is the default language of the user interface: an untranslated or fuzzy entry shows
English (or, for a fuzzy one, the translation of some other text) to residents and staff.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parent.parent / "gongzhi" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LOCALE / "django.po"
MO_PATH = LOCALE / "django.mo"

# Python %-format placeholders: named ones such as %(name)s, and the escaped percent sign %%.
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%%")


@pytest.fixture(scope="module")
def po() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def live(po: polib.POFile) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete]


def label(entry: polib.POEntry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    return f"{entry.msgid!r} ({where})"


def placeholders(text: str) -> list[str]:
    return sorted(m.group(0) if m.group(1) is None else m.group(1) for m in PLACEHOLDER.finditer(text))


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [text for _index, text in sorted(entry.msgstr_plural.items())]
    return [entry.msgstr]


def test_the_catalogue_declares_one_plural_form(po: polib.POFile) -> None:
    assert po.metadata["Language"] == "zh_Hans"
    assert po.metadata["Plural-Forms"].replace(" ", "").startswith("nplurals=1;")


def test_every_entry_is_translated(po: polib.POFile) -> None:
    untranslated = [label(e) for e in live(po) if not e.translated() and "fuzzy" not in e.flags]
    assert untranslated == [], f"{len(untranslated)} untranslated: " + "; ".join(untranslated[:20])


def test_no_entry_is_fuzzy(po: polib.POFile) -> None:
    fuzzy = [label(e) for e in live(po) if "fuzzy" in e.flags]
    assert fuzzy == [], f"{len(fuzzy)} fuzzy: " + "; ".join(fuzzy[:20])


def test_translations_keep_the_placeholders_of_their_msgid(po: polib.POFile) -> None:
    wrong = []
    for entry in live(po):
        if "python-format" not in entry.flags or not entry.translated():
            continue
        expected = placeholders(entry.msgid)
        if entry.msgid_plural:
            # With one plural form the translation serves both; it may use either's placeholders.
            expected_plural = placeholders(entry.msgid_plural)
            allowed = [expected, expected_plural]
        else:
            allowed = [expected]
        for text in translations(entry):
            if placeholders(text) not in allowed:
                wrong.append(f"{label(entry)} -> {text!r}")
    assert wrong == [], "; ".join(wrong)


def test_the_placeholder_check_sees_what_python_formatting_uses() -> None:
    assert placeholders("%(n)s of %(t)d, 10 %%") == ["%%", "n", "t"]
    assert placeholders("%(n)s 件，10%%") != placeholders("%(n)s 件，10%")


def test_the_compiled_catalogue_matches_the_po_file(po: polib.POFile) -> None:
    assert MO_PATH.exists(), "run: gongzhi compilemessages -l zh_Hans -l en"
    mo = polib.mofile(str(MO_PATH))
    compiled = {(e.msgctxt, e.msgid): translations(e) for e in mo if e.msgid}
    wanted = {
        (e.msgctxt, e.msgid): translations(e)
        for e in live(po)
        if e.msgid and e.translated() and "fuzzy" not in e.flags
    }
    stale = sorted(str(key[1]) for key in wanted.keys() - compiled.keys())
    extra = sorted(str(key[1]) for key in compiled.keys() - wanted.keys())
    changed = sorted(str(key[1]) for key in wanted.keys() & compiled.keys() if wanted[key] != compiled[key])
    assert (stale, extra, changed) == ([], [], []), (
        "the .mo is out of date with the .po: run gongzhi compilemessages -l zh_Hans -l en"
    )
