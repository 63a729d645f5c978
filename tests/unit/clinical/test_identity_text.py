"""The text that identifies a woman (`clinical/identity_text.py`, issue 12, F9): hidden and
direction-changing characters refused with the character named, the joiners some scripts spell
names with kept in names only, control characters and lone surrogates refused, and text stored
composed (NFC). (The paths in, the API and the FHIR import, are tested in
tests/web/test_identity_text.py.)"""

from __future__ import annotations

import re
import unicodedata

import pytest

from cervixwatch.clinical.identity_text import identifier_text, name_text

HIDDEN = [
    "\u200b",  # zero-width space
    "\u2060",  # word joiner
    "\ufeff",  # zero-width no-break space (BOM)
    "\u00ad",  # soft hyphen
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200f",  # right-to-left mark
    "\u061c",  # Arabic letter mark
]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_an_identifier_with_a_hidden_character_is_refused(hidden: str) -> None:
    with pytest.raises(ValueError, match=f"U\\+{ord(hidden):04X}"):
        identifier_text(f"DEMO{hidden}000001")


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_name_with_a_hidden_character_is_refused(hidden: str) -> None:
    with pytest.raises(ValueError, match="invisible or direction-changing"):
        name_text(f"Smi{hidden}th")


def test_the_joiners_that_spell_a_name_are_kept_in_names_not_in_identifiers() -> None:
    persian = "\u0645\u06cc\u200c\u0631\u0632\u0627"  # a zero-width non-joiner inside
    assert name_text(persian) == persian
    with pytest.raises(ValueError, match="U\\+200C"):
        identifier_text(f"A{chr(0x200C)}1")


def test_text_is_stored_composed() -> None:
    decomposed = "Rene\u0301e"
    assert name_text(decomposed) == "Ren\u00e9e" == unicodedata.normalize("NFC", decomposed)
    assert identifier_text("H\u0301-1") == unicodedata.normalize("NFC", "H\u0301-1")


@pytest.mark.parametrize("check", [identifier_text, name_text])
def test_control_characters_and_lone_surrogates_are_refused_by_name(check: object) -> None:
    assert callable(check)
    with pytest.raises(ValueError, match=r"^control character U\+0000 is not allowed$"):
        check("A\x00B")
    with pytest.raises(ValueError, match=r"^control character U\+001B is not allowed$"):
        check("A\x1bB")
    with pytest.raises(ValueError, match=r"^lone surrogate U\+D800 is not text$"):
        check("A\ud800B")


def test_the_message_names_the_character_in_words() -> None:
    words = "invisible or direction-changing character U+200B (zero width space) is not allowed"
    with pytest.raises(ValueError, match=f"^{re.escape(words)}$"):
        identifier_text("A\u200bB")


def test_plain_text_comes_back_as_it_was() -> None:
    assert identifier_text("DEMO000001") == "DEMO000001"
    assert name_text("O'Brien-Smith") == "O'Brien-Smith"
    assert name_text("") == ""
