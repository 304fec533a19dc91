"""The embedded mode (`make run`: SQLite, no Redis server, tasks inline) forwards too."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import VECTORS_PATH


def test_embedded_mode_parses_throttles_and_delivers(tmp_path):
    script = Path(__file__).with_name("embedded_forwarding.py")
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(VECTORS_PATH)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(line for line in run.stdout.splitlines() if line.startswith("SUMMARY "))
    summary = json.loads(line.removeprefix("SUMMARY "))
    # 5 status lines over two minutes (2 + 3), limit 2 a minute per host: 4 delivered, 1 dropped.
    assert summary == {"reply": {}, "states": [1, 1, 1, 1], "drops": 1, "lines_in_file": 4}
