"""fleetctl: fleetweb's command-line client, modelled on Fleet's fleetctl. It only speaks the
REST API, so it works from any machine that can reach the server."""
