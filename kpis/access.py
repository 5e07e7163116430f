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

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

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
        "none", description="How users are identified: none (local user), oidc (st.login) or proxy (a header)."
    )
    proxy_header: str = Field("X-Forwarded-Email", description="With proxy: the header holding the user's email.")
    oidc_provider: str | None = Field(None, description="With oidc: the provider name under [auth] in secrets.toml.")
    default_role: Role | None = Field(None, description="The role of a signed-in user matched by no entry (none).")
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


def is_local_address(address: str | None) -> bool:
    """Whether a client address is this machine (``None``: no network client, as in tests)."""
    return address is None or address.startswith(LOOPBACK) or address == "::ffff:127.0.0.1"
