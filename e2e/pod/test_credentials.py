"""The API key as clients send it (SPEC §4): `?apikey=K`, `Authorization:
Bearer K`, or the password of HTTP Basic authentication, accepted
everywhere the key is needed; wrong or missing keys get 401 and no key
ever reaches the log."""

import base64

import pytest
import requests

from .server import TigProcess

KEY = "the-key-of-this-test"


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


BEARER = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def keyed():
    server = TigProcess(env={"APIKEY": KEY}).start()
    yield server
    server.stop()


@pytest.mark.parametrize("headers", [BEARER, basic("anyone", KEY), basic("", KEY)], ids=["bearer", "basic", "basic-no-user"])
def test_header_credentials_allow_every_keyed_operation(keyed, headers):
    path = requests.put(keyed.url + "/", data=b"content", headers=headers).text
    assert path.endswith(".tig") and len(path) == 69, path
    slot = "/" + "ab" * 32 + ".tig"
    assert requests.put(keyed.url + slot, data=b"v1", headers=headers).status_code == 200
    assert requests.put(keyed.url + slot + "?append=1", data=b"+", headers=headers).status_code == 200
    listing = requests.get(keyed.admin_url + "/", headers=headers)
    assert listing.status_code == 200 and path in listing.text and slot in listing.text
    taken = requests.get(keyed.url + slot + "?take=1", headers=headers)
    assert (taken.status_code, taken.content) == (200, b"v1+")
    assert requests.put(keyed.url + slot, data=b"v2", headers=headers).status_code == 200
    assert requests.delete(keyed.url + slot, headers=headers).status_code == 200
    assert requests.get(keyed.url + slot).status_code == 404


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, basic("user", "wrong"), {"Authorization": f"Basic {KEY}"},
    {"Authorization": f"Digest {KEY}"}, {"Authorization": "Bearer"},
], ids=["none", "wrong-bearer", "wrong-basic", "basic-not-base64", "other-scheme", "empty-bearer"])
def test_wrong_or_missing_credentials_are_refused_and_nothing_changes(keyed, headers):
    slot = "/" + "cd" * 32 + ".tig"
    for method, url in (("PUT", keyed.url + "/"), ("PUT", keyed.url + slot), ("GET", keyed.admin_url + "/"),
                        ("GET", keyed.url + slot + "?take=1"), ("DELETE", keyed.url + slot)):
        answer = requests.request(method, url, data=b"x" if method == "PUT" else None, headers=headers)
        assert (answer.status_code, answer.content) == (401, b""), (method, url, answer.status_code)
    assert keyed.block_files() == []


def test_the_query_key_wins_over_a_header(keyed):
    # A client that sends both is judged by the query, as documented.
    assert requests.put(keyed.url + f"/?apikey={KEY}", data=b"a", headers={"Authorization": "Bearer wrong"}).status_code == 200
    assert requests.put(keyed.url + "/?apikey=wrong", data=b"b", headers=BEARER).status_code == 401


def test_no_key_reaches_the_log(keyed):
    requests.put(keyed.url + "/", data=b"x", headers=BEARER)
    requests.put(keyed.url + "/", data=b"x", headers=basic("u", "a-wrong-secret-guess"))
    requests.put(keyed.url + "/?apikey=another-wrong-guess", data=b"x")
    keyed.stop()
    log = keyed.log_text()
    for secret in (KEY, "a-wrong-secret-guess", "another-wrong-guess"):
        assert secret not in log
