"""Host vitals: what the detail queries report about each host (hardware, OS, users, software,
network, security posture, scheduled-query performance)."""
