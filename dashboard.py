"""The ICU performance dashboard: ``streamlit run dashboard.py``.

The shell: page setup, the data and the as-at month (sidebar), then the navigation made
from the catalogue. Errors from the engine become messages here, never tracebacks.
"""

import streamlit as st

from app import navigation, shell, state
from kpis.errors import CatalogueError

st.set_page_config(page_title="ICU Summary Performance Report", page_icon=":material/monitoring:", layout="wide")

try:
    catalogue = state.catalogue()
except CatalogueError as error:
    st.error("The catalogue of indicators is not valid, so the dashboard cannot open. An administrator can fix it:")
    st.code(str(error), language=None)
    st.stop()

url = state.database_url()
version = state.data_version()
months = state.available_months(state.observations(url, version))
as_at = shell.as_at_selector(months)
view = state.View(url=url, version=version, catalogue=catalogue, as_at=as_at, months=months)
shell.status(view, state.current_user())
st.navigation(navigation.build(view)).run()
