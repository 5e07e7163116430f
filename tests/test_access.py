"""kpis.access: roles from emails and domains, rights by role, the local role, and a
configuration file that is checked with every problem located."""

from __future__ import annotations

import pytest

from kpis import access
from kpis.access import AccessPolicy, Right, Role
from kpis.errors import CatalogueError

POLICY = AccessPolicy(
    authentication="proxy",
    roles={
        Role.ADMIN: ["Lead@ICU.example.gov.uk"],
        Role.OFFICER: ["@performance.icu.example.gov.uk", "temp.analyst@council.example.gov.uk"],
        Role.VIEWER: [
            "@icu.example.gov.uk",
            "@council.example.gov.uk",
            "former.officer@performance.icu.example.gov.uk",
        ],
    },
)


@pytest.mark.parametrize(
    ("email", "role"),
    [
        ("lead@icu.example.gov.uk", Role.ADMIN),  # exact email, case-insensitive
        (" LEAD@icu.example.gov.uk ", Role.ADMIN),
        ("sam@performance.icu.example.gov.uk", Role.OFFICER),  # by domain
        ("temp.analyst@council.example.gov.uk", Role.OFFICER),  # an exact email beats its domain's viewer role
        ("former.officer@performance.icu.example.gov.uk", Role.VIEWER),  # ... and can lower a role too
        ("director@council.example.gov.uk", Role.VIEWER),
        ("someone@icu.example.gov.uk.evil.example", None),  # a domain matches whole, not as a prefix
        ("someone@evil-icu.example.gov.uk", None),
        ("someone@gmail.com", None),
        ("", None),
        (None, None),
    ],
)
def test_a_role_comes_from_the_email_then_the_domain(email, role):
    assert POLICY.role_for(email) == role


def test_unmatched_users_get_the_default_role_when_one_is_set():
    policy = POLICY.model_copy(update={"default_role": Role.VIEWER})
    assert policy.role_for("someone@gmail.com") == Role.VIEWER
    assert policy.role_for("lead@icu.example.gov.uk") == Role.ADMIN


def test_the_highest_role_wins_among_matches_of_the_same_kind():
    policy = AccessPolicy(roles={Role.VIEWER: ["ann@x.org"], Role.OFFICER: ["ann@x.org"]})
    assert policy.role_for("ann@x.org") == Role.OFFICER


@pytest.mark.parametrize(
    ("role", "rights"),
    [
        (None, set()),
        (Role.VIEWER, {Right.READ}),
        (Role.OFFICER, {Right.READ, Right.UPLOAD, Right.DATA_STATUS, Right.EDIT_NARRATIVE, Right.EDIT_RISKS}),
        (Role.ADMIN, set(Right)),
    ],
)
def test_each_role_has_the_rights_of_the_ones_before_it(role, rights):
    assert {right for right in Right if access.can(role, right)} == rights


def test_the_shipped_configuration_is_valid_and_local():
    policy = access.load_policy(access.DEFAULT_PATH)
    assert policy.authentication == "none"
    assert policy.default_role is None
    assert policy.role_for("performance.lead@icu.example.gov.uk") == Role.ADMIN


def test_a_missing_file_means_local_use_with_no_one_else_let_in(tmp_path):
    policy = access.load_policy(tmp_path / "absent.yaml")
    assert policy.authentication == "none"
    assert policy.role_for("anyone@example.org") is None


def test_the_configuration_file_comes_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "access.yaml"
    path.write_text("authentication: proxy\nproxy_header: X-Auth-Email\nroles:\n  officer: ['@a.org']\n")
    monkeypatch.setenv(access.ACCESS_ENV, str(path))
    policy = access.load_policy()
    assert (policy.authentication, policy.proxy_header) == ("proxy", "X-Auth-Email")
    assert policy.role_for("b@a.org") == Role.OFFICER


def test_every_problem_in_the_configuration_is_located(tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text(
        "authentication: saml\nroles:\n  superuser: ['x@y.org']\n  officer: ['bob', '@nodot']\nextra: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError) as caught:
        access.load_policy(path)
    located = {(p.location, str(p.value)) for p in caught.value.problems}
    assert ("authentication", "saml") in located
    assert ("roles.superuser.[key]", "superuser") in located
    assert ("extra", "1") in located
    problems = {p.location: p.problem for p in caught.value.problems}
    assert problems["roles.officer.0"].startswith("'bob' is not an email or an @domain")
    assert problems["roles.officer.1"].startswith("'@nodot' is not an email or an @domain")
    assert all(p.hint for p in caught.value.problems)


def test_invalid_yaml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text("roles: [unclosed\n")
    with pytest.raises(CatalogueError, match="is not valid YAML"):
        access.load_policy(path)


@pytest.mark.parametrize(("value", "role"), [(None, Role.OFFICER), ("viewer", Role.VIEWER), (" Admin ", Role.ADMIN)])
def test_the_local_role_comes_from_kpis_local_role(monkeypatch, value, role):
    if value is None:
        monkeypatch.delenv(access.LOCAL_ROLE_ENV, raising=False)
    else:
        monkeypatch.setenv(access.LOCAL_ROLE_ENV, value)
    assert access.local_role() == role


def test_an_unknown_local_role_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(access.LOCAL_ROLE_ENV, "superuser")
    with pytest.raises(
        ValueError, match="KPIS_LOCAL_ROLE='superuser' is not a role; use one of viewer, officer, admin"
    ):
        access.local_role()


@pytest.mark.parametrize(
    ("address", "local"),
    [
        (None, True),
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.5", False),
        ("192.168.1.20", False),
        ("2001:db8::1", False),
    ],
)
def test_only_this_machine_counts_as_local(address, local):
    assert access.is_local_address(address) is local
