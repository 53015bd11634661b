"""French first: every string is translated, and the compiled catalogue says what the source says."""

from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "fr" / "LC_MESSAGES"


def test_every_string_has_its_french_text() -> None:
    po = polib.pofile(str(CATALOGUE / "django.po"))

    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []


def test_the_compiled_catalogue_matches_its_source() -> None:
    def translations(catalogue: polib._BaseFile) -> dict:
        return {
            (entry.msgctxt, entry.msgid): entry.msgstr or tuple(sorted(entry.msgstr_plural.items()))
            for entry in catalogue
            if entry.msgid and not entry.obsolete and "fuzzy" not in entry.flags
        }

    po = translations(polib.pofile(str(CATALOGUE / "django.po")))
    mo = translations(polib.mofile(str(CATALOGUE / "django.mo")))

    assert mo == po, "Run `make messages` to compile the catalogue."
