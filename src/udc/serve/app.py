"""The web app: JSON read API (OpenAPI at /docs, served offline), /metrics, and server-rendered dashboard pages.

Nothing here writes: the store is read through a read-only connection (udc.store.reader) and no source is
contacted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi_offline import FastAPIOffline
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from udc import query
from udc.errors import ConfigError, NoStoreYet, StoreError
from udc.query import QueryError
from udc.serve.auth import SESSION_COOKIE, Guard
from udc.serve.charts import bar_chart
from udc.serve.metrics import registry
from udc.serve.views import GRID_PAGE, NotFound, Views
from udc.version import __version__

PUBLIC = ("/login", "/healthz", "/static-offline-docs/")  # reachable without the token
PAGES_REFRESH = 5  # seconds between refreshes of a page showing work in progress

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Before = Annotated[int | None, Query(description="Only items with a smaller id: the `next_before` of the last page.")]


def create_app(views: Views, guard: Guard, refresh: int = PAGES_REFRESH) -> FastAPI:
    """`refresh`: seconds between reloads of a page that shows work in progress."""
    app = FastAPIOffline(title="udc", version=__version__,
                         description="Read-only monitoring of a udc store: pipelines, runs, backfills, metrics.")
    pages = Environment(loader=PackageLoader("udc.serve", "templates"), autoescape=select_autoescape())
    pages.filters["duration"] = _duration
    metrics = registry(views)

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = pages.get_template(name).render(token_required=not guard.open, **context)
        return HTMLResponse(html, status_code=status)

    @app.middleware("http")
    async def harden(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """No framing (clickjacking), no type sniffing, no referrer leaving with a dashboard URL, nothing cached."""
        response = await call_next(request)
        response.headers.update({"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
        return response

    @app.middleware("http")
    async def authorise(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if guard.allows(request) or path in PUBLIC or path.startswith(PUBLIC[-1]):
            return await call_next(request)
        if not _is_page(path):
            return JSONResponse({"error": "a valid token is needed", "fix": "send `Authorization: Bearer <token>` "
                                 "with the value of UDC_SERVE_TOKEN the server was started with"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse(f"/login?next={quote(path)}", status_code=303)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.message, "fix": exc.fix}, status_code=404)
        return page("error.html", 404, title="Not found", message=exc.message, fix=exc.fix)

    @app.exception_handler(ConfigError)
    async def unreadable(request: Request, exc: ConfigError | StoreError) -> Response:
        """The store cannot be read yet (nothing synced: NoStoreYet) or any more: 503 with the fix, until it can."""
        if not _is_page(request.url.path):
            return JSONResponse({"error": exc.message, "fix": exc.hint}, status_code=503)
        return page("error.html", 503, title="No store yet" if isinstance(exc, NoStoreYet) else "Store unavailable",
                    message=exc.message, fix=exc.hint)

    @app.exception_handler(StoreError)
    async def failed_read(request: Request, exc: StoreError) -> Response:
        """A read failed (the server restarted, the file went away): 503, and the next request opens it again."""
        views.lost()
        return await unreadable(request, exc)

    @app.exception_handler(QueryError)
    async def unanswerable(request: Request, exc: QueryError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.message, "fix": exc.hint}, status_code=400)
        return page("error.html", 400, title="Cannot answer", message=exc.message, fix=exc.hint)

    # -- JSON API ---------------------------------------------------------------------------------------------------
    @app.get("/api/pipelines", tags=["pipelines"])
    def api_pipelines() -> list[dict[str, Any]]:
        """Every configured pipeline: health, last run, last success, lag, records and deletions per table."""
        return views.pipelines()

    @app.get("/api/pipelines/{name}", tags=["pipelines"])
    def api_pipeline(name: str) -> dict[str, Any]:
        """One pipeline: tables with cursor and lag, redaction counts per entity, quarantined records, backfills."""
        return views.pipeline(name)

    @app.get("/api/runs", tags=["runs"])
    def api_runs(pipeline: str | None = None, limit: Limit = 50, before: Before = None) -> dict[str, Any]:
        """Runs, newest first, a page at a time; each with rows per table, calls, and its error with the fix."""
        return views.runs(pipeline, limit, before)

    @app.get("/api/runs/{run_id}", tags=["runs"])
    def api_run(run_id: int) -> dict[str, Any]:
        """One run with its full summary."""
        return views.run(run_id)

    @app.get("/api/backfills", tags=["backfills"])
    def api_backfills(pipeline: str | None = None, limit: Limit = 50, before: Before = None) -> dict[str, Any]:
        """Backfills, newest first, with chunks per status and ETA."""
        return views.backfills(pipeline, limit, before)

    @app.get("/api/backfills/{backfill_id}", tags=["backfills"])
    def api_backfill(backfill_id: int, first: Annotated[int, Query(ge=1)] = 1,
                     limit: Annotated[int, Query(ge=1, le=GRID_PAGE)] = GRID_PAGE) -> dict[str, Any]:
        """One backfill: chunks per status, rows per table, rate, ETA, failed chunks with their errors, and the
        chunks from sequence number `first` (`grid`, `grid_next` for the next page)."""
        return views.backfill(backfill_id, first, limit)

    @app.get("/api/checks", tags=["checks"])
    def api_checks() -> list[dict[str, Any]]:
        """The last `udc check` findings of each connector (level, title, detail, fix), and when it ran; `at` is
        null for a connector never checked against this store."""
        return views.checks()

    # the knowledge graph's questions (udc.query), answered over the same read-only connection
    @app.get("/api/search", tags=["graph"])
    def api_search(q: str, source: str | None = None, table: str | None = None, since: str | None = None,
                   limit: Limit = 20) -> list[dict[str, Any]]:
        return query.search(views.reader, q, limit, source=source, table=table, since=since)

    @app.get("/api/related/{key}", tags=["graph"])
    def api_related(key: str, depth: Annotated[int, Query(ge=1, le=4)] = 1) -> dict[str, Any]:
        return query.related(views.reader, key, depth)

    @app.get("/api/changes/{key}", tags=["graph"])
    def api_changes(key: str, hours: Annotated[float, Query(gt=0)] = 12,
                    depth: Annotated[int, Query(ge=0, le=4)] = 2) -> dict[str, Any]:
        return query.changes(views.reader, key, hours, depth)

    @app.get("/api/similar/{key}", tags=["graph"])
    def api_similar(key: str, limit: Limit = 10) -> dict[str, Any]:
        return query.similar(views.reader, key, limit)

    @app.get("/api/trends", tags=["graph"])
    def api_trends(table: str, by: str, every: str = "day", since: str | None = None) -> dict[str, Any]:
        return query.trends(views.reader, table, by, every, since)

    @app.get("/metrics", tags=["metrics"], response_class=Response)
    def prometheus() -> Response:
        """Prometheus text format: records synced, runs by outcome, HTTP responses by status, retries, rate-budget
        waits, last success, cursor lag, backfill chunks by state, quarantined and stored records."""
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        """Public, so it names no store: the reasons are behind the token (any other path)."""
        try:
            views.check()  # opened at the first request that can, and answering
        except NoStoreYet:
            return JSONResponse({"status": "no store yet: nothing has been synced", "fix": "run a sync "
                                 "(`udc sync --pipeline P`, or `udc run`): this server serves the store once it "
                                 "appears"}, status_code=503)
        except (ConfigError, StoreError):  # after a failed read, opened again at the next request
            return JSONResponse({"status": "the store cannot be read", "fix": "open / (signed in) for the reason"},
                                status_code=503)
        return JSONResponse({"status": "ok"})

    # -- pages ------------------------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview() -> HTMLResponse:
        pipelines = views.pipelines()
        backfills = views.backfills(limit=20)["backfills"]
        busy = any(p["health"] == "running" for p in pipelines) or any(
            b["status"] in ("running", "waiting") for b in backfills)
        return page("overview.html", title="Overview", pipelines=pipelines, backfills=backfills,
                    refresh=refresh if busy else None)

    @app.get("/pipelines/{name}", response_class=HTMLResponse, include_in_schema=False)
    def pipeline_page(name: str, before: int | None = None) -> HTMLResponse:
        item = views.pipeline(name)
        runs = views.runs(name, 50, before)
        failed = next((r for r in runs["runs"] if r["error"]), None) if before is None else None
        return page("pipeline.html", title=name, p=item, runs=runs, failed=failed,
                    chart=bar_chart(runs["runs"][::-1]) if before is None else None,  # oldest on the left
                    refresh=refresh if item["health"] == "running" else None)

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(run_id: int) -> HTMLResponse:
        run = views.run(run_id)
        return page("run.html", title=f"Run #{run_id}", run=run)

    @app.get("/backfills/{backfill_id}", response_class=HTMLResponse, include_in_schema=False)
    def backfill_page(backfill_id: int, first: int = 1) -> HTMLResponse:
        item = views.backfill(backfill_id, max(first, 1))
        live = item["status"] in ("running", "waiting", "queued")
        return page("backfill.html", title=f"Backfill #{backfill_id}", b=item,
                    refresh=refresh if live else None)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(q: str = "") -> HTMLResponse:
        hits = [{**hit, "snippet_html": _highlighted(hit["snippet"])}
                for hit in (query.search(views.reader, q, 50) if q.strip() else [])]
        return page("search.html", title=f"Search: {q}" if q else "Search", q=q, hits=hits)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(next: str = "/") -> HTMLResponse:
        return page("login.html", title="Sign in", next=_local(next), wrong=False, signing_in=True)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
        if not guard.token_ok(token):
            return page("login.html", 401, title="Sign in", next=_local(next), wrong=True, signing_in=True)
        response = RedirectResponse(_local(next), status_code=303)
        response.set_cookie(SESSION_COOKIE, guard.session, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return app


def _is_page(path: str) -> bool:
    """A page for a browser, not a machine's (JSON, metrics, docs): how its errors are answered."""
    return not path.startswith(("/api/", "/metrics", "/openapi.json", "/docs"))


def _highlighted(snippet: str) -> Markup:
    """The snippet escaped, then its « » match marks as <mark> (a record's text never reaches the page as HTML)."""
    return Markup(str(escape(snippet)).replace("«", "<mark>").replace("»", "</mark>"))


def _local(target: str) -> str:
    """Only a path on this server after a login (never `//elsewhere` or a full URL)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


__all__ = ["create_app"]
