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


# Who is believed --------------------------------------------------------------------------

BEHIND = AccessPolicy(authentication="proxy", trusted_proxies=["10.0.0.5", "10.1.0.0/16", "fd00::/8"])


@pytest.mark.parametrize(
    ("policy", "values", "peer", "email"),
    [
        (BEHIND, ["ann@a.org"], "10.0.0.5", "ann@a.org"),
        (BEHIND, ["ann@a.org"], "10.1.200.3", "ann@a.org"),  # in a trusted network
        (BEHIND, ["ann@a.org"], "fd00::2", "ann@a.org"),
        (BEHIND, [], "198.51.100.7", None),  # no header: nobody signed in, from anywhere
        (BEHIND, ["  "], "10.0.0.5", None),
        (AccessPolicy(authentication="proxy"), ["ann@a.org"], None, "ann@a.org"),  # default: this machine's proxy
        (AccessPolicy(authentication="proxy"), ["ann@a.org"], "::ffff:127.0.0.1", "ann@a.org"),
    ],
)
def test_the_header_is_believed_from_a_trusted_proxy(policy, values, peer, email):
    assert access.proxy_email(policy, values, peer) == email


@pytest.mark.parametrize(
    ("policy", "peer"),
    [
        (BEHIND, "198.51.100.7"),
        (BEHIND, "10.0.0.6"),
        (BEHIND, None),  # this machine is not a trusted proxy once proxies are named
        (AccessPolicy(authentication="proxy"), "192.0.2.2"),  # by default only this machine's proxy
        (BEHIND, "not an address"),
    ],
)
def test_a_forged_header_from_any_other_peer_is_refused(policy, peer):
    with pytest.raises(access.SignInRefused) as caught:
        access.proxy_email(policy, ["lead@icu.example.gov.uk"], peer)
    assert caught.value.title == "Sign-in refused"
    assert str(caught.value) == (
        f"This request says who is signing in (X-Forwarded-Email), but it came from {peer or 'this machine'}, which"
        " is not the organisation's sign-in proxy, so it is not believed. Open the dashboard through your"
        " organisation's sign-in address."
    )


@pytest.mark.parametrize("values", [["lead@icu.example.gov.uk", "ann@a.org"], ["lead@icu.example.gov.uk, ann@a.org"]])
def test_a_repeated_header_is_refused_even_from_the_proxy(values):
    with pytest.raises(access.SignInRefused, match=r"^This request names the signed-in user more than once"):
        access.proxy_email(BEHIND, values, "10.0.0.5")


@pytest.mark.parametrize(
    ("policy", "address", "refused"),
    [
        (AccessPolicy(authentication="proxy"), "0.0.0.0", True),
        (AccessPolicy(authentication="proxy"), "", True),  # Streamlit's default: every address
        (AccessPolicy(authentication="proxy"), "192.0.2.2", True),
        (AccessPolicy(authentication="proxy"), "localhost", False),
        (AccessPolicy(authentication="proxy"), "127.0.0.1", False),
        (BEHIND, "0.0.0.0", False),
        (AccessPolicy(authentication="oidc"), "0.0.0.0", False),
        (AccessPolicy(), "0.0.0.0", False),  # none: requests from elsewhere are refused one by one
    ],
)
def test_proxy_sign_in_beyond_this_machine_needs_trusted_proxies(policy, address, refused):
    problem = access.serving_problem(policy, address)
    assert (problem is not None) is refused
    if refused:
        assert "names no trusted_proxies, so anyone who can reach it could send the sign-in header" in problem


def test_trusted_proxies_are_read_and_checked_from_the_file(tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text("authentication: proxy\ntrusted_proxies: [10.0.0.5, 10.1.0.0/16]\n")
    assert [str(n) for n in access.load_policy(path).trusted_proxies] == ["10.0.0.5/32", "10.1.0.0/16"]
    path.write_text("authentication: proxy\ntrusted_proxies: [proxy.local]\n")
    with pytest.raises(CatalogueError) as caught:
        access.load_policy(path)
    assert [(p.location, p.value) for p in caught.value.problems] == [("trusted_proxies.0", "proxy.local")]


@pytest.mark.parametrize(
    ("claims", "email"),
    [
        ({"email": "ann@a.org", "email_verified": True}, "ann@a.org"),
        ({"email": "ann@a.org", "email_verified": "true"}, "ann@a.org"),
        ({"name": "Ann"}, None),  # no email at all: no role either
    ],
)
def test_an_oidc_email_is_believed_only_when_verified(claims, email):
    assert access.verified_email(AccessPolicy(authentication="oidc"), claims) == email


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "lead@icu.example.gov.uk"},
        {"email": "lead@icu.example.gov.uk", "email_verified": False},
        {"email": "lead@icu.example.gov.uk", "email_verified": "false"},
        {"email": "lead@icu.example.gov.uk", "email_verified": 1},
    ],
)
def test_an_unverified_oidc_email_is_refused(claims):
    with pytest.raises(access.SignInRefused) as caught:
        access.verified_email(AccessPolicy(authentication="oidc"), claims)
    assert caught.value.title == "Email not verified"
    assert str(caught.value).startswith(
        "Your identity provider has not confirmed that lead@icu.example.gov.uk is your address (email_verified is not"
        " true)"
    )


def test_the_verified_claim_can_be_named():
    policy = AccessPolicy(authentication="oidc", email_verified_claim="xms_edov")
    assert access.verified_email(policy, {"email": "ann@a.org", "xms_edov": True}) == "ann@a.org"
    with pytest.raises(access.SignInRefused, match=r"\(xms_edov is not true\)"):
        access.verified_email(policy, {"email": "ann@a.org", "email_verified": True})
