"""The Provisioning pages and their JSON twins: a FastAPI app that Airflow's API server mounts.

HTML pages (rendered here, no JavaScript) at ``/provisioning/...`` for the
UI's iframe, and the same data as JSON under ``/provisioning/api/...`` for
scripts and tests. Every route depends on ``access.reader``: 401 without an
Airflow session, 403 for a DAG the user may not read.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from airflow.configuration import conf
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from confluence_provisioning import reporting
from confluence_provisioning.audit import AuditStore
from confluence_provisioning.settings import RunSettings
from confluence_provisioning.ui import history
from confluence_provisioning.ui.access import ReaderDep
from confluence_provisioning.ui.links import URL_PREFIX

CONFIG_SECTION = "confluence_provisioning"
# the served report is a file the report task wrote: no script may run in it, nothing is fetched
REPORT_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; form-action 'self'"
)


def audit_store() -> AuditStore:
    """The audit store the DAG writes, through the same Airflow connection (``run.audit_connection_id``).

    A deployment whose rules files name another connection sets
    ``[confluence_provisioning] audit_connection_id`` in Airflow's configuration.
    """
    conn_id = conf.get(CONFIG_SECTION, "audit_connection_id", fallback=RunSettings().audit_connection_id)
    return AuditStore.from_connection(conn_id)


def create_app() -> FastAPI:
    app = FastAPI(title="Confluence provisioning history", docs_url=None, redoc_url=None, openapi_url=None)
    # opened on first use (not when Airflow imports the plugin), then shared by every request
    app.state.audit_store = functools.cache(audit_store)
    app.include_router(_json_routes(), prefix="/api")
    app.include_router(_page_routes())
    return app


# -- JSON ------------------------------------------------------------------------------------


def _json_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/runs")
    def runs(reader: ReaderDep, filters: RunFiltersDep) -> dict[str, Any]:
        return history.runs_page(reader.store, reader.dag_ids, filters)

    @router.get("/runs/{run_id}")
    def run(reader: ReaderDep, run_id: int) -> dict[str, Any]:
        return history.run_detail(reader.store, reader.require_run(reader.store.get_run(run_id)))

    @router.get("/charts")
    def charts(reader: ReaderDep) -> dict[str, Any]:
        data = history.chart(reader.store, reader.dag_ids)
        return {
            "operations": [{"label": bar.label, "total": bar.total} for bar in data["operations"]],
            "failures": [{"label": bar["label"], "failed": bar["failed"]} for bar in data["failures"]],
        }

    @router.get("/search")
    def search(reader: ReaderDep, q: Annotated[str, Query(min_length=1, max_length=200)]) -> dict[str, Any]:
        return history.search(reader.store, q, reader.dag_ids)

    @router.get("/people/{username}")
    def person(reader: ReaderDep, username: str) -> dict[str, Any]:
        return history.person(reader.store, username, reader.dag_ids)

    @router.get("/groups/{name}")
    def group(reader: ReaderDep, name: str) -> dict[str, Any]:
        return history.group(reader.store, name, reader.dag_ids)

    return router


# -- HTML ------------------------------------------------------------------------------------


def _page_routes() -> APIRouter:
    router = APIRouter(default_response_class=HTMLResponse)

    @router.get("/", name="runs_page")
    def runs_page(request: Request, reader: ReaderDep, filters: RunFiltersDep) -> HTMLResponse:
        dag_id = filters.dag_id
        return _render(
            request,
            "runs.html.j2",
            page=history.runs_page(reader.store, reader.dag_ids, filters),
            charts=history.chart(
                reader.store, reader.dag_ids if dag_id is None else {dag_id} & reader.dag_ids
            ),
            filters=filters,
        )

    @router.get("/runs/{run_id}", name="run_page")
    def run_page(request: Request, reader: ReaderDep, run_id: int) -> HTMLResponse:
        run = reader.require_run(reader.store.get_run(run_id))
        return _render(request, "run.html.j2", run=history.run_detail(reader.store, run))

    @router.get("/runs/{run_id}/report", name="report_page")
    def report_page(request: Request, reader: ReaderDep, run_id: int) -> HTMLResponse:
        """The report framed under the page's navigation."""
        run = reader.require_run(reader.store.get_run(run_id))
        return _render(request, "report.html.j2", run=history.run_summary(run, 0))

    @router.get("/runs/{run_id}/report.html", name="report_file")
    def report_file(reader: ReaderDep, run_id: int) -> HTMLResponse:
        """The report file itself, as the report task wrote it."""
        run = reader.require_run(reader.store.get_run(run_id))
        html = history.report_html(run)
        if html is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                "The report of this run is gone: its run folder was pruned, or the run stopped before it",
            )
        return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_POLICY})

    @router.get("/dag-run", name="dag_run_page")
    def dag_run_page(request: Request, reader: ReaderDep, dag_id: str, run_id: str) -> RedirectResponse:
        """Where the report task's extra link points: the page of the run with this DAG run id."""
        run = reader.require_run(reader.store.find_run(dag_id, run_id))
        return RedirectResponse(request.url_for("run_page", run_id=run.id).path, status.HTTP_303_SEE_OTHER)

    @router.get("/search", name="search_page")
    def search_page(request: Request, reader: ReaderDep, q: str = "") -> HTMLResponse:
        results = history.search(reader.store, q, reader.dag_ids) if q.strip() else None
        return _render(request, "search.html.j2", query=q, results=results)

    @router.get("/people/{username}", name="person_page")
    def person_page(request: Request, reader: ReaderDep, username: str) -> HTMLResponse:
        return _render(
            request, "person.html.j2", person=history.person(reader.store, username, reader.dag_ids)
        )

    @router.get("/groups/{name}", name="group_page")
    def group_page(request: Request, reader: ReaderDep, name: str) -> HTMLResponse:
        return _render(request, "group.html.j2", group=history.group(reader.store, name, reader.dag_ids))

    return router


def _render(request: Request, template: str, **values: Any) -> HTMLResponse:
    def url(route: str, /, **params: Any) -> str:
        return request.url_for(route, **params).path

    html = (
        _environment()
        .get_template(template)
        .render(
            url=url,
            airflow=_airflow_base(request),
            quote=lambda text: quote(str(text), safe=""),
            colour=reporting.STATUS_COLOURS.get,
            request=request,
            **values,
        )
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_POLICY})


def _airflow_base(request: Request) -> str:
    """Airflow's own base path (its UI's links), from where Airflow mounted this app."""
    root = request.scope.get("root_path", "")
    return root.removesuffix(URL_PREFIX)


def run_filters(
    run_status: Annotated[str | None, Query(alias="status")] = None,
    date_from: str | None = None,
    date_to: str | None = None,
    dag_id: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = history.PAGE_SIZE,
) -> history.RunFilters:
    """The runs table's query: empty form fields mean no filter; dates are YYYY-MM-DD (400 otherwise)."""
    return history.RunFilters(
        status=run_status or None,
        started_from=_date(date_from, "date_from"),
        started_to=_date(date_to, "date_to"),
        dag_id=dag_id or None,
        page=page,
        page_size=page_size,
    )


RunFiltersDep = Annotated[history.RunFilters, Depends(run_filters)]


def _date(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"{name}={text!r} is not a date: use YYYY-MM-DD"
        ) from None


@functools.cache
def _environment() -> jinja2.Environment:
    return reporting.environment("confluence_provisioning.ui")


app = create_app()
