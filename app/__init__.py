"""The Streamlit app: thin pages over the ``kpis`` engine. Pages read widgets, call one or
two engine functions (through the cached loaders in ``app.state``) and render."""
