"""fleetweb's agent simulator: many osquery agents speaking the TLS remote API to one server.

Run `python -m fleetweb_sim --help` (or the `fleetweb-sim` console script).
"""
