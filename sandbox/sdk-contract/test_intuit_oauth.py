"""intuit-oauth (Intuit's Python OAuth 2.0 client) against the simulated Intuit OAuth server:
the discovery document, the authorization URL, consent, code exchange, refresh and revoke."""

import urllib.parse

import jwt
import pytest
import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from conftest import INTUIT_CLIENT_ID, INTUIT_CLIENT_SECRET, REALM_ID, REDIRECT_URI, consent, intuit_discovery_url


def test_discovery_points_every_endpoint_at_the_simulator(auth_client, sandbox):
    for endpoint in (auth_client.auth_endpoint, auth_client.token_endpoint, auth_client.revoke_endpoint,
                     auth_client.user_info_url, auth_client.jwks_uri):
        assert endpoint.startswith(sandbox.intuit_oauth), endpoint


def test_authorization_url_carries_what_intuit_expects(auth_client):
    url = auth_client.get_authorization_url([Scopes.ACCOUNTING, Scopes.OPENID], state_token="st-1")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query == {
        "client_id": INTUIT_CLIENT_ID,
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting openid",
        "redirect_uri": REDIRECT_URI,
        "state": "st-1",
    }
    answer = consent(url)
    assert answer["state"] == "st-1"
    assert answer["realmId"] == REALM_ID
    assert answer["code"]


def test_code_exchange_sets_the_tokens_and_their_lifetimes(auth_client):
    answer = consent(auth_client.get_authorization_url([Scopes.ACCOUNTING]))
    auth_client.get_bearer_token(answer["code"], realm_id=answer["realmId"])
    assert auth_client.access_token and auth_client.refresh_token
    assert auth_client.expires_in == 3600
    assert auth_client.x_refresh_token_expires_in == 8726400
    assert auth_client.realm_id == REALM_ID
    with pytest.raises(AuthClientError) as reused:
        auth_client.get_bearer_token(answer["code"])
    assert reused.value.status_code == 400
    assert reused.value.response.json()["error"] == "invalid_grant"


def test_openid_code_exchange_gives_an_id_token_the_client_verifies(auth_client, sandbox):
    """With `openid`, intuit-oauth checks the id_token itself (intuitlib.utils.validate_id_token):
    issuer, audience, expiry, and the RS256 signature against the key at the discovery's jwks_uri.
    It keeps the token only if all hold."""
    answer = consent(auth_client.get_authorization_url([Scopes.ACCOUNTING, Scopes.OPENID, Scopes.EMAIL]))
    auth_client.get_bearer_token(answer["code"], realm_id=answer["realmId"])
    assert auth_client.id_token, "the id_token was rejected by the SDK's own validation"
    claims = jwt.decode(auth_client.id_token, options={"verify_signature": False})
    assert claims["realmid"] == REALM_ID
    assert claims["iss"] == auth_client.issuer_uri
    user = auth_client.get_user_info()
    assert user.json()["sub"] == claims["sub"]


def test_denied_consent_returns_access_denied(auth_client):
    answer = consent(auth_client.get_authorization_url([Scopes.ACCOUNTING], state_token="st-2"), "deny")
    assert answer == {"error": "access_denied", "state": "st-2"}


def test_refresh_rotates_the_refresh_token(connected_auth_client, sandbox):
    first_access, first_refresh = connected_auth_client.access_token, connected_auth_client.refresh_token
    connected_auth_client.refresh()
    assert connected_auth_client.access_token != first_access
    assert connected_auth_client.refresh_token != first_refresh
    company = requests.get(
        f"{sandbox.qbo_api}/v3/company/{REALM_ID}/companyinfo/{REALM_ID}",
        headers={"Authorization": f"Bearer {connected_auth_client.access_token}", "Accept": "application/json"},
        timeout=10,
    )
    assert company.status_code == 200, company.text


def test_a_superseded_refresh_token_works_for_24_hours(own_sandbox):
    """Intuit keeps the previous refresh token valid for 24 h after a refresh (a client that lost
    the answer can retry); then it is invalid_grant. The simulator's clock is moved, so this
    test has a sandbox of its own."""
    from intuitlib.client import AuthClient

    client = AuthClient(INTUIT_CLIENT_ID, INTUIT_CLIENT_SECRET, REDIRECT_URI, intuit_discovery_url(own_sandbox))
    answer = consent(client.get_authorization_url([Scopes.ACCOUNTING]))
    client.get_bearer_token(answer["code"], realm_id=answer["realmId"])
    superseded = client.refresh_token
    client.refresh()
    client.refresh(refresh_token=superseded)  # within the grace: still accepted
    advanced = requests.post(f"{own_sandbox.intuit_oauth}/_sandbox/clock/advance", json={"seconds": 25 * 3600}, timeout=10)
    assert advanced.status_code == 200, advanced.text
    with pytest.raises(AuthClientError) as refused:
        client.refresh(refresh_token=superseded)
    assert refused.value.response.json()["error"] == "invalid_grant"
    client.refresh()  # the current one still works


def test_revoke_ends_the_grant(connected_auth_client):
    refresh_token = connected_auth_client.refresh_token
    assert connected_auth_client.revoke() is True
    with pytest.raises(AuthClientError) as refused:
        connected_auth_client.refresh(refresh_token=refresh_token)
    assert refused.value.status_code == 400
    assert refused.value.response.json()["error"] == "invalid_grant"
