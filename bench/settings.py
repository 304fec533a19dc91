"""Benchmark settings: production settings plus one URL, the floor view (see bench.urls)."""

from fleetweb.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
