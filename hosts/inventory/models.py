from django.db import models


class HostDetails(models.Model):
    """Vitals that do not fit the Host row itself. One row per host, written by detail queries."""

    host = models.OneToOneField("hosts.Host", on_delete=models.CASCADE, primary_key=True, related_name="details")
    cpu_type = models.CharField(max_length=64, blank=True)
    cpu_brand = models.CharField(max_length=255, blank=True)
    cpu_physical_cores = models.PositiveIntegerField(default=0)
    cpu_logical_cores = models.PositiveIntegerField(default=0)
    physical_memory = models.PositiveBigIntegerField(default=0, help_text="Bytes.")
    uptime_seconds = models.PositiveBigIntegerField(default=0)
    # From osquery_flags: the intervals that decide online/offline (hosts.status).
    distributed_interval = models.PositiveIntegerField(null=True, blank=True)
    config_tls_refresh = models.PositiveIntegerField(null=True, blank=True)
    logger_tls_period = models.PositiveIntegerField(null=True, blank=True)
    disk_bytes_available = models.PositiveBigIntegerField(null=True, blank=True)
    disk_bytes_total = models.PositiveBigIntegerField(null=True, blank=True)
    # Security posture; None means not reported (or not applicable to the platform).
    disk_encrypted = models.BooleanField(null=True)
    sip_enabled = models.BooleanField(null=True)
    gatekeeper_enabled = models.BooleanField(null=True)
    firewall_enabled = models.BooleanField(null=True)
    details_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "host details"

    @property
    def disk_percent_available(self) -> float | None:
        if not self.disk_bytes_total or self.disk_bytes_available is None:
            return None
        return round(100.0 * self.disk_bytes_available / self.disk_bytes_total, 1)


class HostUser(models.Model):
    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="users")
    uid = models.CharField(max_length=64)
    username = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True)
    directory = models.CharField(max_length=1024, blank=True)
    shell = models.CharField(max_length=255, blank=True)
    user_type = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["host", "username"]


class HostSoftware(models.Model):
    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="software")
    name = models.CharField(max_length=255, db_index=True)
    version = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=64, help_text="apps, deb_packages, rpm_packages, programs, homebrew_packages")
    bundle_identifier = models.CharField(max_length=255, blank=True)
    install_path = models.CharField(max_length=1024, blank=True)

    class Meta:
        ordering = ["host", "name"]
        verbose_name_plural = "host software"


class HostInterface(models.Model):
    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="interfaces")
    interface = models.CharField(max_length=255)
    address = models.CharField(max_length=64)
    mask = models.CharField(max_length=64, blank=True)
    mac = models.CharField(max_length=64, blank=True)
    default_route = models.BooleanField(default=False)

    class Meta:
        ordering = ["host", "interface", "address"]


class HostQueryStat(models.Model):
    """One scheduled query's performance on one host, from `osquery_schedule` (totals since the
    agent started or the query's SQL last changed)."""

    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="query_stats")
    name = models.CharField(max_length=255, help_text="osquery's schedule name, e.g. pack/<pack>/<query>.")
    interval = models.PositiveIntegerField(default=0)
    executions = models.PositiveBigIntegerField(default=0)
    last_executed = models.PositiveBigIntegerField(default=0, help_text="Unix seconds.")
    denylisted = models.BooleanField(default=False)
    output_size = models.PositiveBigIntegerField(default=0)
    wall_time_ms = models.PositiveBigIntegerField(default=0)
    user_time = models.PositiveBigIntegerField(default=0, help_text="Milliseconds, total.")
    system_time = models.PositiveBigIntegerField(default=0, help_text="Milliseconds, total.")
    average_memory = models.PositiveBigIntegerField(default=0, help_text="Bytes of RSS growth, running average.")

    class Meta:
        ordering = ["host", "name"]
        constraints = [models.UniqueConstraint(fields=["host", "name"], name="unique_host_query_stat")]
