"""Request and response bodies, in Fleet's field names (../docs/api.md lists the differences).

Output serializers render model rows the way Fleet's JSON does; input serializers validate
request bodies and turn them into model field dicts for the services.
"""

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.roles import Role, user_role
from fleetweb.conf import fleet_setting
from hosts.models import EnrollSecret, Host
from queries.models import Label, Pack, Policy, Query, ScheduledQuery
from queries.sql_check import validate_osquery_sql

User = get_user_model()


class ErrorItemSerializer(serializers.Serializer):
    name = serializers.CharField()
    reason = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    errors = ErrorItemSerializer(many=True)


class MetaSerializer(serializers.Serializer):
    has_next_results = serializers.BooleanField()
    has_previous_results = serializers.BooleanField()


# ---- hosts -----------------------------------------------------------------------------------


class HostSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField(source="enrolled_at")
    last_enrolled_at = serializers.DateTimeField()
    seen_time = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    hostname = serializers.CharField()
    display_name = serializers.SerializerMethodField()
    computer_name = serializers.CharField()
    uuid = serializers.CharField()
    osquery_host_id = serializers.CharField(source="host_identifier")
    platform = serializers.CharField()
    platform_like = serializers.CharField()
    osquery_version = serializers.CharField()
    os_version = serializers.SerializerMethodField()
    build = serializers.CharField(source="os_build")
    hardware_vendor = serializers.CharField()
    hardware_model = serializers.CharField()
    hardware_serial = serializers.CharField()
    primary_ip = serializers.CharField()
    primary_mac = serializers.CharField()
    team_id = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()
    enroll_secret_name = serializers.SerializerMethodField()
    distributed_interval = serializers.SerializerMethodField()
    config_tls_refresh = serializers.SerializerMethodField()
    logger_tls_period = serializers.SerializerMethodField()

    def get_seen_time(self, host: Host) -> str | None:
        seen = self.context.get("seen", {}).get(host.pk, host.last_seen_at)
        return serializers.DateTimeField().to_representation(seen) if seen else None

    def get_status(self, host: Host) -> str:
        return self.context.get("statuses", {}).get(host.pk, "offline")

    def get_display_name(self, host: Host) -> str:
        return host.computer_name or host.hostname

    def get_os_version(self, host: Host) -> str:
        return f"{host.os_name} {host.os_version}".strip()

    def get_team_id(self, host: Host) -> int | None:
        return None

    def get_team_name(self, host: Host) -> str | None:
        return None

    def get_enroll_secret_name(self, host: Host) -> str | None:
        return host.enroll_secret.name if host.enroll_secret_id and host.enroll_secret else None

    # The intervals fleetweb serves in generated flags files.
    def get_distributed_interval(self, host: Host) -> int:
        return int(fleet_setting("AGENT_DISTRIBUTED_INTERVAL"))

    def get_config_tls_refresh(self, host: Host) -> int:
        return int(fleet_setting("AGENT_CONFIG_REFRESH"))

    def get_logger_tls_period(self, host: Host) -> int:
        return int(fleet_setting("AGENT_LOGGER_TLS_PERIOD"))


class HostLabelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    query = serializers.CharField(source="sql")
    label_type = serializers.SerializerMethodField()
    label_membership_type = serializers.CharField(source="membership")

    def get_label_type(self, label: Label) -> str:
        return "builtin" if label.is_builtin else "regular"


class HostPackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    disabled = serializers.BooleanField()


class HostPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField(source="sql")
    description = serializers.CharField()
    resolution = serializers.CharField()
    platform = serializers.CharField()
    critical = serializers.BooleanField()
    response = serializers.CharField(help_text='"pass", "fail" or "" when the host has not answered yet')


class HostDetailSerializer(HostSerializer):
    labels = HostLabelSerializer(many=True, source="detail_labels")
    packs = HostPackSerializer(many=True, source="detail_packs")
    policies = HostPolicySerializer(many=True, source="detail_policies")


# ---- queries ---------------------------------------------------------------------------------


class QuerySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    query = serializers.CharField(source="sql")
    platform = serializers.CharField()
    min_osquery_version = serializers.CharField()
    team_id = serializers.SerializerMethodField()
    interval = serializers.SerializerMethodField()
    logging = serializers.SerializerMethodField()
    observer_can_run = serializers.SerializerMethodField()
    automations_enabled = serializers.SerializerMethodField()
    discard_data = serializers.SerializerMethodField()
    saved = serializers.SerializerMethodField()
    packs = HostPackSerializer(many=True, source="pack_list")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_team_id(self, obj: Query) -> int | None:
        return None

    def get_interval(self, obj: Query) -> int:
        return 0

    def get_logging(self, obj: Query) -> str:
        return "snapshot"

    def get_observer_can_run(self, obj: Query) -> bool:
        return False

    def get_automations_enabled(self, obj: Query) -> bool:
        return False

    def get_discard_data(self, obj: Query) -> bool:
        return True

    def get_saved(self, obj: Query) -> bool:
        return True


def _optional_sql(value: str) -> None:
    if value.strip():
        validate_osquery_sql(value)


class QueryInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    # Compiled against the osquery table reference, as the admin and the UI do.
    query = serializers.CharField(validators=[validate_osquery_sql])
    description = serializers.CharField(required=False, allow_blank=True)
    platform = serializers.CharField(required=False, allow_blank=True, max_length=255)
    min_osquery_version = serializers.CharField(required=False, allow_blank=True, max_length=32)
    # Accepted so Fleet scripts keep working; see docs/api.md for why they have no effect here.
    observer_can_run = serializers.BooleanField(required=False)
    interval = serializers.IntegerField(required=False, min_value=0)
    logging = serializers.ChoiceField(
        required=False, choices=["snapshot", "differential", "differential_ignore_removals"]
    )
    automations_enabled = serializers.BooleanField(required=False)
    discard_data = serializers.BooleanField(required=False)
    team_id = serializers.IntegerField(required=False, allow_null=True)

    def validate_team_id(self, value: int | None) -> int | None:
        if value:
            raise serializers.ValidationError("teams are not supported; omit team_id or send null")
        return value

    def validate_query(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("query SQL must not be empty")
        return value

    def fields_for_model(self) -> dict[str, Any]:
        mapping = {"name": "name", "query": "sql", "description": "description", "platform": "platform"}
        mapping["min_osquery_version"] = "min_osquery_version"
        return {model: self.validated_data[api] for api, model in mapping.items() if api in self.validated_data}


# ---- packs -----------------------------------------------------------------------------------


class PackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    platform = serializers.CharField()
    disabled = serializers.BooleanField()
    type = serializers.SerializerMethodField()
    query_count = serializers.SerializerMethodField()
    total_hosts_count = serializers.SerializerMethodField()
    label_ids = serializers.SerializerMethodField()
    host_ids = serializers.SerializerMethodField()
    team_ids = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_type(self, pack: Pack) -> str | None:
        return "global" if pack.builtin else None

    def get_query_count(self, pack: Pack) -> int:
        return pack.scheduled_queries.count()

    def get_total_hosts_count(self, pack: Pack) -> int:
        hosts = Host.objects.filter(packs=pack) | Host.objects.filter(labels__in=pack.target_labels.all())
        platforms = pack.target_platform_list
        if platforms:
            hosts = hosts | Host.objects.filter(platform__in=platforms)
        return hosts.distinct().count()

    def get_label_ids(self, pack: Pack) -> list[int]:
        return sorted(pack.target_labels.values_list("id", flat=True))

    def get_host_ids(self, pack: Pack) -> list[int]:
        return sorted(pack.target_hosts.values_list("id", flat=True))

    def get_team_ids(self, pack: Pack) -> list[int]:
        return []


class PackInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    platform = serializers.CharField(required=False, allow_blank=True, max_length=255)
    disabled = serializers.BooleanField(required=False)
    label_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    host_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    team_ids = serializers.ListField(child=serializers.IntegerField(), required=False)

    def validate_team_ids(self, value: list[int]) -> list[int]:
        if value:
            raise serializers.ValidationError("teams are not supported; send an empty list")
        return value

    def validate_label_ids(self, value: list[int]) -> list[int]:
        known = set(Label.objects.filter(pk__in=value).values_list("pk", flat=True))
        missing = sorted(set(value) - known)
        if missing:
            raise serializers.ValidationError(f"unknown label id(s): {', '.join(map(str, missing))}")
        return value

    def validate_host_ids(self, value: list[int]) -> list[int]:
        known = set(Host.objects.filter(pk__in=value).values_list("pk", flat=True))
        missing = sorted(set(value) - known)
        if missing:
            raise serializers.ValidationError(f"unknown host id(s): {', '.join(map(str, missing))}")
        return value

    def fields_for_model(self) -> dict[str, Any]:
        return {k: v for k, v in self.validated_data.items() if k in ("name", "description", "platform", "disabled")}


class ScheduledQuerySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pack_id = serializers.IntegerField()
    name = serializers.CharField()
    query_id = serializers.IntegerField()
    query_name = serializers.CharField(source="query.name")
    query = serializers.CharField(source="query.sql")
    description = serializers.CharField()
    interval = serializers.IntegerField()
    snapshot = serializers.SerializerMethodField()
    removed = serializers.SerializerMethodField()
    platform = serializers.CharField()
    version = serializers.CharField(source="min_osquery_version")
    shard = serializers.IntegerField(allow_null=True)
    denylist = serializers.BooleanField()

    def get_snapshot(self, obj: ScheduledQuery) -> bool:
        return obj.logging == ScheduledQuery.Logging.SNAPSHOT

    def get_removed(self, obj: ScheduledQuery) -> bool:
        return obj.logging == ScheduledQuery.Logging.DIFFERENTIAL


class ScheduledQueryInSerializer(serializers.Serializer):
    pack_id = serializers.IntegerField(min_value=1, required=False)
    query_id = serializers.IntegerField(min_value=1, required=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    interval = serializers.IntegerField(required=False, min_value=1)
    snapshot = serializers.BooleanField(required=False, allow_null=True)
    removed = serializers.BooleanField(required=False, allow_null=True)
    platform = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=255)
    version = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=32)
    shard = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)
    denylist = serializers.BooleanField(required=False, allow_null=True)

    def fields_for_model(self, current: ScheduledQuery | None = None) -> dict[str, Any]:
        data = self.validated_data
        out: dict[str, Any] = {}
        if "pack_id" in data:
            pack = Pack.objects.filter(pk=data["pack_id"]).first()
            if pack is None:
                raise serializers.ValidationError({"pack_id": f"no pack with id {data['pack_id']}"})
            out["pack"] = pack
        if "query_id" in data:
            query = Query.objects.filter(pk=data["query_id"]).first()
            if query is None:
                raise serializers.ValidationError({"query_id": f"no query with id {data['query_id']}"})
            out["query"] = query
        for api, model in (("name", "name"), ("description", "description"), ("interval", "interval")):
            if api in data:
                out[model] = data[api]
        for api, model in (("platform", "platform"), ("version", "min_osquery_version")):
            if api in data:
                out[model] = data[api] or ""
        if "shard" in data:
            out["shard"] = data["shard"]
        if data.get("denylist") is not None:
            out["denylist"] = data["denylist"]
        if "snapshot" in data or "removed" in data:
            snapshot = data.get("snapshot")
            removed = data.get("removed")
            if current is not None:
                snapshot = current.logging == ScheduledQuery.Logging.SNAPSHOT if snapshot is None else snapshot
                if removed is None:
                    removed = current.logging != ScheduledQuery.Logging.DIFFERENTIAL_IGNORE_REMOVALS
            out["logging"] = logging_from_flags(snapshot, removed)
        return out


def logging_from_flags(snapshot: bool | None, removed: bool | None) -> str:
    """osquery's snapshot/removed flags -> the logging mode fleetweb stores."""
    if snapshot:
        return ScheduledQuery.Logging.SNAPSHOT
    if removed is False:
        return ScheduledQuery.Logging.DIFFERENTIAL_IGNORE_REMOVALS
    return ScheduledQuery.Logging.DIFFERENTIAL


# ---- labels ----------------------------------------------------------------------------------


class LabelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    query = serializers.CharField(source="sql")
    platform = serializers.CharField()
    label_type = serializers.SerializerMethodField()
    label_membership_type = serializers.CharField(source="membership")
    display_text = serializers.CharField(source="name")
    count = serializers.SerializerMethodField()
    host_count = serializers.SerializerMethodField()
    host_ids = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_label_type(self, label: Label) -> str:
        return "builtin" if label.is_builtin else "regular"

    def get_count(self, label: Label) -> int:
        return label_host_count(label)

    def get_host_count(self, label: Label) -> int:
        return label_host_count(label)

    def get_host_ids(self, label: Label) -> list[int] | None:
        if label.membership != Label.Membership.MANUAL:
            return None
        return sorted(label.hosts.values_list("id", flat=True))


def label_hosts(label: Label) -> Any:
    """The hosts in a label: built-in labels select by platform, others by membership rows."""
    if label.builtin_platform == "all":
        return Host.objects.all()
    if label.builtin_platform:
        return Host.objects.filter(platform=label.builtin_platform)
    return Host.objects.filter(labels=label)


def label_host_count(label: Label) -> int:
    return label_hosts(label).count()


class LabelInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    query = serializers.CharField(required=False, allow_blank=True, validators=[_optional_sql])
    platform = serializers.CharField(required=False, allow_blank=True, max_length=255)
    label_membership_type = serializers.ChoiceField(choices=["dynamic", "manual"], required=False)
    hosts = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    host_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        membership = attrs.get("label_membership_type")
        has_hosts = attrs.get("hosts") is not None or attrs.get("host_ids") is not None
        if membership is None and self.instance is None:
            membership = "manual" if has_hosts and not attrs.get("query") else "dynamic"
            attrs["label_membership_type"] = membership
        if membership == "dynamic" and has_hosts:
            raise serializers.ValidationError({"hosts": "only manual labels take a host list"})
        if membership == "dynamic" and not (attrs.get("query") or "").strip():
            raise serializers.ValidationError({"query": "a dynamic label needs a query"})
        if membership == "manual" and (attrs.get("query") or "").strip():
            raise serializers.ValidationError({"query": "a manual label has no query"})
        return attrs

    def host_id_list(self) -> list[int] | None:
        data = self.validated_data
        if data.get("host_ids") is not None:
            ids = list(data["host_ids"])
            missing = sorted(set(ids) - set(Host.objects.filter(pk__in=ids).values_list("pk", flat=True)))
            if missing:
                raise serializers.ValidationError({"host_ids": f"unknown host id(s): {missing}"})
            return ids
        if data.get("hosts") is not None:
            ids = []
            for identifier in data["hosts"]:
                host = host_by_identifier(identifier)
                if host is None:
                    raise serializers.ValidationError({"hosts": f"no host with identifier {identifier!r}"})
                ids.append(host.pk)
            return ids
        return None

    def fields_for_model(self) -> dict[str, Any]:
        data = self.validated_data
        out = {k: data[k] for k in ("name", "description", "platform") if k in data}
        if "query" in data:
            out["sql"] = data["query"]
        if "label_membership_type" in data:
            out["membership"] = data["label_membership_type"]
        return out


def host_by_identifier(identifier: str) -> Host | None:
    """Fleet's host identifier lookup: hostname, UUID, serial, osquery host id, then node key."""
    from hosts.models import hash_token

    if not identifier:
        return None
    for field in ("hostname", "uuid", "hardware_serial", "host_identifier"):
        host = Host.objects.filter(**{field: identifier}).order_by("id").first()
        if host is not None:
            return host
    return Host.objects.filter(node_key_hash=hash_token(identifier)).first()


# ---- policies --------------------------------------------------------------------------------


class PolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField(source="sql")
    description = serializers.CharField()
    resolution = serializers.CharField()
    platform = serializers.CharField()
    critical = serializers.BooleanField()
    team_id = serializers.SerializerMethodField()
    author_id = serializers.SerializerMethodField()
    author_name = serializers.SerializerMethodField()
    author_email = serializers.SerializerMethodField()
    passing_host_count = serializers.SerializerMethodField()
    failing_host_count = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_team_id(self, obj: Policy) -> int | None:
        return None

    def get_author_id(self, obj: Policy) -> int | None:
        return None

    def get_author_name(self, obj: Policy) -> str:
        return ""

    def get_author_email(self, obj: Policy) -> str:
        return ""

    def get_passing_host_count(self, obj: Policy) -> int:
        return self.context.get("policy_counts", {}).get(obj.pk, (0, 0))[0]

    def get_failing_host_count(self, obj: Policy) -> int:
        return self.context.get("policy_counts", {}).get(obj.pk, (0, 0))[1]


class PolicyInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    query = serializers.CharField(required=False, validators=[validate_osquery_sql])
    query_id = serializers.IntegerField(required=False, min_value=1)
    description = serializers.CharField(required=False, allow_blank=True)
    resolution = serializers.CharField(required=False, allow_blank=True)
    platform = serializers.CharField(required=False, allow_blank=True, max_length=255)
    critical = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "query_id" in attrs:
            query = Query.objects.filter(pk=attrs["query_id"]).first()
            if query is None:
                raise serializers.ValidationError({"query_id": f"no query with id {attrs['query_id']}"})
            attrs.setdefault("query", query.sql)
        if self.instance is None and not (attrs.get("query") or "").strip():
            raise serializers.ValidationError({"query": "a policy needs a query (or query_id)"})
        if "query" in attrs and not attrs["query"].strip():
            raise serializers.ValidationError({"query": "query SQL must not be empty"})
        return attrs

    def fields_for_model(self) -> dict[str, Any]:
        data = self.validated_data
        out = {k: data[k] for k in ("name", "description", "resolution", "platform", "critical") if k in data}
        if "query" in data:
            out["sql"] = data["query"]
        return out


# ---- users -----------------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    email = serializers.EmailField()
    global_role = serializers.SerializerMethodField()
    api_only = serializers.SerializerMethodField()
    sso_enabled = serializers.SerializerMethodField()
    force_password_reset = serializers.SerializerMethodField()
    gravatar_url = serializers.SerializerMethodField()
    teams = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="date_joined")
    updated_at = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return user.get_full_name() or user.get_username()

    def get_global_role(self, user: Any) -> str | None:
        role = user_role(user)
        return role.value if role else None

    def get_api_only(self, user: Any) -> bool:
        profile = getattr(user, "fleet_profile", None)
        return bool(profile and profile.api_only)

    def get_sso_enabled(self, user: Any) -> bool:
        return False

    def get_force_password_reset(self, user: Any) -> bool:
        return False

    def get_gravatar_url(self, user: Any) -> str:
        return ""

    def get_teams(self, user: Any) -> list[dict[str, Any]]:
        return []

    def get_updated_at(self, user: Any) -> str | None:
        stamp = user.last_login or user.date_joined
        return serializers.DateTimeField().to_representation(stamp)


class UserInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=150)
    password = serializers.CharField(write_only=True, required=False, min_length=8, max_length=128)
    new_password = serializers.CharField(write_only=True, required=False, min_length=8, max_length=128)
    global_role = serializers.ChoiceField(choices=[r.value for r in Role], required=False)
    api_only = serializers.BooleanField(required=False)
    teams = serializers.ListField(child=serializers.DictField(), required=False)

    def validate_teams(self, value: list[Any]) -> list[Any]:
        if value:
            raise serializers.ValidationError("teams are not supported; use global_role")
        return value


class LoginInSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


# ---- enroll secrets --------------------------------------------------------------------------


class EnrollSecretSerializer(serializers.Serializer):
    secret = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    team_id = serializers.SerializerMethodField()

    def get_team_id(self, obj: EnrollSecret) -> int | None:
        return None


class EnrollSecretInItem(serializers.Serializer):
    secret = serializers.CharField(min_length=8, max_length=255)
    name = serializers.CharField(required=False, max_length=255)


class EnrollSecretSpecIn(serializers.Serializer):
    secrets = EnrollSecretInItem(many=True)

    def validate_secrets(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = [item["secret"] for item in value]
        if len(seen) != len(set(seen)):
            raise serializers.ValidationError("the same secret is listed twice")
        return value


class EnrollSecretSpecBody(serializers.Serializer):
    spec = EnrollSecretSpecIn()
    dry_run = serializers.BooleanField(required=False, default=False)


# ---- activities ------------------------------------------------------------------------------


class ActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor_full_name = serializers.CharField(source="actor_name")
    actor_id = serializers.IntegerField(allow_null=True)
    actor_email = serializers.SerializerMethodField()
    actor_gravatar = serializers.SerializerMethodField()
    type = serializers.CharField(source="action")
    details = serializers.JSONField()

    def get_actor_email(self, obj: Any) -> str | None:
        return obj.actor.email if obj.actor_id and obj.actor else None

    def get_actor_gravatar(self, obj: Any) -> str:
        return ""
