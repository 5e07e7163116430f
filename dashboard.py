"""The ICU performance dashboard: ``streamlit run dashboard.py``.

The shell: page setup, who the user is (and their role), the data and the as-at month
(sidebar), then the navigation made from the catalogue and the role. Errors from the
engine become messages here, never tracebacks.
"""

import streamlit as st

from app import access, navigation, shell, state
from kpis.errors import CatalogueError

st.set_page_config(page_title="ICU Summary Performance Report", page_icon=":material/monitoring:", layout="wide")


def _or_stop(load, what: str):
    """What ``load`` reads from a configuration file, or its problems on screen and a stop."""
    try:
        return load()
    except CatalogueError as error:
        st.error(f"The {what} is not valid, so the dashboard cannot open. An administrator can fix it:")
        st.code(str(error), language=None)
        st.stop()


policy = _or_stop(state.access_policy, "access configuration")
access.check_serving(policy)  # or a refusal on every page
user = access.identify(policy)  # or a sign-in / no-access screen, and stop
catalogue = _or_stop(state.catalogue, "catalogue of indicators")

search_box = st.sidebar.container()  # first in the sidebar, filled once the menu is made
url = state.database_url()
version = state.data_version()
months = state.available_months(state.observations(url, version))
as_at = shell.as_at_selector(months, state.report_month(url, version, *state.config_key()))
view = state.View(url=url, version=version, catalogue=catalogue, as_at=as_at, months=months)
shell.status(view, user, policy)
# expanded: every page in the menu, none folded under "View more" (an officer looks for Data status)
pages: state.Pages = {}
current = st.navigation(navigation.build(view, user, pages), expanded=True)
shell.indicator_search(search_box, catalogue)
shell.open_searched(view, pages)
current.run()
