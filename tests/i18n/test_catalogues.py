"""The gettext catalogues are complete and current.

Every message the sources mark (``_()``, ``N_()``, ``{% trans %}``) is in the template, every
message of the template has a zh_CN translation with the same placeholders, and the compiled
``.mo`` shipped is the compilation of the ``.po`` next to it. A message added without a
translation, or a ``.po`` edited without compiling, fails here."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from scheduler.i18n import CATALOGUES, LANGUAGES, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "scheduler" / "i18n" / "messages.pot"
TRANSLATED = [language for language in LANGUAGES if language != SOURCE_LANGUAGE]
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")


def _ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def _po(language: str) -> Path:
    return CATALOGUES / language / "LC_MESSAGES" / "messages.po"


def test_the_template_holds_exactly_the_messages_the_sources_mark(tmp_path):
    extracted = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(extracted),
            str(ROOT),
        ]
    )
    assert _ids(extracted) == _ids(TEMPLATE), "run the pybabel extract of docs/languages.md"
    assert len(_ids(TEMPLATE)) > 80


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_translation_with_the_same_placeholders(language):
    with _po(language).open("rb") as handle:
        catalogue = read_po(handle)
    template = _ids(TEMPLATE)
    missing = sorted(template - {m.id for m in catalogue if m.id and m.string and not m.fuzzy})
    assert missing == [], f"{language} has no translation of {missing}"
    stale = sorted({m.id for m in catalogue if m.id} - template)
    assert stale == [], f"{language} translates messages no source uses: {stale}"
    for message in catalogue:
        if message.id:
            for form in _forms(message.string):
                assert _placeholders(form) == _placeholders(_forms(message.id)[-1]), message.id


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A message's text, or each of its plural forms (a language may have one form only)."""
    return text if isinstance(text, tuple) else (text,)


def _placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_shipped_mo_is_the_po_compiled(language):
    with _po(language).open("rb") as handle:
        catalogue = read_po(handle)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    shipped = _po(language).with_suffix(".mo").read_bytes()
    assert shipped == compiled.getvalue(), "run the pybabel compile of docs/languages.md"
