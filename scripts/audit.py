"""`make audit`: known vulnerabilities in the installed dependencies (pip-audit) and a static
security scan of fleetweb's code (bandit, configured in pyproject.toml).

pip-audit asks PyPI's vulnerability service about every installed package. Where that service
cannot be reached (an offline CI runner, a mirror without the JSON API), the audit says clearly
that it was NOT performed and does not fail the build; set FLEETWEB_AUDIT_STRICT=1 to fail then.
Known vulnerabilities that do not apply are listed, each with its reason, in
scripts/audit-ignore.txt ("ID  reason" per line).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STRICT = os.environ.get("FLEETWEB_AUDIT_STRICT") == "1"


def ignored_vulns() -> dict[str, str]:
    path = REPO / "scripts" / "audit-ignore.txt"
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            vuln, _, reason = line.strip().partition(" ")
            if not reason.strip():
                sys.exit(f"scripts/audit-ignore.txt: {vuln} has no reason")
            entries[vuln] = reason.strip()
    return entries


def dependency_audit() -> bool:
    ignore = ignored_vulns()
    argv = [str(BIN / "pip-audit"), "--local", "--skip-editable", "--format", "json", "--progress-spinner", "off"]
    for vuln in ignore:
        argv += ["--ignore-vuln", vuln]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: could not run against the vulnerability service ({last}).")
        print("pip-audit: dependency audit NOT performed.")
        return not STRICT
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = [d for d in deps if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    if not audited:
        print(f"pip-audit: the vulnerability service answered for none of the {len(deps)} installed packages")
        print("pip-audit: dependency audit NOT performed (offline or no PyPI JSON API here).")
        return not STRICT
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"pip-audit: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    for vuln, reason in ignore.items():
        print(f"pip-audit: ignoring {vuln}: {reason}")
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        print(f"pip-audit: {len(skipped)} package(s) could not be audited: {names}")
    print(f"pip-audit: {len(audited)} package(s) audited, {len(vulnerable)} with known vulnerabilities")
    return not vulnerable and not (STRICT and skipped)


def code_scan() -> bool:
    result = subprocess.run(
        [str(BIN / "bandit"), "-q", "-c", "pyproject.toml", "-r", ".", "-f", "txt"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if result.returncode != 0:
        print(result.stdout)
        print("bandit: findings above; fix them or mark a false positive `# nosec BXXX` with a comment why")
        return False
    print("bandit: no findings")
    return True


if __name__ == "__main__":
    ok_deps = dependency_audit()
    ok_code = code_scan()
    sys.exit(0 if ok_deps and ok_code else 1)
