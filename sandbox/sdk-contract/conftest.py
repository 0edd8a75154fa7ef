"""Starts `zqsync sandbox` once for the whole run and hands the official SDKs its URLs.

The binary is $ZQSYNC_BIN, else $CARGO_TARGET_DIR/debug/zqsync (scripts/test builds it first).
With `--base-port 0` the simulators bind free loopback ports chosen by the OS, so nothing can
race for them; the URLs come from the banner the command prints once every server listens.
"""

import contextlib
import html.parser
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

# The simulators speak plain HTTP on loopback; oauthlib (under python-quickbooks' session) refuses
# http:// URLs unless this, its own switch for local testing, is set.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

STARTUP_DEADLINE_SECS = 60
STOP_DEADLINE_SECS = 15
# SandboxConfig's defaults (sandbox/README.md): the realm the Intuit consent connects, the
# Intuit app's credentials and the seeded QBO company.
REALM_ID = "9341453050298464"
INTUIT_CLIENT_ID = "sandbox-intuit-client"
INTUIT_CLIENT_SECRET = "sandbox-intuit-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"
# The banner's labels (server/src/main.rs) and the SandboxUrls field each one is.
BANNER = {
    "Zoho accounts (OAuth)": "zoho_accounts",
    "Zoho CRM API": "zoho_api",
    "QuickBooks Online API": "qbo_api",
    "Intuit OAuth": "intuit_oauth",
    "Stripe API": "stripe_api",
}


@dataclass
class SandboxUrls:
    zoho_accounts: str
    zoho_api: str
    qbo_api: str
    intuit_oauth: str
    stripe_api: str


def zqsync_binary() -> Path:
    explicit = os.environ.get("ZQSYNC_BIN")
    if explicit:
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache" / "zqsync-target")
    return Path(target) / "debug" / "zqsync"


def read_banner(process: subprocess.Popen) -> SandboxUrls:
    """Reads stdout until the banner has named all five servers (they listen by then). A thread
    reads the lines, so the deadline holds however the output is buffered, and it keeps
    draining stdout afterwards so the pipe never fills and blocks the sandbox."""
    lines = queue.Queue()

    def pump():
        for line in process.stdout:
            lines.put(line)
        lines.put(None)  # end of output: the process exited

    threading.Thread(target=pump, daemon=True).start()
    urls = {}
    deadline = time.monotonic() + STARTUP_DEADLINE_SECS
    while len(urls) < len(BANNER):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"zqsync sandbox printed no URLs within {STARTUP_DEADLINE_SECS} s") from None
        if line is None:
            raise RuntimeError(f"zqsync sandbox exited with {process.wait()} before listening")
        for label, field in BANNER.items():
            if line.strip().startswith(label):
                # "QuickBooks Online API   http://127.0.0.1:40001/v3/company/<realm>/..."
                url = line.split()[len(label.split())]
                parts = urllib.parse.urlsplit(url)
                urls[field] = f"{parts.scheme}://{parts.netloc}"
    return SandboxUrls(**urls)


@contextlib.contextmanager
def running_sandbox():
    """`zqsync sandbox` from start to a graceful stop, by its PID."""
    binary = zqsync_binary()
    if not binary.exists():
        pytest.fail(f"{binary} does not exist: build it with `cargo build -p server` (scripts/test does)")
    with tempfile.TemporaryFile("w+", prefix="zqsync-sandbox-", suffix=".log") as log:
        process = subprocess.Popen(
            [str(binary), "sandbox", "--base-port", "0", "--records", "5"],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            urls = read_banner(process)
        except Exception:
            process.kill()
            process.wait()
            log.seek(0)
            raise RuntimeError(f"zqsync sandbox did not start; its log:\n{log.read()}") from None
        try:
            yield urls
        finally:
            process.send_signal(signal.SIGINT)  # its Ctrl-C: a graceful stop
            try:
                process.wait(STOP_DEADLINE_SECS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise RuntimeError(
                    f"zqsync sandbox (pid {process.pid}) ignored SIGINT for {STOP_DEADLINE_SECS} s"
                ) from None


@pytest.fixture(scope="session")
def sandbox():
    """One simulator for the run; tests that move its clock take `own_sandbox`."""
    with running_sandbox() as urls:
        yield urls


@pytest.fixture
def own_sandbox():
    with running_sandbox() as urls:
        yield urls


class ConsentForm(html.parser.HTMLParser):
    """The consent page's form: its action and hidden inputs (what a browser would submit)."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def consent(authorize_url: str, decision: str = "allow") -> dict:
    """Loads the consent page, clicks Accept (or Deny) like a person, and returns the query of
    the redirect back to the app (code, state, realmId or error)."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    form = ConsentForm()
    form.feed(page.text)
    assert form.action, "the consent page has a form"
    action = urllib.parse.urljoin(authorize_url, form.action)
    answer = requests.post(action, data={**form.fields, "decision": decision}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def intuit_discovery_url(urls: SandboxUrls) -> str:
    return f"{urls.intuit_oauth}/.well-known/openid_sandbox_configuration/"


@pytest.fixture
def auth_client(sandbox):
    """An intuit-oauth AuthClient configured for the simulated Intuit: its `environment` takes a
    discovery document URL in place of 'sandbox' / 'production' (intuitlib.utils.get_discovery_doc)."""
    from intuitlib.client import AuthClient

    return AuthClient(INTUIT_CLIENT_ID, INTUIT_CLIENT_SECRET, REDIRECT_URI, intuit_discovery_url(sandbox))


@pytest.fixture
def connected_auth_client(auth_client):
    """An AuthClient that went through consent and the code exchange for the accounting scope."""
    from intuitlib.enums import Scopes

    answer = consent(auth_client.get_authorization_url([Scopes.ACCOUNTING]))
    auth_client.get_bearer_token(answer["code"], realm_id=answer["realmId"])
    return auth_client


@pytest.fixture
def qb(sandbox, connected_auth_client):
    """A python-quickbooks client on the simulated QBO. The base URL is the client's own
    `api_url_v3` attribute (used when its AuthClient's environment is not 'sandbox')."""
    from quickbooks import QuickBooks

    client = QuickBooks(
        auth_client=connected_auth_client,
        refresh_token=connected_auth_client.refresh_token,
        company_id=connected_auth_client.realm_id,
        minorversion=75,
    )
    client.api_url_v3 = f"{sandbox.qbo_api}/v3"
    return client
