"""The glossary: the catalogue's abbreviations and terms with their meanings (``glossary:``
in ``config/kpis.yaml``), the same words the tables' help explains."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import state


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    st.title("Glossary")
    glossary = view.catalogue.glossary
    if not glossary:
        st.info(
            "The catalogue defines no terms yet: an administrator adds them under `glossary:` in config/kpis.yaml.",
            icon=":material/menu_book:",
        )
        return
    st.caption("The abbreviations and terms the indicators and the report use, from the catalogue.")
    ordered = sorted(glossary, key=str.casefold)
    terms = pd.DataFrame({"Term": ordered, "Meaning": [glossary[t] for t in ordered]})
    st.table(terms.set_index("Term"))  # a plain table: long meanings wrap, and a screen reader reads it as one
