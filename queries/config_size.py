"""Refuse content that would make some host's config too big for osquery to load.

osquery drops the whole remote schedule when a config is over its size limit (protocol doc §3.2),
so the check runs before content is committed. The worst case is a host that every enabled pack
reaches, with the largest per-platform agent options.
"""

from typing import Any

import orjson
from django.core.exceptions import ValidationError

from fleetweb.conf import fleet_setting

from .agent_config import pack_object
from .agent_options import DEFAULT_AGENT_OPTIONS, KNOWN_PLATFORMS
from .models import AgentOptions, Pack


def config_worst_case_bytes() -> int:
    options = AgentOptions.objects.filter(pk=1).first()
    candidates: list[dict[str, Any]] = [DEFAULT_AGENT_OPTIONS]
    if options is not None:
        candidates += [options.config_for_platform(platform) or {} for platform in sorted(KNOWN_PLATFORMS)]
    packs = {
        pack.name: pack_object(pack)
        for pack in Pack.objects.filter(disabled=False).prefetch_related("scheduled_queries__query")
    }
    # Rendered the way queries.agent_config.config_render builds a body.
    bodies = [{**config, "packs": packs} if packs else config for config in candidates]
    return max(len(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)) for body in bodies)


def config_size_check() -> None:
    """Raise ValidationError when the worst-case config is over settings.FLEET CONFIG_MAX_BYTES."""
    limit = fleet_setting("CONFIG_MAX_BYTES")
    size = config_worst_case_bytes()
    if size > limit:
        raise ValidationError(
            f"a host reached by every enabled pack would get a {size}-byte config, over the {limit}-byte limit "
            "osquery accepts (it would drop its whole schedule); disable or shrink packs"
        )
