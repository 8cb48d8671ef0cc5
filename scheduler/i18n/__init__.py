"""Patient-facing language: gettext catalogues (Babel) and locale formats of dates and times.

The source strings are English and are the ``en`` catalogue; every other language has a ``.po``
file under ``locale/<language>/LC_MESSAGES/`` and its compiled ``.mo`` next to it (``docs/
languages.md`` gives the extract / update / compile commands; a test fails when a ``.mo`` is
not the compilation of its ``.po`` or when a message has no translation). Code marks a message
with ``_("...")`` where ``_`` is ``Wording.gettext``; a sentence with variable parts is one
message with named placeholders (``"Take one dose of {dose} by mouth at this time."``), never
fragments joined together, because word order differs between languages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from typing import Literal, get_args

from babel import Locale

Language = Literal["en", "zh_CN"]
"""A language shipped, as the JSON API's request bodies declare it."""
LANGUAGES: tuple[str, ...] = get_args(Language)
"""The languages shipped, in the order staff see them; ``en`` is the source language."""
SOURCE_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文 (Simplified Chinese)"}
CATALOGUES = Path(__file__).parent / "locale"
DOMAIN = "messages"


def is_language(value: str) -> bool:
    return value in LANGUAGES


class Wording:
    """One language's messages and its date and time formats, for text a patient reads."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"no catalogue for language {language!r}")
        self.language = language
        self.locale = Locale.parse(language)
        translations: NullTranslations
        if language == SOURCE_LANGUAGE:
            translations = NullTranslations()
        else:
            compiled = CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
            with compiled.open("rb") as catalogue:
                translations = GNUTranslations(catalogue)
        self._translations = translations
        self.day = lru_cache(maxsize=2048)(self._day)
        self.short_day = lru_cache(maxsize=2048)(self._short_day)
        self.time = lru_cache(maxsize=256)(self._time)

    @property
    def html_lang(self) -> str:
        """The value of an HTML ``lang`` attribute (BCP 47: ``zh-CN``)."""
        return self.language.replace("_", "-")

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self._translations.ngettext(singular, plural, count)

    def _day(self, value: date) -> str:
        """A date with its weekday: "3月2日 星期一"; English keeps the ISO date, which staff and
        patients of the English sites already read on every page."""
        if self.language == SOURCE_LANGUAGE:
            return value.isoformat()
        from babel.dates import format_skeleton  # here, not at import: pytz costs a process 0.2 s

        return format_skeleton("MMMd", value, locale=self.locale) + " " + self.weekday(value)

    def _short_day(self, value: date) -> str:
        """A date in a table row: "3月2日 周一", "Mon 02 Mar"."""
        if self.language == SOURCE_LANGUAGE:
            return f"{value:%a %d %b}"
        from babel.dates import format_skeleton

        return format_skeleton("MMMEd", value, locale=self.locale)

    def weekday(self, value: date) -> str:
        """The day of the week: "星期一", "Monday"."""
        return str(self.locale.days["format"]["wide"][value.weekday()])

    def enumerate(self, items: Sequence[str], /) -> str:
        """Things in a list: "ID, medication list" / "身份证、用药清单和血压记录"."""
        if self.language == SOURCE_LANGUAGE:
            return ", ".join(items)
        from babel.lists import format_list

        return format_list(list(items), style="standard", locale=self.locale)

    def _time(self, value: time) -> str:
        """A time of day on the 24-hour clock the trial's documents use: "07:00"."""
        from babel.dates import format_time

        return format_time(value, "HH:mm", locale=self.locale)


@lru_cache(maxsize=len(LANGUAGES))
def wording(language: str) -> Wording:
    """The shared ``Wording`` of a language (catalogues are read once per process)."""
    return Wording(language)
