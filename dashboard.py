"""The ICU performance dashboard (Streamlit). A placeholder page until the dashboard issue:
the KPI table as at the latest month, from the embedded store (sample data at first start)."""

import streamlit as st

from kpis import cli, sample, store
from kpis.catalogue import load_catalogue
from kpis.performance import rag_summary

st.set_page_config(page_title="ICU Summary Performance Report", layout="wide")


@st.cache_resource
def _engine(url: str):
    engine = store.connect(url)
    sample.ensure_sample_loaded(engine, load_catalogue())
    return engine


catalogue = load_catalogue()
engine = _engine(store.database_url())
table, as_at = cli.kpi_table_as_at(engine, catalogue, None)
st.title(catalogue.title)
st.caption(f"As at {cli.periods.label(as_at)}. Sample data is illustrative.")
st.dataframe(rag_summary(table, catalogue), hide_index=True)
st.dataframe(table, hide_index=True)
