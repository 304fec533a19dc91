"""HTTP API for live queries, host refetch and status, carve downloads, policy and query-cost reports.

Results stream as Server-Sent Events (`text/event-stream`): plain HTTP that proxies and load
balancers pass through, unlike websockets. Each result's event id is its position in the
campaign, so a browser that reconnects (sending `Last-Event-ID`) or a late subscriber (`?offset=0`)
sees every result exactly once. `results/` is the same feed as long-polled JSON for clients
without SSE. All the logic is in queries.live; these views only parse, authorise and format.
"""

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import orjson
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import can_manage_queries, can_read, can_run_live_queries
from collector.models import CarveSession
from collector.services.carves import carve_chunks, carve_downloadable
from fleetweb.conf import fleet_setting
from hosts.inventory.services import host_config_applied, host_refetch, query_performance
from hosts.models import Host
from hosts.status import host_is_new, host_status

from . import live
from .models import Campaign, Policy, Query
from .policies import policy_counts, policy_failing_hosts
from .targets import hosts_by_identifiers

STREAM_HEARTBEAT_SECONDS = 15.0
MAX_LONG_POLL_SECONDS = 30.0


class EventStreamRenderer(BaseRenderer):
    """Lets content negotiation accept `Accept: text/event-stream`; the view streams itself."""

    media_type = "text/event-stream"
    format = "sse"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return orjson.dumps(data)


def _error(message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"error": message}, status=code)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("your role does not allow this")


def _campaign_for(request: Request, campaign_id: int) -> Campaign:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    _require(can_read(request.user))
    # Results can hold sensitive data: only the launcher and query managers see them.
    if campaign.created_by_id != request.user.pk and not can_manage_queries(request.user):
        raise PermissionDenied("only the user who ran this live query can read its results")
    return campaign


def _int_param(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ValueError(f"{name} must be a non-negative integer")
    return int(value)


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "sql": campaign.sql,
        "discovery": campaign.discovery,
        "created_at": campaign.created_at.isoformat(),
        "expires_at": campaign.expires_at.isoformat(),
        "target_count": campaign.target_count,
        "targets": campaign.targets_spec,
        "progress": live.campaign_progress(campaign),
    }


class CampaignListView(APIView):
    def post(self, request: Request) -> Response:
        _require(can_run_live_queries(request.user))
        data = request.data if isinstance(request.data, dict) else {}
        sql = data.get("sql", "")
        if data.get("query_id") is not None:
            query = Query.objects.filter(pk=data["query_id"]).first() if str(data["query_id"]).isdigit() else None
            if query is None:
                return _error(f"unknown query_id {data['query_id']!r}")
            sql = query.sql
        if not isinstance(sql, str):
            return _error("sql must be a string")
        discovery = data.get("discovery", "")
        if not isinstance(discovery, str):
            return _error("discovery must be a string")
        try:
            ttl = _int_param(data.get("ttl"), "ttl", 0) or None
            campaign = live.campaign_launch(
                sql=sql, targets=data.get("targets", {}), user=request.user, ttl=ttl, discovery=discovery
            )
        except ValueError as exc:
            return _error(str(exc))
        return Response(campaign_json(campaign), status=status.HTTP_201_CREATED)


class CampaignDetailView(APIView):
    def get(self, request: Request, campaign_id: int) -> Response:
        return Response(campaign_json(_campaign_for(request, campaign_id)))


class CampaignStopView(APIView):
    def post(self, request: Request, campaign_id: int) -> Response:
        campaign = _campaign_for(request, campaign_id)
        _require(can_run_live_queries(request.user))
        stopped = live.campaign_stop(campaign, user=request.user)
        return Response({"stopped": stopped, "progress": live.campaign_progress(campaign)})


class CampaignResultsView(APIView):
    """Long-poll: results after `offset`, waiting up to `wait` seconds for the first new one."""

    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = _campaign_for(request, campaign_id)
        try:
            offset = _int_param(request.query_params.get("offset"), "offset", 0)
            wait = min(_int_param(request.query_params.get("wait"), "wait", 0), MAX_LONG_POLL_SECONDS)
        except ValueError as exc:
            return _error(str(exc))
        results, _ = live.campaign_wait(campaign, offset, wait)
        progress = live.campaign_progress(campaign)
        return Response(
            {
                "results": results,
                "offset": offset,
                "next_offset": offset + len(results),
                "progress": progress,
                "done": progress["status"] != Campaign.Status.RUNNING,
            }
        )


def _sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"


def campaign_event_stream(campaign: Campaign, offset: int) -> Iterator[bytes]:
    """results, progress whenever it changes, and a final `end` once the campaign ended and every
    result was sent. Comments keep idle connections alive through proxies."""
    yield b"retry: 2000\n\n"
    last_progress = live.campaign_progress(campaign)
    yield _sse("progress", last_progress)
    # A stream holds a server thread; close it after a while and let the client resume from its
    # Last-Event-ID, so idle viewers cannot starve the agents' requests.
    close_at = time.monotonic() + fleet_setting("LIVE_QUERY_STREAM_MAX_SECONDS")
    while time.monotonic() < close_at:
        results, state = live.campaign_wait(campaign, offset, STREAM_HEARTBEAT_SECONDS)
        for result in results:
            offset += 1
            yield _sse("result", result, offset)
        progress = live.campaign_progress(campaign)
        if progress != last_progress:
            last_progress = progress
            yield _sse("progress", progress)
        elif not results:
            yield b": keepalive\n\n"
        if state != Campaign.Status.RUNNING and not live.campaign_results_since(campaign, offset):
            yield _sse("end", {"status": state, "results": offset})
            return


class CampaignStreamView(APIView):
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    def get(self, request: Request, campaign_id: int) -> HttpResponseBase:
        campaign = _campaign_for(request, campaign_id)
        try:
            offset = _int_param(request.headers.get("Last-Event-ID") or request.query_params.get("offset"), "offset", 0)
        except ValueError as exc:
            return _error(str(exc))
        response = StreamingHttpResponse(campaign_event_stream(campaign, offset), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold events back
        return response


# What makes a spreadsheet read a cell as a formula: these characters first (also after leading
# whitespace, which spreadsheets skip), their full-width forms, or a leading tab or line break.
_FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _csv_cell(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    # Agent data opened in a spreadsheet must not run as a formula.
    if text.startswith(("\t", "\r", "\n")) or text.lstrip(" \t\r\n").startswith(_FORMULA_START):
        return "'" + text
    return text


class CampaignExportView(APIView):
    def get(self, request: Request, campaign_id: int, fmt: str) -> HttpResponse:
        campaign = _campaign_for(request, campaign_id)
        results = live.campaign_results_since(campaign, 0)
        if fmt == "json":
            body = orjson.dumps({"campaign": campaign_json(campaign), "results": results})
            response = HttpResponse(body, content_type="application/json")
        elif fmt == "csv":
            columns: dict[str, None] = {}
            for result in results:
                for row in result["rows"]:
                    columns.update(dict.fromkeys(row))
            out = io.StringIO()
            writer = csv.writer(out)
            # Column names come from the agent's rows too.
            writer.writerow(["host_id", "hostname", "status", "error", *(_csv_cell(c) for c in columns)])
            for result in results:
                head = [result["host_id"], _csv_cell(result["hostname"]), result["status"], _csv_cell(result["error"])]
                for row in result["rows"] or [{}]:
                    writer.writerow([*head, *(_csv_cell(row.get(c, "")) for c in columns)])
            response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        else:
            return _error("format must be csv or json")
        response["Content-Disposition"] = f'attachment; filename="live-query-{campaign.pk}.{fmt}"'
        return response


class CampaignCarvesView(APIView):
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = _campaign_for(request, campaign_id)
        links = live.campaign_carves(campaign)
        sessions = {s.carve_id: s for s in CarveSession.objects.filter(carve_id__in=[c.carve_guid for c in links])}
        carves = []
        for link in links:
            session = sessions.get(link.carve_guid)
            carves.append(
                {
                    "host_id": link.host_id,
                    "carve_guid": link.carve_guid,
                    "request_id": link.request_id,
                    "carve_session_id": session.pk if session else None,
                    "sha256": session.sha256 if session else "",
                    "size": session.carve_size if session else None,
                    "complete": bool(session and session.completed_at and not session.error),
                    "error": session.error if session else "",
                }
            )
        return Response({"carves": carves})


def _host_by(host_id: int | None, identifier: str | None) -> Host:
    if host_id is not None:
        return get_object_or_404(Host, pk=host_id)
    ids, _ = hosts_by_identifiers([identifier or ""])
    if not ids:
        raise Http404("no host has this hostname, UUID, serial or identifier")
    return Host.objects.get(pk=min(ids))


class HostQueryView(APIView):
    """Run a query on one host and wait for its answer (bounded by LIVE_QUERY_SYNC_TIMEOUT)."""

    def post(self, request: Request, host_id: int | None = None, identifier: str | None = None) -> Response:
        _require(can_run_live_queries(request.user))
        host = _host_by(host_id, identifier)
        data = request.data if isinstance(request.data, dict) else {}
        sql = data.get("query", data.get("sql", ""))
        if not isinstance(sql, str) or not sql.strip():
            return _error("query must be a non-empty SQL string")
        try:
            timeout = data.get("timeout")
            limit = fleet_setting("LIVE_QUERY_SYNC_MAX_TIMEOUT")
            if timeout is not None and (
                isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= limit
            ):
                raise ValueError(f"timeout must be a number of seconds between 0 and {limit}")
            reply = live.host_query_sync(host=host, sql=sql, timeout=timeout, user=request.user)
        except ValueError as exc:
            return _error(str(exc))
        return Response(reply)


class HostRefetchView(APIView):
    def post(self, request: Request, host_id: int) -> Response:
        _require(can_run_live_queries(request.user))
        host = get_object_or_404(Host, pk=host_id)
        host_refetch(host=host)
        return Response({"host_id": host.pk, "refetch_requested": True}, status=status.HTTP_202_ACCEPTED)


class HostStatusView(APIView):
    def get(self, request: Request, host_id: int) -> Response:
        _require(can_read(request.user))
        host = get_object_or_404(Host, pk=host_id)
        now = timezone.now()
        return Response(
            {
                "host_id": host.pk,
                "status": host_status(host, now).value,
                "new": host_is_new(host, now),
                "config_applied": host_config_applied(host),
            }
        )


class CarveDownloadView(APIView):
    def get(self, request: Request, carve_id: int) -> HttpResponseBase:
        _require(can_run_live_queries(request.user))
        session = get_object_or_404(CarveSession, pk=carve_id)
        problem = carve_downloadable(session)
        if problem:
            return _error(problem, status.HTTP_409_CONFLICT)
        response = StreamingHttpResponse(carve_chunks(session), content_type="application/x-tar")
        response["Content-Length"] = str(session.carve_size)
        response["Digest"] = f"sha-256={session.sha256}"
        response["X-Carve-SHA256"] = session.sha256
        response["Content-Disposition"] = f'attachment; filename="carve-{session.pk}.tar"'
        return response


class PolicyReportView(APIView):
    """Pass/fail/unknown counts for a policy and the hosts failing it."""

    def get(self, request: Request, policy_id: int) -> Response:
        _require(can_read(request.user))
        policy = get_object_or_404(Policy, pk=policy_id)
        failing = [{"host_id": h.pk, "hostname": h.hostname} for h in policy_failing_hosts(policy)]
        return Response(
            {"policy": {"id": policy.pk, "name": policy.name}, **policy_counts(policy), "failing_hosts": failing}
        )


class QueryPerformanceView(APIView):
    """Scheduled queries by cost across hosts, the ones the watchdog denylists first."""

    def get(self, request: Request) -> Response:
        _require(can_read(request.user))
        return Response({"queries": query_performance()})
