"""The Provisioning page in a real browser, served by a real Airflow API server with the plugin.

One module-wide setup: slapd with the example directory and the Confluence
emulator; two ``dag.test()`` runs of the DAG (a first sync, then a new hire, a
leaver and skim moving from QA to sales); then ``airflow api-server`` on a free
port, and Debian's Chromium driven by Playwright. Screenshots of every step go
to ``.artifacts/ui/`` (or ``$UI_SCREENSHOTS``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from confluence_provisioning.audit import AuditStore, RunRecord
from sandbox.airflow_env import REPO, RULES_DIR_VARIABLE, airflow_environment, unattended_rules
from sandbox.confluence import EmulatorServer
from sandbox.demo import MOVE_FROM_QA_TO_SALES
from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.openldap import OpenLdapSandbox

CHROMIUM = "/usr/bin/chromium"
# no network beyond loopback, no GPU, no sandbox (root in CI), nothing phoning home
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DAG_ID = "confluence_provisioning"
PARAMS = {"dry_run": False, "rules_file": "default.yaml", "allow_over_limits": False, "only_users": []}
SCREENSHOTS = Path(os.environ.get("UI_SCREENSHOTS") or REPO / ".artifacts" / "ui")
MOVED = "skim"  # moved from QA to sales by the second run

pytestmark = pytest.mark.slow


def _require_browser() -> None:
    """Skip, saying what to install, where the browser is missing; in CI it must be there."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append("Debian's chromium package (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright from PyPI (pip install -r requirements.txt)")
    if missing:
        message = f"the browser test needs {' and '.join(missing)}: `make test` installs both as root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Synced:
    runs: list[RunRecord]  # first run, second run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def synced(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """Two runs of the DAG with dag.test(): the first sync, then the directory's changes."""
    _require_browser()
    from airflow.dag_processing.dagbag import DagBag

    folder = tmp_path_factory.mktemp("browser")
    with (
        OpenLdapSandbox([EXAMPLE_LDIF]) as ldap,
        EmulatorServer() as confluence,
        pytest.MonkeyPatch.context() as env,
    ):
        sandbox = airflow_environment(airflow_db, ldap, confluence)
        for name in ("AIRFLOW_CONN_LDAP_DEFAULT", "AIRFLOW_CONN_CONFLUENCE_DEFAULT"):
            env.setenv(name, sandbox[name])
        # unattended: the first run would otherwise wait for approval
        env.setenv(RULES_DIR_VARIABLE, str(unattended_rules(folder / "mapping_rules")))
        env.setenv(
            "AIRFLOW_CONN_CONFLUENCE_PROVISIONING_AUDIT",
            json.dumps({"conn_type": "sqlite", "host": str(folder / "audit.db")}),
        )
        bag = DagBag(dag_folder=REPO / "dags")
        assert bag.import_errors == {}
        dag = bag.dags[DAG_ID]
        first = dag.test(run_conf=PARAMS)
        ldap.modify_ldif(MOVE_FROM_QA_TO_SALES)
        second = dag.test(run_conf=PARAMS)
        with AuditStore(f"sqlite:///{folder / 'audit.db'}") as store:
            runs = [store.find_run(DAG_ID, first.run_id), store.find_run(DAG_ID, second.run_id)]
        assert all(run is not None and run.status == "success" for run in runs), runs
        yield Synced(runs)  # type: ignore[arg-type]


@dataclass
class Airflow:
    url: str
    password: str


@pytest.fixture(scope="module")
def airflow_server(synced: Synced, airflow_db: Path) -> Iterator[Airflow]:
    """``airflow api-server`` on a free port, over the metadata database the runs were recorded in."""
    port = _free_port()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log = (SCREENSHOTS / "api-server.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("airflow")), "api-server", "--port", str(port), "--workers", "1"],
        env={**os.environ, "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        passwords = json.loads((airflow_db / "simple_auth_manager_passwords.json.generated").read_text())
        yield Airflow(url, passwords["admin"])
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_until_up(url: str, server: subprocess.Popen[Any], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"airflow api-server exited with {server.returncode}: see {SCREENSHOTS / 'api-server.log'}"
            )
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"airflow api-server did not answer within {timeout:.0f} s")


@pytest.fixture(scope="module")
def browser(airflow_server: Airflow) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_an_admin_finds_the_runs_a_report_a_moved_user_and_the_sync_report_link(
    synced: Synced, airflow_server: Airflow, browser: Any
) -> None:
    from playwright.sync_api import expect

    first, second = synced.runs
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    # generous: CI's two cores run Airflow's UI, its API server and the browser at once
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)

    # log in
    page.goto(f"{airflow_server.url}/")
    page.wait_for_load_state("networkidle")
    shot(page, "00-login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(airflow_server.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{airflow_server.url}/**")

    # the page, from the navigation: both runs with their counts
    page.get_by_role("link", name="Provisioning", exact=True).click()
    frame = page.frame_locator("iframe")
    rows = frame.locator("tr.run")
    expect(rows).to_have_count(2)
    for run in (second, first):
        row = frame.locator(f'tr.run[data-run-id="{run.id}"]')
        expect(row).to_contain_text(run.dag_run_id)
        expect(row.locator("td.ops strong")).to_have_text(str(run.total()))
    expect(frame.locator(f'tr.run[data-run-id="{second.id}"]')).to_contain_text(
        "remove membership: 1 applied"
    )
    shot(page, "01-runs")

    # a run, and its report
    frame.get_by_role("link", name=second.dag_run_id).click()
    expect(frame.locator("h1")).to_contain_text(f"Run {second.dag_run_id}")
    shot(page, "02-run")
    frame.locator("#report-link").click()
    report = frame.frame_locator("iframe#report")
    expect(report.locator("h1")).to_contain_text("Confluence sync")
    expect(report.locator("body")).to_contain_text(f"{MOVED} belongs in sales")
    shot(page, "03-report")

    # a user moved between groups: both operations with their reasons
    frame.get_by_role("link", name="People and groups").click()
    frame.locator("main input[name=q]").fill(MOVED)
    frame.locator("main").get_by_role("button", name="Search").click()
    frame.get_by_role("link", name=MOVED, exact=True).click()
    timeline = frame.locator("table.timeline")
    removal = timeline.locator("tr", has_text="remove membership")
    expect(removal).to_contain_text("engineering")
    expect(removal).to_contain_text("prunes members")
    addition = timeline.locator("tr", has_text="add membership").filter(has_text="sales")
    expect(addition).to_contain_text(f"{MOVED} belongs in sales")
    expect(frame.locator("ul.explanation")).to_contain_text("not in engineering")
    expect(frame.locator("ul.explanation")).to_contain_text("in sales")
    shot(page, "04-person")

    # the DAG's own tab lists its runs
    page.goto(f"{airflow_server.url}/dags/{DAG_ID}/plugin/provisioning-dag")
    expect(page.frame_locator("iframe").locator("tr.run")).to_have_count(2)
    shot(page, "05-dag-tab")

    # the report task's extra link opens the run's page (same origin: in the same tab)
    page.goto(f"{airflow_server.url}/dags/{DAG_ID}/runs/{second.dag_run_id}/tasks/report")
    page.get_by_role("link", name="Details", exact=True).click()  # the task instance's tab with its links
    link = page.get_by_role("link", name="Sync report")
    expect(link).to_be_visible()
    shot(page, "06-task")
    link.click()
    page.wait_for_url(f"**/provisioning/runs/{second.id}")
    expect(page.locator("h1")).to_contain_text(f"Run {second.dag_run_id}")
    shot(page, "07-sync-report-link")
