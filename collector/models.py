from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from fleetweb.conf import fleet_setting
from hosts.models import Host


class LogBatch(models.Model):
    """One logger POST, stored as received before the agent is told it was accepted.

    `payload` is the zlib-compressed JSON array of the request's `data` lines. Keeping the batch
    whole makes intake one INSERT whatever the number of lines; forwarding and reports parse it
    later in Celery.
    """

    class LogType(models.TextChoices):
        RESULT = "result"
        STATUS = "status"

    # No cascade: deleting a host must not delete logs it already sent.
    host = models.ForeignKey(Host, null=True, on_delete=models.SET_NULL, db_constraint=False)
    host_identifier = models.CharField(max_length=255)
    log_type = models.CharField(max_length=8, choices=LogType.choices)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    line_count = models.PositiveIntegerField()
    payload = models.BinaryField()
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name_plural = "log batches"


class CarveSession(models.Model):
    host = models.ForeignKey(Host, null=True, on_delete=models.SET_NULL)
    session_id = models.CharField(max_length=64, unique=True)
    carve_id = models.CharField(max_length=64, db_index=True)
    request_id = models.CharField(max_length=64, db_index=True)
    block_count = models.PositiveIntegerField()
    block_size = models.PositiveIntegerField()
    carve_size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Carve {self.carve_id}"


class CarveBlock(models.Model):
    session = models.ForeignKey(CarveSession, on_delete=models.CASCADE, related_name="blocks")
    block_id = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "block_id"], name="unique_carve_block")]


def _check_file_destination_path(path: str) -> None:
    """File destinations write as the server's user: keep them inside the directories the
    operator allowed (FLEET FILE_DESTINATION_DIRS), never over /etc/passwd and friends."""
    allowed = [Path(d).resolve() for d in fleet_setting("FILE_DESTINATION_DIRS")]
    target = Path(path or "").expanduser()
    resolved = target.resolve() if target.is_absolute() else None
    if resolved is None or not any(resolved.is_relative_to(d) for d in allowed):
        raise ValidationError({"file_path": f"must be an absolute path inside {', '.join(str(d) for d in allowed)}"})


class Destination(models.Model):
    """A SIEM or file that receives the forwarded events. Several can be active at once; each has
    its own outbox, backoff and throttle, so one that is down never delays the others."""

    def clean(self) -> None:
        super().clean()
        if self.kind == self.Kind.FILE:
            _check_file_destination_path(self.file_path)

    class Kind(models.TextChoices):
        HTTP = "http", "HTTP NDJSON (file.d, Vector, Logstash)"
        SPLUNK_HEC = "splunk_hec", "Splunk HEC"
        ELASTICSEARCH = "elasticsearch", "Elasticsearch _bulk"
        SYSLOG = "syslog", "Syslog RFC 5424"
        FILE = "file", "Local JSON-lines file"

    class Auth(models.TextChoices):
        NONE = "none", "None"
        BASIC = "basic", "Basic (username + password)"
        BEARER = "bearer", "Bearer token"

    class Shape(models.TextChoices):
        ROWS = "rows", "One event per row"
        RAW = "raw", "The raw log line"

    class SyslogTransport(models.TextChoices):
        UDP = "udp", "UDP"
        TCP = "tcp", "TCP (octet counting)"
        TLS = "tls", "TLS (octet counting)"

    class ThrottleKey(models.TextChoices):
        NONE = "", "One limit for the destination"
        HOST = "host", "Per host"
        QUERY = "query", "Per query name"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    enabled = models.BooleanField(default=True)

    # Where to send. URL for HTTP kinds; host:port for syslog; a path for files.
    url = models.CharField(max_length=500, blank=True, help_text="HTTP(S) URL of the receiver.")
    syslog_host = models.CharField(max_length=255, blank=True)
    syslog_port = models.PositiveIntegerField(null=True, blank=True)
    syslog_transport = models.CharField(max_length=3, choices=SyslogTransport.choices, default="tcp")
    syslog_app_name = models.CharField(max_length=48, default="fleetweb")
    syslog_facility = models.PositiveSmallIntegerField(default=16, help_text="16 = local0.")
    syslog_max_message_bytes = models.PositiveIntegerField(default=65536)
    file_path = models.CharField(max_length=500, blank=True)
    file_rotate_bytes = models.PositiveBigIntegerField(default=100 * 1024 * 1024)
    file_keep = models.PositiveSmallIntegerField(default=5)

    # HTTP options.
    auth = models.CharField(max_length=8, choices=Auth.choices, default=Auth.NONE)
    username = models.CharField(max_length=255, blank=True)
    secret = models.CharField(max_length=1000, blank=True, help_text="Password, bearer token or HEC token.")
    headers = models.JSONField(default=dict, blank=True, help_text='Extra headers, e.g. {"X-Team": "sec"}.')
    gzip = models.BooleanField(default=False)
    tls_verify = models.BooleanField(default=True)
    tls_ca_file = models.CharField(max_length=500, blank=True, help_text="CA bundle to verify the receiver with.")
    timeout_seconds = models.FloatField(default=10.0)
    hec_index = models.CharField(max_length=255, blank=True)
    hec_source = models.CharField(max_length=255, default="osquery")
    hec_sourcetype = models.CharField(max_length=255, default="osquery:{log_type}")
    es_index = models.CharField(max_length=255, default="osquery-{log_type}-%Y.%m.%d")

    # Routing and shaping.
    log_types = models.JSONField(default=list, blank=True, help_text='e.g. ["result", "status"]; empty = all.')
    include_queries = models.TextField(blank=True, help_text="Glob patterns on query names, one a line.")
    exclude_queries = models.TextField(blank=True, help_text="Glob patterns on query names, one a line.")
    shape = models.CharField(max_length=4, choices=Shape.choices, default=Shape.ROWS)
    drop_fields = models.JSONField(default=list, blank=True, help_text='Dotted paths, e.g. ["decorations.username"].')
    mask_fields = models.JSONField(
        default=list, blank=True, help_text='e.g. [{"field": "columns.cmdline", "regex": "token=\\\\S+"}].'
    )
    enrich = models.BooleanField(default=True, help_text="Add the host's inventory under `host`.")

    # Delivery.
    batch_max_events = models.PositiveIntegerField(default=500)
    batch_max_bytes = models.PositiveIntegerField(default=1024 * 1024)
    batch_max_wait_seconds = models.FloatField(default=1.0)
    max_attempts = models.PositiveIntegerField(default=20)
    max_age_seconds = models.PositiveIntegerField(default=7 * 24 * 3600)
    backoff_base_seconds = models.FloatField(default=1.0)
    backoff_max_seconds = models.FloatField(default=300.0)

    # Throttle (file.d style): events per interval, dropped and counted beyond it.
    throttle_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = no throttle.")
    throttle_interval_seconds = models.PositiveIntegerField(default=60)
    throttle_key = models.CharField(max_length=8, choices=ThrottleKey.choices, default="", blank=True)

    # Health, written by delivery.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    retry_after = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, log_type: str) -> bool:
        return not self.log_types or log_type in self.log_types


class OutboxEvent(models.Model):
    """One event waiting for (or done with) one destination. Rows are written in the same
    transaction that marks the LogBatch processed, so an event is either queued for every
    destination that wants it or the batch is parsed again."""

    class State(models.IntegerChoices):
        PENDING = 0
        DELIVERED = 1
        DEAD = 2

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="outbox")
    # Stable across retries and identical for every destination, so receivers can drop duplicates.
    event_id = models.CharField(max_length=40)
    batch_id = models.BigIntegerField()
    host_id = models.BigIntegerField(null=True)
    log_type = models.CharField(max_length=8)
    query_name = models.CharField(max_length=255, blank=True)
    hostname = models.CharField(max_length=255, blank=True)
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    event_time = models.FloatField(help_text="The event's own unixTime (or intake time).")
    body = models.BinaryField(help_text="The shaped event as JSON.")
    size = models.PositiveIntegerField()
    state = models.PositiveSmallIntegerField(choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destination", "event_id"], name="unique_outbox_event")]
        indexes = [
            models.Index(fields=["destination", "state", "id"], name="outbox_due"),
            models.Index(fields=["state", "delivered_at"], name="outbox_delivered"),
        ]


class ThrottleBucket(models.Model):
    """Events counted in one interval for one destination and key, on the events' own time."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    bucket = models.BigIntegerField(help_text="unix time // interval")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destination", "key", "bucket"], name="unique_throttle_bucket")]


class ThrottleDrop(models.Model):
    """How many events the throttle dropped, per destination and key: never silently."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="throttle_drops")
    key = models.CharField(max_length=255)
    count = models.PositiveBigIntegerField(default=0)
    last_dropped_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destination", "key"], name="unique_throttle_drop")]


class QueryReportRow(models.Model):
    """The latest result rows of one scheduled query on one host, capped per (host, query)."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, db_constraint=False)
    name = models.CharField(max_length=255, help_text="The query name as the agent logged it.")
    pack = models.CharField(max_length=255, blank=True)
    query = models.CharField(max_length=255, blank=True)
    columns = models.JSONField()
    unix_time = models.BigIntegerField()
    stored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["host", "name", "id"], name="report_host_query")]


class StatusLogLine(models.Model):
    """The latest status (osquery's own log) lines of a host, so errors can be found without a SIEM."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, db_constraint=False)
    severity = models.PositiveSmallIntegerField()
    filename = models.CharField(max_length=255, blank=True)
    line = models.PositiveIntegerField(null=True)
    message = models.TextField()
    version = models.CharField(max_length=64, blank=True)
    unix_time = models.BigIntegerField()
    denylisted = models.BooleanField(default=False, help_text="The watchdog denylisted a query.")
    stored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["host", "id"], name="status_host"),
            models.Index(fields=["severity", "id"], name="status_severity"),
        ]
