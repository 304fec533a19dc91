"""Forwarding osquery logs to SIEMs: parse, shape, throttle, send. Writes live in
collector.services.forwarding; these modules are pure functions and protocol clients."""
