"""Which surfaces this app node serves: the agent API, the operator UI/API, or both.

A large deployment runs agent nodes (many, lean, behind the agents' load balancer) apart from
operator nodes (few, behind the operators' one). `FLEETWEB_SURFACES` picks per node: `agent`,
`operator` or `all` (the default). The URL list stays one list in fleetweb/urls.py; routes under
the agent prefixes are the agent surface and everything else is the operator surface.
"""

from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt

AGENT = "agent"
OPERATOR = "operator"
ALL = frozenset({AGENT, OPERATOR})
# Every path osquery is pointed at (see collector/node_urls.py).
AGENT_PREFIXES = ("api/osquery/", "api/v1/osquery/", "api/v1/distributed/")


def parse_surfaces(value: str) -> frozenset[str]:
    """`agent`, `operator`, `all`, or a comma list of the first two."""
    words = {w.strip().lower() for w in value.split(",") if w.strip()}
    if not words or words == {"all"}:
        return ALL
    unknown = words - ALL
    if unknown:
        raise ImproperlyConfigured(
            f"FLEETWEB_SURFACES={value!r}: unknown surface(s) {', '.join(sorted(unknown))}; use agent, operator or all"
        )
    return frozenset(words)


def is_agent_route(pattern: URLPattern | URLResolver) -> bool:
    return str(pattern.pattern).startswith(AGENT_PREFIXES)


@csrf_exempt
def agent_surface_refused(request: HttpRequest, rest: str = "") -> HttpResponse:
    # osquery reads only the body: a JSON error makes it keep its logs and retry (protocol §1.4),
    # where an HTML 404 would count as a failure to parse and an empty body as success.
    return HttpResponse(
        b'{"error":"this node does not serve the agent API; point agents at an agent node"}',
        status=404,
        content_type="application/json",
    )


def select_urlpatterns(
    patterns: Iterable[URLPattern | URLResolver], surfaces: frozenset[str]
) -> list[URLPattern | URLResolver]:
    chosen = [p for p in patterns if (AGENT if is_agent_route(p) else OPERATOR) in surfaces]
    if AGENT not in surfaces:
        chosen.append(re_path(r"^(?P<rest>api/(?:v1/)?(?:osquery|distributed)/.*)$", agent_surface_refused))
    return chosen
