"""What the screens show (:mod:`kpis.report.presentation`): the glossary's terms found in
an indicator's name, for the tooltips of tiles, titles and table headers."""

from __future__ import annotations

import pytest

from kpis.report import presentation

GLOSSARY = {
    "A&E": "Accident and emergency",
    "AE": "Adverse event",
    "IIC": "Integrated intermediate care",
    "MOFD": "Medically optimised for discharge",
    "YTD": "Year to date",
}


@pytest.mark.parametrize(
    "text, terms",
    [
        ("% discharged on pathway 2 (IIC) within 48 hours of becoming MOFD", ["IIC", "MOFD"]),
        ("Smokers who quit (YTD)", ["YTD"]),
        ("A&E attendances", ["A&E"]),  # the & is part of the term, and "AE" is not inside it
        ("AE reports; A&E waits", ["AE", "A&E"]),
        ("MOFD and MOFD again", ["MOFD", "MOFD"]),
        ("mofd patients", []),  # as written: lower case is a word, not the term
        ("MOFDs and YTDs", []),  # a whole word only
        ("IIC-MOFD", ["IIC", "MOFD"]),  # a hyphen ends a word
        ("Total non-elective admissions", []),
        ("", []),
    ],
)
def test_glossary_terms_are_found_as_whole_words_in_reading_order(text, terms):
    spans = presentation.glossary_terms(GLOSSARY, text)
    assert [term for _, _, term in spans] == terms
    assert [text[start:end] for start, end, _ in spans] == terms


def test_where_two_terms_overlap_the_longer_wins():
    glossary = {"SPC": "Statistical process control", "SPC chart": "A chart of SPC limits"}
    assert presentation.glossary_terms(glossary, "An SPC chart") == [(3, 12, "SPC chart")]


def test_the_help_gives_each_term_used_once_in_the_glossarys_order():
    text = "% becoming MOFD (IIC) at A&E; MOFD"
    assert presentation.glossary_help(GLOSSARY, text) == (
        "A&E: Accident and emergency\n\nIIC: Integrated intermediate care\n\nMOFD: Medically optimised for discharge"
    )
    assert presentation.glossary_help(GLOSSARY, "Total non-elective admissions") is None
