"""`make bench`: the production-style stack on loopback, the agent simulator against it, and a
report of server CPU per request, SQL per request, latency and hosts per core."""
