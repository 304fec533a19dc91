"""fleetctl command line: config, login, apply, get, delete, query, convert, debug."""

import argparse
import contextlib
import getpass
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from . import output
from .client import Client, ClientError
from .config import config_path, context_load, context_save
from .debug import check_connection

SPEC_KINDS = {
    # get argument -> (export kind, list endpoint, list key)
    "queries": ("query", "queries", "queries"),
    "packs": ("pack", "packs", "packs"),
    "labels": ("label", "labels", "labels"),
    "policies": ("policy", "policies", "policies"),
    "config": ("config", None, None),
    "enroll_secrets": ("enroll_secret", None, None),
}
ALIASES = {
    "query": "queries",
    "q": "queries",
    "pack": "packs",
    "p": "packs",
    "label": "labels",
    "l": "labels",
    "policy": "policies",
    "host": "hosts",
    "h": "hosts",
    "enroll_secret": "enroll_secrets",
    "enroll-secret": "enroll_secrets",
    "enroll-secrets": "enroll_secrets",
    "secrets": "enroll_secrets",
}
DELETE_PATHS = {"query": "queries", "pack": "packs", "label": "labels", "policy": "policies"}


def err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def client_for(args: argparse.Namespace) -> Client:
    return Client(context_load(args.context))


# ---- config / login ----------------------------------------------------------------------------


def cmd_config_set(args: argparse.Namespace) -> int:
    ctx = context_load(args.context)
    if args.address is not None:
        ctx.address = args.address.rstrip("/")
    if args.token is not None:
        if any(ch.isspace() for ch in args.token.strip()):
            raise ClientError("the token contains whitespace; paste only the token itself")
        ctx.token = args.token.strip()
    if args.tls_skip_verify is not None:
        ctx.tls_skip_verify = args.tls_skip_verify
    if args.rootca is not None:
        ctx.rootca = str(Path(args.rootca).resolve()) if args.rootca else ""
    path = context_save(args.context, ctx)
    print(f"[+] context {args.context!r} saved to {path}")
    return 0


def cmd_config_get(args: argparse.Namespace) -> int:
    ctx = context_load(args.context)
    print(f"context: {args.context} ({config_path()})")
    print(f"address: {ctx.address or '(not set)'}")
    print(f"email: {ctx.email or '(not set)'}")
    print(f"token: {'set' if ctx.token else '(not set)'}")
    print(f"tls-skip-verify: {str(ctx.tls_skip_verify).lower()}")
    print(f"rootca: {ctx.rootca or '(system CAs)'}")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    ctx = context_load(args.context)
    email = args.email or input("Email: ").strip()
    password = args.password if args.password is not None else getpass.getpass("Password: ")
    ctx.token = ""
    reply = Client(ctx).post("login", {"email": email, "password": password})
    ctx.token = reply["token"]
    ctx.email = reply["user"]["email"]
    context_save(args.context, ctx)
    print(f"[+] logged in as {ctx.email} ({reply['user'].get('global_role')})")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    ctx = context_load(args.context)
    if ctx.token:
        try:
            Client(ctx).post("logout")
        except ClientError as exc:
            if exc.status != 401:
                raise
    ctx.token = ""
    context_save(args.context, ctx)
    print("[+] logged out")
    return 0


# ---- apply / delete ------------------------------------------------------------------------------


def _read(path: str) -> str:
    if not path.endswith((".yml", ".yaml")):
        raise ClientError(f"{path}: spec files must end in .yml or .yaml")
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ClientError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ClientError(f"{path}: not UTF-8 text") from None


def cmd_apply(args: argparse.Namespace) -> int:
    client = client_for(args)
    failed = False
    for path in args.file:
        try:
            report = client.post("spec/apply", {"text": _read(path), "filename": path, "dry_run": args.dry_run})
        except ClientError as exc:
            failed = True
            located = [e for e in exc.errors if ":" in str(e.get("name", ""))]
            if located:
                for error in located:
                    print(f"{error['name']}: {error['reason']}", file=sys.stderr)
            else:
                err(f"{path}: {exc}")
            continue
        for obj in report["objects"]:
            print(f"[{'~' if args.dry_run else '+'}] {obj['kind']} {obj['name']!r}: {obj['status']}")
        for warning in report["warnings"]:
            print(f"warning: {warning}", file=sys.stderr)
        counts = report["counts"]
        prefix = "dry run, nothing written: " if args.dry_run else ""
        print(
            f"{path}: {prefix}{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged"
        )
    return 1 if failed else 0


def _load_docs(path: str) -> list[dict[str, Any]]:
    text = _read(path)
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ClientError(f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    for index, doc in enumerate(docs, 1):
        if not isinstance(doc, dict) or "kind" not in doc or not isinstance(doc.get("spec"), dict):
            raise ClientError(f"{path}: document {index} needs 'kind' and a 'spec' mapping")
    return docs


def cmd_delete(args: argparse.Namespace) -> int:
    client = client_for(args)
    failed = False
    for path in args.file:
        for doc in _load_docs(path):
            kind, name = doc["kind"], doc["spec"].get("name")
            if kind not in DELETE_PATHS:
                print(f"[!] {kind} documents cannot be deleted; skipped", file=sys.stderr)
                continue
            plural = DELETE_PATHS[kind]
            object_id = client.find_id(plural, str(name))
            if object_id is None:
                failed = True
                err(f"{path}: no {kind} named {name!r}")
                continue
            if kind == "policy":
                client.post("policies/delete", {"ids": [object_id]})
            else:
                client.delete(f"{plural}/id/{object_id}")
            print(f"[+] deleted {kind} {name!r}")
    return 1 if failed else 0


# ---- get -----------------------------------------------------------------------------------------


def _host_rows(hosts: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [h["id"], h["hostname"], h["platform"], h["osquery_version"], h["status"], h["primary_ip"], h["uuid"]]
        for h in hosts
    ]


HOST_HEADERS = ["ID", "HOSTNAME", "PLATFORM", "OSQUERY", "STATUS", "IP", "UUID"]


def cmd_get(args: argparse.Namespace) -> int:
    client = client_for(args)
    what = ALIASES.get(args.resource, args.resource)
    if what == "hosts":
        if args.name:
            hosts = [client.get(f"hosts/identifier/{args.name}")["host"]]
        else:
            params = {k: v for k, v in (("query", args.search), ("status", args.status)) if v}
            if args.label:
                label_id = client.find_id("labels", args.label)
                if label_id is None:
                    raise ClientError(f"no label named {args.label!r}")
                params["label_id"] = str(label_id)
            hosts = client.get("hosts", **params)["hosts"]
        if args.json:
            output.json_out(hosts if not args.name else hosts[0])
        elif args.yaml:
            output.yaml_documents([{"apiVersion": "v1", "kind": "host", "spec": h} for h in hosts])
        else:
            output.table(HOST_HEADERS, _host_rows(hosts))
        return 0
    if what not in SPEC_KINDS:
        raise ClientError(f"cannot get {args.resource!r}; choose hosts, {', '.join(SPEC_KINDS)}")
    kind, list_path, list_key = SPEC_KINDS[what]
    if args.yaml or args.json or list_path is None:
        docs = client.get("spec/export", kinds=kind)["specs"]
        if kind == "config" and not docs:
            # Never edited: show the options the server serves, as an appliable document.
            options = client.get("config")["agent_options"]
            docs = [{"apiVersion": "v1", "kind": "config", "spec": {"agent_options": options}}]
        if args.name:
            docs = [d for d in docs if d["spec"].get("name") == args.name]
            if not docs:
                raise ClientError(f"no {kind} named {args.name!r}")
        if args.json:
            output.json_out(docs)
        else:
            output.yaml_documents(docs)
        return 0
    assert list_key is not None
    items = client.get(list_path)[list_key]
    if args.name:
        items = [i for i in items if i.get("name") == args.name]
    if what == "queries":
        output.table(
            ["NAME", "DESCRIPTION", "QUERY"],
            [[q["name"], output.truncate(q["description"], 40), output.truncate(q["query"])] for q in items],
        )
    elif what == "packs":
        output.table(
            ["NAME", "PLATFORM", "DESCRIPTION", "DISABLED", "QUERIES"],
            [
                [p["name"], p["platform"], output.truncate(p["description"], 40), p["disabled"], p["query_count"]]
                for p in items
            ],
        )
    elif what == "labels":
        output.table(
            ["NAME", "TYPE", "MEMBERSHIP", "HOSTS", "DESCRIPTION"],
            [
                [
                    lb["name"],
                    lb["label_type"],
                    lb["label_membership_type"],
                    lb["count"],
                    output.truncate(lb["description"], 40),
                ]
                for lb in items
            ],
        )
    else:
        output.table(
            ["NAME", "PLATFORM", "CRITICAL", "PASSING", "FAILING"],
            [
                [p["name"], p["platform"], p["critical"], p["passing_host_count"], p["failing_host_count"]]
                for p in items
            ],
        )
    return 0


# ---- query ---------------------------------------------------------------------------------------


def parse_duration(text: str) -> float:
    """'30s', '2m', '1h', '1m30s' or plain seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}; use e.g. 30s, 2m, 1h")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def _split(values: list[str] | None) -> list[str]:
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def _progress(totals: dict[str, Any]) -> str:
    count = totals["count"] or 1
    responded = totals["responded"]
    online = totals["online"]
    return (
        f"{100 * responded // count}% responded ({100 * online // count}% online) | "
        f"{responded}/{totals['count']} targeted hosts"
    )


def cmd_query(args: argparse.Namespace) -> int:
    client = client_for(args)
    hosts, labels = _split(args.hosts), _split(args.labels)
    if not hosts and not labels:
        raise ClientError("no hosts or labels targeted: pass --hosts and/or --labels")
    body: dict[str, Any] = {"selected": {"hosts": hosts, "labels": labels}}
    if args.query_name:
        query_id = client.find_id("queries", args.query_name)
        if query_id is None:
            raise ClientError(f"no saved query named {args.query_name!r}")
        body["query_id"] = query_id
    elif args.query:
        body["query"] = args.query
    else:
        raise ClientError("pass --query SQL or --query-name NAME")
    campaign = client.post("queries/run_by_identifiers", body)["campaign"]
    campaign_id = campaign["id"]
    deadline = time.monotonic() + args.timeout if args.timeout else None
    offset = 0
    failures: list[tuple[str, str]] = []
    answered: set[str] = set()
    interactive = sys.stderr.isatty() and not args.quiet
    totals: dict[str, Any] = {}
    try:
        while True:
            reply = client.get(f"queries/run/{campaign_id}", offset=offset)
            offset = reply["offset"]
            totals = reply["totals"]
            for result in reply["results"]:
                host = result["host"]["display_name"] or result["host"]["hostname"]
                answered.add(host)
                if result.get("error"):
                    failures.append((host, result["error"]))
                    if not args.quiet:
                        print(f"{host}: error: {result['error']}", file=sys.stderr)
                    continue
                _print_rows(args, host, result["rows"])
            if not args.quiet:
                line = _progress(totals)
                print(f"\r{line}" if interactive else line, end="" if interactive else "\n", file=sys.stderr)
            if totals["pending"] == 0 or totals["campaign_status"] != "running":
                break
            if args.exit and totals["pending_online"] == 0:
                break
            if deadline is not None and time.monotonic() >= deadline:
                if not args.quiet:
                    print(f"\n[!] --timeout reached after {args.timeout:g} s", file=sys.stderr)
                break
            time.sleep(args.poll)
    except KeyboardInterrupt:
        print("\n[!] interrupted", file=sys.stderr)
    finally:
        with contextlib.suppress(ClientError):
            client.delete(f"queries/run/{campaign_id}")
    if interactive:
        print(file=sys.stderr)
    if not args.quiet and totals:
        succeeded = totals["responded"] - totals["failed"]
        missing = totals["count"] - totals["responded"]
        print(
            f"summary: {totals['count']} hosts targeted, {succeeded} responded, {totals['failed']} failed, "
            f"{missing} did not respond",
            file=sys.stderr,
        )
        for host, error in failures:
            print(f"  failed: {host}: {error}", file=sys.stderr)
    return 0


def _print_rows(args: argparse.Namespace, host: str, rows: list[dict[str, Any]]) -> None:
    if args.json:
        print(json.dumps({"host": host, "rows": rows}), flush=True)
        return
    if not rows:
        print(f"{host}: (no rows)", flush=True)
        return
    headers = ["host", *sorted({key for row in rows for key in row})]
    output.table(headers, [[host, *(row.get(h, "") for h in headers[1:])] for row in rows])
    sys.stdout.flush()


# ---- convert / debug -----------------------------------------------------------------------------


def cmd_convert(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ClientError(f"{args.file}: cannot read: {exc.strerror}") from None
    try:
        reply = client_for(args).post("spec/convert", {"text": text, "filename": args.file})
    except ClientError as exc:
        located = [e for e in exc.errors if ":" in str(e.get("name", ""))]
        if located:
            raise ClientError("; ".join(f"{e['name']}: {e['reason']}" for e in located)) from None
        raise
    for warning in reply["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            output.yaml_documents(reply["specs"], handle)
        print(f"[+] wrote {len(reply['specs'])} specs to {args.output}", file=sys.stderr)
    else:
        output.yaml_documents(reply["specs"])
    return 0


def cmd_debug_connection(args: argparse.Namespace) -> int:
    ctx = context_load(args.context)
    if args.address:
        ctx.address = args.address
    ok = check_connection(ctx, print)
    print("connection looks good" if ok else "connection check failed (see FAIL above)")
    return 0 if ok else 1


# ---- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fleetctl", description="Manage a fleetweb server from the command line.")
    parser.add_argument("--context", default="default", help="config context to use (default: default)")
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help="set or show the connection settings").add_subparsers(
        dest="config_command", required=True
    )
    cset = config.add_parser("set", help="set address, token or TLS options of a context")
    cset.add_argument("--address", help="server URL, e.g. https://fleet.example.com:8443")
    cset.add_argument("--token", help="API token (for API-only users)")
    cset.add_argument("--tls-skip-verify", dest="tls_skip_verify", action="store_true", default=None)
    cset.add_argument("--no-tls-skip-verify", dest="tls_skip_verify", action="store_false")
    cset.add_argument("--rootca", help="CA certificate file to trust for this server")
    cset.set_defaults(func=cmd_config_set)
    config.add_parser("get", help="show a context").set_defaults(func=cmd_config_get)

    login = sub.add_parser("login", help="log in and store a token in the context")
    login.add_argument("--email")
    login.add_argument("--password")
    login.set_defaults(func=cmd_login)
    sub.add_parser("logout", help="revoke the context's token").set_defaults(func=cmd_logout)

    apply = sub.add_parser("apply", help="apply YAML spec files")
    apply.add_argument("-f", "--file", action="append", required=True, help="spec file (repeatable)")
    apply.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    apply.set_defaults(func=cmd_apply)

    delete = sub.add_parser("delete", help="delete the objects named in YAML spec files")
    delete.add_argument("-f", "--file", action="append", required=True)
    delete.set_defaults(func=cmd_delete)

    get = sub.add_parser("get", help="list hosts, queries, packs, labels, policies, config or enroll secrets")
    get.add_argument("resource")
    get.add_argument("name", nargs="?", help="one object: a name, or a host identifier")
    fmt = get.add_mutually_exclusive_group()
    fmt.add_argument("--yaml", action="store_true", help="YAML specs (can be applied again)")
    fmt.add_argument("--json", action="store_true")
    get.add_argument("--query", dest="search", help="hosts: search hostname, UUID, serial or IP")
    get.add_argument("--status", help="hosts: online, offline, mia, new")
    get.add_argument("--label", help="hosts: only members of this label")
    get.set_defaults(func=cmd_get)

    query = sub.add_parser("query", help="run a live query and stream the results")
    query.add_argument("--hosts", action="append", help="hostnames, UUIDs or serials (comma separated)")
    query.add_argument("--labels", action="append", help="label names (comma separated)")
    query.add_argument("--query", help="SQL to run")
    query.add_argument("--query-name", help="run a saved query by name")
    query.add_argument("--timeout", type=parse_duration, default=None, help="stop after this long, e.g. 30s")
    query.add_argument("--exit", action="store_true", help="stop when every online host has answered")
    query.add_argument("--json", action="store_true", help='one JSON line per host: {"host", "rows"}')
    query.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
    query.add_argument("--poll", type=float, default=1.0, help=argparse.SUPPRESS)
    query.set_defaults(func=cmd_query)

    convert = sub.add_parser("convert", help="convert an osquery pack .conf into YAML specs")
    convert.add_argument("-f", "--file", required=True)
    convert.add_argument("-o", "--output", help="write to this file instead of stdout")
    convert.set_defaults(func=cmd_convert)

    debug = sub.add_parser("debug", help="diagnostics").add_subparsers(dest="debug_command", required=True)
    conn = debug.add_parser("connection", help="check address, DNS, TLS, token and the agent API")
    conn.add_argument("--address", help="check this URL instead of the context's")
    conn.set_defaults(func=cmd_debug_connection)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ClientError as exc:
        err(str(exc))
        return 1
    except ValueError as exc:
        err(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
