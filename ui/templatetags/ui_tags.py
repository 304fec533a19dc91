from datetime import datetime
from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (pagination, sorting, filters)."""
    params: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + params.urlencode()


@register.simple_tag
def status_badge(status: Any, new: bool = False) -> SafeString:
    badge = format_html('<span class="badge status-{}">{}</span>', status, status)
    return format_html('{} <span class="badge warn">new</span>', badge) if new else badge


@register.filter
def filesize(value: Any) -> str:
    try:
        size = float(value)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@register.simple_tag
def yesno_badge(value: Any, good: str = "yes", bad: str = "no") -> SafeString:
    """Posture flags: green when on, red when off, grey when the host did not report it."""
    if value is None or value == "":  # "" is what the template passes for a missing details row
        return format_html('<span class="badge">{}</span>', "unknown")
    return format_html('<span class="badge {}">{}</span>', "ok" if value else "bad", good if value else bad)


@register.simple_tag
def bar_chart(series: list[tuple[datetime, int]], title: str, label_format: str = "%H:%M") -> SafeString:
    """An inline SVG bar chart of (time, value) pairs, with the title and value in each bar's
    tooltip. Inline SVG needs no script, so it works under a strict CSP."""
    width, height, pad = 600, 140, 20
    peak = max((value for _, value in series), default=0) or 1
    step = (width - pad) / max(len(series), 1)
    bars = []
    for index, (when, value) in enumerate(series):
        bar_height = (height - pad) * value / peak
        bars.append(
            (
                f"{pad + index * step:.1f}",
                f"{height - pad - bar_height:.1f}",
                f"{max(step - 1, 1):.1f}",
                f"{bar_height:.1f}",
                when.strftime(label_format),
                value,
            )
        )
    rects = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar"><title>{}: {}</title></rect>',
        bars,
    )
    first = series[0][0].strftime(label_format) if series else ""
    last = series[-1][0].strftime(label_format) if series else ""
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}">'
        '<text x="0" y="12" class="axis">{peak}</text>'
        '<line x1="{pad}" y1="{base}" x2="{w}" y2="{base}" class="axis-line"/>'
        "{rects}"
        '<text x="{pad}" y="{h}" class="axis">{first}</text>'
        '<text x="{w}" y="{h}" class="axis" text-anchor="end">{last}</text>'
        "</svg>",
        w=width,
        h=height,
        pad=pad,
        base=height - pad,
        title=title,
        peak=peak,
        rects=rects,
        first=first,
        last=last,
    )
