import shutil

import pytest
import requests

from .server import TigProcess


def pytest_configure(config):
    # Unverified HTTPS here is deliberate: polling a starting server for
    # health, and pods whose certificate names a host other than 127.0.0.1.
    config.addinivalue_line("filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture
def tig(request):
    """A fresh server per test; its log is shown when the test fails."""
    server = TigProcess().start()
    yield server
    server.stop()
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        print(server.log_text())
    shutil.rmtree(server.data, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session
