"""Who is using the app, at the boundary: the local user, a user signed in with Streamlit's
OIDC login, or one signed in at a trusted reverse proxy (``config/access.yaml``). The roles
themselves are worked out by ``kpis.access``.

``identify`` runs before any page: it either returns the user or shows why they cannot
come in (sign in first, no access, not this machine) and stops the script. ``allowed``
guards a page that needs a right, so that reaching it by its URL shows a refusal, never
the page.
"""

from __future__ import annotations

import getpass
from typing import NoReturn

import streamlit as st

from app import ui
from app.state import User
from kpis import access
from kpis.access import AccessPolicy, Right


def _stop_with(title: str, message: str) -> NoReturn:
    st.title(title)
    st.error(message, icon=":material/lock:")
    st.stop()


def _local_user() -> User:
    if not access.is_local_address(st.context.ip_address):
        _stop_with(
            "Not available from this address",
            "This dashboard runs without sign-in, for use on this machine only. To serve it to "
            "others, an administrator turns authentication on in config/access.yaml (see the "
            "README, 'Access control').",
        )
    try:
        role = access.local_role()
    except ValueError as error:
        _stop_with("The local role is not valid", f"{error}.")
    return User(getpass.getuser(), role, "local")


def _has_auth_secrets() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than answer
        return False


def _oidc_user(policy: AccessPolicy) -> User:
    if not _has_auth_secrets():
        _stop_with(
            "Sign-in is not set up",
            "config/access.yaml asks for sign-in with OIDC, but .streamlit/secrets.toml has no [auth] "
            "section for the identity provider. An administrator adds it (see the README, 'Access control').",
        )
    if not st.user.is_logged_in:
        st.title("ICU Summary Performance Report")
        st.write("Sign in with your organisation's account to see the report.")
        provider = (policy.oidc_provider,) if policy.oidc_provider else ()
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login, args=provider)
        st.stop()
    try:
        email = access.verified_email(policy, st.user.to_dict())
    except access.SignInRefused as refused:
        _stop_with(refused.title, ui.plain(refused))
    return User(str(email or st.user.get("name") or "unknown"), policy.role_for(email), "signed in")


def _proxy_user(policy: AccessPolicy) -> User:
    try:
        # Every copy of the header (a client's own and the proxy's would both arrive) and
        # the connecting address as Streamlit's server has it (None: this machine).
        email = access.proxy_email(policy, st.context.headers.get_all(policy.proxy_header), st.context.ip_address)
    except access.SignInRefused as refused:
        _stop_with(refused.title, str(refused))
    if not email:
        _stop_with(
            "Sign-in required",
            "No signed-in user came with this request. Open the dashboard through your "
            "organisation's sign-in address, not the server's own address.",
        )
    return User(email, policy.role_for(email), "signed in at the proxy")


def check_serving(policy: AccessPolicy) -> None:
    """Refuse to run (every page, every user) when the policy is unsafe for the address
    the server listens on: proxy sign-in beyond this machine without trusted_proxies."""
    problem = access.serving_problem(policy, st.get_option("server.address"))
    if problem:
        _stop_with("The dashboard will not start", problem)


def identify(policy: AccessPolicy) -> User:
    """The user of this session, or a screen saying why there is none (the script stops)."""
    if policy.authentication == "oidc":
        user = _oidc_user(policy)
    elif policy.authentication == "proxy":
        user = _proxy_user(policy)
    else:
        user = _local_user()
    if user.role is None:
        _stop_with(
            "No access",
            f"You are signed in as {ui.plain(user.name)}, who has no access to this dashboard. "
            "Ask the ICU performance team to add you.",
        )
    return user


def allowed(user: User, right: Right) -> bool:
    """True when ``user`` has ``right``; otherwise the page shows a refusal instead."""
    if user.can(right):
        return True
    refuse(user, right)
    return False


def refuse(user: User, right: Right) -> None:
    """The refusal a page shows to a user without ``right``."""
    needed = access.NEEDS[right].value
    st.title("Not available")
    st.error(
        f"You need the {needed} role to {right.value}; you are signed in as {ui.plain(user.name)} ({user.role}).",
        icon=":material/lock:",
    )
