"""Who may do what: roles from the user's identity, by configuration (``config/access.yaml``).

Three roles, each with the rights of the ones before it: ``viewer`` reads the report,
``officer`` also loads extracts, sees the data status, writes the workstream narrative
and edits the risk register, ``admin`` also rolls extracts back. A user's role comes from their email: an exact email in the configuration wins
over an ``@domain`` entry; among several matches of the same kind the highest role wins.
Nobody matched gets ``default_role`` (none, unless configured: no access).

How users are identified (``authentication``): ``none`` (one local user, the OS user,
whose role is ``KPIS_LOCAL_ROLE``, default ``officer``; only for a server bound to this
machine), ``oidc`` (Streamlit's built-in login, ``st.login``) or ``proxy`` (a trusted
reverse proxy that signs users in and passes their email in a header).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError

from kpis.errors import CatalogueError, CatalogueProblem
from kpis.yamlfile import load_yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "access.yaml"
ACCESS_ENV = "KPIS_ACCESS_CONFIG"
LOCAL_ROLE_ENV = "KPIS_LOCAL_ROLE"


class Role(StrEnum):
    VIEWER = "viewer"
    OFFICER = "officer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Right(StrEnum):
    READ = "read the report"
    UPLOAD = "load extracts"
    DATA_STATUS = "see the data status and past extracts"
    ROLLBACK = "roll back an extract"
    EDIT_NARRATIVE = "write the workstream progress narrative"
    EDIT_RISKS = "add, edit and import risks"


NEEDS: dict[Right, Role] = {
    Right.READ: Role.VIEWER,
    Right.UPLOAD: Role.OFFICER,
    Right.DATA_STATUS: Role.OFFICER,
    Right.ROLLBACK: Role.ADMIN,
    Right.EDIT_NARRATIVE: Role.OFFICER,
    Right.EDIT_RISKS: Role.OFFICER,
}


def can(role: Role | None, right: Right) -> bool:
    return role is not None and role.rank >= NEEDS[right].rank


def _entry(text: str) -> str:
    """An email (one person) or an ``@domain`` (everyone there), lower case."""
    entry = text.strip().lower()
    _, at, domain = entry.rpartition("@")
    if not at or "." not in domain or domain.startswith(".") or " " in entry:
        raise ValueError(
            f"{text!r} is not an email or an @domain; write ann@council.gov.uk for one person "
            "or @council.gov.uk for everyone there"
        )
    return entry


Entry = Annotated[str, AfterValidator(_entry)]


class AccessPolicy(BaseModel):
    """``config/access.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    authentication: Literal["none", "oidc", "proxy"] = Field(
        default="none", description="How users are identified: none (local user), oidc (st.login) or proxy (a header)."
    )
    proxy_header: str = Field(
        default="X-Forwarded-Email", description="With proxy: the header holding the user's email."
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="With proxy: the addresses or networks (10.0.0.5, 10.0.0.0/24) whose proxy_header is "
        "believed; none: only this machine's (127.0.0.1, ::1).",
    )
    oidc_provider: str | None = Field(
        default=None, description="With oidc: the provider name under [auth] in secrets.toml."
    )
    email_verified_claim: str = Field(
        default="email_verified",
        description="With oidc: the claim that must be true for the email claim to be believed.",
    )
    default_role: Role | None = Field(
        default=None, description="The role of a signed-in user matched by no entry (none)."
    )
    roles: dict[Role, list[Entry]] = Field(
        default_factory=dict, description="Role → emails (``ann@council.gov.uk``) and domains (``@council.gov.uk``)."
    )

    def role_for(self, email: str | None) -> Role | None:
        """The role of a signed-in user (see the module docstring)."""
        if not email:
            return None
        email = email.strip().lower()
        domain = "@" + email.rpartition("@")[2]
        exact = [role for role, entries in self.roles.items() if email in entries]
        by_domain = [role for role, entries in self.roles.items() if domain in entries]
        for matches in (exact, by_domain):
            if matches:
                return max(matches, key=lambda r: r.rank)
        return self.default_role


def access_path() -> Path:
    return Path(os.environ.get(ACCESS_ENV) or DEFAULT_PATH)


def load_policy(path: str | Path | None = None) -> AccessPolicy:
    """The access configuration; a missing file means the defaults (local user only).
    Raises :class:`CatalogueError` with every problem located."""
    path = Path(path) if path else access_path()
    if not path.exists():
        return AccessPolicy()
    raw = load_yaml(path.read_text(encoding="utf-8"), str(path)) or {}
    try:
        return AccessPolicy.model_validate(raw)
    except ValidationError as error:
        problems = [
            CatalogueProblem(
                ".".join(str(p) for p in e["loc"]) or "(file)",
                e.get("input"),
                e["msg"].removeprefix("Value error, "),
                "see the comments in config/access.yaml and the README, 'Access control'",
            )
            for e in error.errors()
        ]
        raise CatalogueError(problems, str(path)) from None


def local_role() -> Role:
    """The local user's role: ``KPIS_LOCAL_ROLE`` (default ``officer``). Raises ValueError
    for a value that is not a role."""
    text = os.environ.get(LOCAL_ROLE_ENV, Role.OFFICER.value).strip().lower()
    try:
        return Role(text)
    except ValueError:
        raise ValueError(
            f"{LOCAL_ROLE_ENV}={text!r} is not a role; use one of {', '.join(r.value for r in Role)}"
        ) from None


LOOPBACK = ("127.", "::1", "localhost")
LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


class SignInRefused(Exception):
    """A request whose claim to a user is not believed; ``title`` and the message say why."""

    def __init__(self, title: str, message: str):
        self.title = title
        super().__init__(message)


def _peer(address: str | None):
    """The connecting address as an IP address; ``None`` (Streamlit's loopback) is 127.0.0.1."""
    try:
        peer = ipaddress.ip_address(address or "127.0.0.1")
    except ValueError:
        return None
    return peer.ipv4_mapped or peer if peer.version == 6 else peer


def proxy_email(policy: AccessPolicy, values: list[str], peer: str | None) -> str | None:
    """The email a request signed in at the proxy carries: ``values`` is every copy of
    ``proxy_header`` in the request, ``peer`` the address it came from. None: no header.
    Raises :class:`SignInRefused` for a header from a peer that is not a trusted proxy,
    or a header given more than once (or holding several values)."""
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return None
    address = _peer(peer)
    trusted = policy.trusted_proxies or LOOPBACK_NETWORKS
    if address is None or not any(address in network for network in trusted):
        raise SignInRefused(
            "Sign-in refused",
            f"This request says who is signing in ({policy.proxy_header}), but it came from {peer or 'this machine'}, which is "
            "not the organisation's sign-in proxy, so it is not believed. Open the dashboard through your "
            "organisation's sign-in address.",
        )
    if len(values) > 1 or "," in values[0]:
        raise SignInRefused(
            "Sign-in refused",
            f"This request names the signed-in user more than once ({policy.proxy_header}), so who is signing in "
            "is not clear and neither is believed. An administrator sets the proxy to replace that header, never to "
            "add to one the browser sent (see docs/security.md).",
        )
    return values[0]


def serving_problem(policy: AccessPolicy, address: str | None) -> str | None:
    """Why the app must not serve with this policy on ``address`` (Streamlit's
    ``server.address``; empty: every address), or None. Proxy sign-in served beyond
    this machine needs ``trusted_proxies``: without it anyone who reaches the app could
    send the header and be anyone."""
    if policy.authentication != "proxy" or policy.trusted_proxies:
        return None
    if address and (address.startswith(LOOPBACK) or address == "::ffff:127.0.0.1"):
        return None
    return (
        f"The dashboard is served on {address or 'every address of this machine'} with sign-in at a proxy, but "
        "config/access.yaml names no trusted_proxies, so anyone who can reach it could send the sign-in header "
        "and be anyone. It will not start like this. An administrator adds the proxy's address under "
        "trusted_proxies in config/access.yaml, or serves the dashboard on localhost only (see docs/security.md)."
    )


def verified_email(policy: AccessPolicy, claims: Mapping[str, object]) -> str | None:
    """The email claim of an OIDC sign-in, believed only when the identity provider says
    it has verified it (``email_verified_claim`` is true); None: no email claim. Raises
    :class:`SignInRefused` for an unverified email."""
    email = claims.get("email")
    if not email:
        return None
    verified = claims.get(policy.email_verified_claim)
    if verified is True or (isinstance(verified, str) and verified.strip().lower() == "true"):
        return str(email)
    raise SignInRefused(
        "Email not verified",
        f"Your identity provider has not confirmed that {email} is your address ({policy.email_verified_claim} "
        "is not true), so it cannot decide your access. Verify the address with your organisation, or ask the "
        "ICU performance team.",
    )


def is_local_address(address: str | None) -> bool:
    """Whether a client address is this machine (``None``: no network client, as in tests)."""
    return address is None or address.startswith(LOOPBACK) or address == "::ffff:127.0.0.1"
