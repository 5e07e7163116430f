"""The ICU performance engine: catalogue, store, ingest and the monthly KPI table.

Plain Python and pandas; nothing here imports Streamlit.
"""
