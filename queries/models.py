from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from hosts.models import Host, Platform

from .validators import MAX_INTERVAL, validate_schedule_name


class Query(models.Model):
    """A named SQL statement, reusable in packs and live queries."""

    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    sql = models.TextField()
    platform = models.CharField(max_length=255, blank=True, help_text="Comma list; empty means all.")
    min_osquery_version = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "queries"

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    class Membership(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic (query)"
        MANUAL = "manual", "Manual"

    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    sql = models.TextField(blank=True, help_text="Dynamic labels: one or more rows means member.")
    platform = models.CharField(max_length=255, blank=True)
    membership = models.CharField(max_length=16, choices=Membership.choices, default=Membership.DYNAMIC)
    # Built-in labels select hosts by the platform recorded at enroll, without a query.
    # "all" selects every host.
    builtin_platform = models.CharField(max_length=16, blank=True, editable=False)
    hosts: "models.ManyToManyField[Host, LabelMembership]" = models.ManyToManyField(
        Host, through="LabelMembership", related_name="labels", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_builtin(self) -> bool:
        return bool(self.builtin_platform)

    def matches_platform(self, platform: str) -> bool:
        return self.builtin_platform == "all" or self.builtin_platform == platform


class LabelMembership(models.Model):
    label = models.ForeignKey(Label, on_delete=models.CASCADE)
    host = models.ForeignKey(Host, on_delete=models.CASCADE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label", "host"], name="unique_label_host")]


class Pack(models.Model):
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    disabled = models.BooleanField(default=False)
    # Agent-side filters, passed through to osquery's pack object.
    platform = models.CharField(max_length=255, blank=True)
    min_osquery_version = models.CharField(max_length=32, blank=True)
    shard = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(100)])
    discovery = models.JSONField(default=list, blank=True, help_text="SQL strings; all must return rows.")
    # Server-side targeting: a host gets the pack when any of these match it.
    target_labels = models.ManyToManyField(Label, blank=True, related_name="packs")
    target_hosts = models.ManyToManyField(Host, blank=True, related_name="packs")
    target_platforms = models.CharField(max_length=255, blank=True, help_text="Comma list of darwin, linux, windows.")
    builtin = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def target_platform_list(self) -> list[str]:
        return [p.strip() for p in self.target_platforms.split(",") if p.strip()]


class ScheduledQuery(models.Model):
    class Logging(models.TextChoices):
        SNAPSHOT = "snapshot", "Snapshot"
        DIFFERENTIAL = "differential", "Differential"
        DIFFERENTIAL_IGNORE_REMOVALS = "differential_ignore_removals", "Differential (ignore removals)"

    pack = models.ForeignKey(Pack, on_delete=models.CASCADE, related_name="scheduled_queries")
    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="scheduled_queries")
    name = models.CharField(
        max_length=255,
        validators=[validate_schedule_name],
        help_text="Name inside the pack; the agent logs pack<delim><pack><delim><name>.",
    )
    description = models.TextField(blank=True)
    interval = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL)]
    )
    logging = models.CharField(max_length=32, choices=Logging.choices, default=Logging.DIFFERENTIAL)
    platform = models.CharField(max_length=255, blank=True)
    min_osquery_version = models.CharField(max_length=32, blank=True)
    shard = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(100)])
    denylist = models.BooleanField(default=True, help_text="Let the watchdog denylist this query.")

    class Meta:
        ordering = ["pack", "name"]
        constraints = [models.UniqueConstraint(fields=["pack", "name"], name="unique_pack_query_name")]

    def __str__(self) -> str:
        return f"{self.pack.name}/{self.name}"


class AgentOptions(models.Model):
    """osquery options and decorators served in every config, with per-platform overrides.

    Stored in Fleet's `agent_options` shape: `config` is the base config object and `overrides`
    is `{"platforms": {"darwin": {...}}}`, where a platform's object replaces `config` whole.
    """

    config = models.JSONField(default=dict, blank=True)
    overrides = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "agent options"

    def __str__(self) -> str:
        return "Agent options"

    @classmethod
    def get_solo(cls) -> "AgentOptions":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    def config_for_platform(self, platform: str) -> dict:
        platforms = (self.overrides or {}).get("platforms") or {}
        return platforms.get(platform) or self.config or {}


class Campaign(models.Model):
    """A live (distributed) query sent to a fixed set of hosts."""

    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        STOPPED = "stopped"
        EXPIRED = "expired"

    sql = models.TextField()
    query = models.ForeignKey(Query, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    target_count = models.PositiveIntegerField(default=0)
    targets_spec = models.JSONField(default=dict, blank=True, help_text="What the operator selected.")
    discovery = models.TextField(blank=True, help_text="Hosts where this returns no rows skip the query.")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Campaign {self.pk}"


class CampaignHost(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        # The host's discovery query filtered the query out, so it will never answer.
        FILTERED = "filtered"
        # The campaign ended (stopped or expired) before the host answered.
        NO_ANSWER = "no_answer"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="hosts")
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="campaign_results")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows = models.JSONField(default=list, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    stats = models.JSONField(default=dict, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "host"], name="unique_campaign_host")]
        indexes = [models.Index(fields=["campaign", "status"])]


class Policy(models.Model):
    """A yes/no check: the host passes when the query returns one or more rows."""

    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    sql = models.TextField()
    resolution = models.TextField(blank=True)
    platform = models.CharField(max_length=255, blank=True, help_text="Comma list; empty means all.")
    critical = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


class PolicyResult(models.Model):
    """A host's latest answer to a policy: passes True/False, or None when the query failed."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="results")
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="policy_results")
    passes = models.BooleanField(null=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "host"], name="unique_policy_host")]
        indexes = [models.Index(fields=["policy", "passes"])]


class CampaignCarve(models.Model):
    """Which live query asked for a carve: the agent's `carves` row links carve GUID and request."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="carves")
    host = models.ForeignKey(Host, on_delete=models.CASCADE)
    carve_guid = models.CharField(max_length=64, unique=True, help_text="The carve_id sent at carve/begin.")
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


__all__ = ["Platform"]
