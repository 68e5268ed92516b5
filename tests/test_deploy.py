"""deploy/: the files people copy to run a node say what the node really accepts.

Docker is not needed: the compose file and the Dockerfile are read, the
entrypoint runs against a stand-in ``maillon``. ``systemd-analyze`` and
``nginx`` check their files where they are installed (skipped otherwise).
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import tomllib
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from federation.wire import MAX_BODY
from node.cli.main import build_parser
from node.config import ROLES, Config, init_node, load_node
from node.domain.settings import SETTINGS

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"
DEFAULT_PORT = next(f.default for f in fields(Config) if f.name == "port")
DEFAULT_DATA = "/var/lib/maillon"
REAL_BINARY = "/opt/maillon/venv/bin/maillon"


# Dockerfile -----------------------------------------------------------------


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_the_image_runs_as_a_user_with_its_data_in_a_volume_and_a_health_check():
    stage = final_stage(dockerfile_instructions(DEPLOY / "Dockerfile"))
    values = {keyword: arguments for keyword, arguments in stage}  # the last of each
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim-(bookworm|trixie)", stage[0][1]), stage[0]
    assert values["USER"].split(":")[0] not in ("root", "0"), "the node must not run as root"
    assert "/data" in values["VOLUME"]
    options, _, command = values["HEALTHCHECK"].partition(" CMD ")
    assert json.loads(command) == ["maillon-healthcheck"] and "--interval=" in options
    assert "MAILLON_DISCOVERY=off" in values["ENV"]
    assert "maillon-entrypoint" in values["ENTRYPOINT"] and '"run"' in values["CMD"]


def test_every_file_the_image_copies_exists_and_scripts_are_executable():
    for keyword, arguments in dockerfile_instructions(DEPLOY / "Dockerfile"):
        if keyword != "COPY" or "--from=" in arguments:
            continue
        *sources, _target = [a for a in arguments.split() if not a.startswith("--")]
        for source in sources:
            path = ROOT / source
            assert path.exists(), source
            if path.is_file():
                assert path.stat().st_mode & stat.S_IXUSR, f"{source} is not executable"


# entrypoint and health check --------------------------------------------------


@pytest.fixture
def fake_maillon(tmp_path: Path) -> tuple[Path, Path]:
    """A ``maillon`` on PATH that records its arguments, one call per line."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    fake = bin_dir / "maillon"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\037" "$a"; done >> "$CALLS"\n'
                    'echo >> "$CALLS"\n')
    fake.chmod(0o755)
    return bin_dir, calls


def run_entrypoint(bin_dir: Path, calls: Path, data: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), "MAILLON_DATA": str(data),
               **env}
    return subprocess.run(["/bin/sh", str(DEPLOY / "docker" / "entrypoint.sh"), "run"], env=environ,
                          capture_output=True, text=True, timeout=10)  # fmt: skip


def recorded(calls: Path) -> list[list[str]]:
    return [line.split("\x1f")[:-1] for line in calls.read_text().splitlines()] if calls.exists() else []


@pytest.mark.skipif(not Path("/bin/sh").exists(), reason="needs a POSIX shell")
def test_the_first_start_creates_the_node_from_the_environment_on_every_interface(tmp_path, fake_maillon):
    bin_dir, calls = fake_maillon
    data = tmp_path / "data"
    result = run_entrypoint(bin_dir, calls, data, MAILLON_NAME="Atelier Nord", MAILLON_ROLE="hub",
                            MAILLON_URL="https://hub.example.org", MAILLON_PORT="8471")  # fmt: skip
    assert result.returncode == 0, result.stderr
    init, run = recorded(calls)
    args = build_parser().parse_args(init)  # the real CLI accepts what the entrypoint passes
    assert (args.command, args.data, args.name, args.role) == ("init", data, "Atelier Nord", "hub")
    assert (args.host, args.port, args.url) == ("0.0.0.0", 8471, "https://hub.example.org")
    assert build_parser().parse_args(run).command == "run" and run[-1] == str(data)


@pytest.mark.skipif(not Path("/bin/sh").exists(), reason="needs a POSIX shell")
def test_a_later_start_only_runs_and_a_first_start_without_a_name_is_refused(tmp_path, fake_maillon):
    bin_dir, calls = fake_maillon
    data = tmp_path / "data"
    refused = run_entrypoint(bin_dir, calls, data)
    assert refused.returncode == 2 and "MAILLON_NAME" in refused.stderr and not recorded(calls)
    (data / "node.toml").write_text('name = "x"\nhost = "127.0.0.1"\n')
    result = run_entrypoint(bin_dir, calls, data, MAILLON_NAME="ignored")
    assert result.returncode == 0 and [call[0] for call in recorded(calls)] == ["run"]
    assert "loopback" in result.stderr  # unreachable from outside the container: said


def load_healthcheck():
    spec = importlib.util.spec_from_file_location("maillon_healthcheck", DEPLOY / "docker" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_health_check_asks_the_port_of_node_toml(tmp_path, monkeypatch):
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}')

        def log_message(self, *args):
            pass

    healthcheck = load_healthcheck()
    assert healthcheck.health_url({"host": "0.0.0.0", "port": 8470}) == "http://127.0.0.1:8470/health"
    assert healthcheck.health_url({"host": "::"}) == "http://[::1]:8470/health"
    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "node.toml").write_text(f'name = "x"\nhost = "0.0.0.0"\nport = {server.server_port}\n')
        monkeypatch.setenv("MAILLON_DATA", str(tmp_path))
        assert healthcheck.main() == 0
    finally:
        server.shutdown()
        server.server_close()
    assert healthcheck.main() == 1  # nothing answers any more
    monkeypatch.setenv("MAILLON_DATA", str(tmp_path / "none"))
    assert healthcheck.main() == 1  # no node yet


# compose --------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_a_hub_and_two_members_each_with_its_volume_and_health_check():
    spec = compose()
    services = spec["services"]
    nodes = {name: s for name, s in services.items() if "MAILLON_ROLE" in s.get("environment", {})}
    roles = sorted(s["environment"]["MAILLON_ROLE"] for s in nodes.values())
    assert roles == ["hub", "member", "member"]
    targets = set()
    for name, service in nodes.items():
        assert service["environment"]["MAILLON_NAME"], name
        volume, _, target = service["volumes"][0].partition(":")
        assert target == "/data" and volume in spec["volumes"], name
        targets.add(volume)
        health = service["healthcheck"]
        assert not health.get("disable") and "maillon-healthcheck" in health["test"], name
        build = service["build"]
        dockerfile = DEPLOY / build["context"] / build["dockerfile"]
        assert dockerfile.resolve() == (DEPLOY / "Dockerfile").resolve(), name
    assert len(targets) == 3, "each node has its own volume"
    hub = next(s for s in nodes.values() if s["environment"]["MAILLON_ROLE"] == "hub")
    assert hub["environment"]["MAILLON_URL"].startswith("http"), "a hub's invitations carry its URL"


def test_compose_joins_the_members_once_every_node_is_healthy():
    services = compose()["services"]
    enrol = services["enrol"]
    nodes = [name for name, s in services.items() if "MAILLON_ROLE" in s.get("environment", {})]
    conditions = {name: dependency["condition"] for name, dependency in enrol["depends_on"].items()}
    assert conditions == dict.fromkeys(nodes, "service_healthy")
    assert enrol["restart"] == "no" and enrol["entrypoint"] == ["maillon-enrol"]
    mounts = dict(reversed(v.split(":")[:2]) for v in enrol["volumes"])  # target -> volume
    hub = next(n for n in nodes if services[n]["environment"]["MAILLON_ROLE"] == "hub")
    hub_volume = services[hub]["volumes"][0].split(":")[0]
    assert mounts[enrol["command"][0]] == hub_volume, "the first argument is the hub"
    assert len(enrol["command"]) == 3 and all(target in mounts for target in enrol["command"])


# systemd --------------------------------------------------------------------


def unit_entries(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) of a unit file, keys repeated as systemd allows."""
    entries, section = [], ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


HARDENING = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "MemoryDenyWriteExecute": "yes", "RestrictNamespaces": "yes",
    "LockPersonality": "yes", "SystemCallArchitectures": "native", "UMask": "0077",
}  # fmt: skip


@pytest.mark.parametrize("unit", ["maillon.service", "maillon-backup.service"])
def test_the_units_run_sandboxed_as_their_user_writing_only_the_data_directory(unit):
    entries = unit_entries(DEPLOY / "systemd" / unit)
    service = {key: value for section, key, value in entries if section == "Service"}
    for key, value in HARDENING.items():
        assert service.get(key) == value, key
    assert service["User"] == "maillon" and service["StateDirectory"] == "maillon"
    assert service["ReadWritePaths"] == DEFAULT_DATA
    filters = [v for s, k, v in entries if k == "SystemCallFilter"]
    assert "@system-service" in filters
    assert service["CapabilityBoundingSet"] == ""
    assert "AF_INET" in service["RestrictAddressFamilies"] or unit == "maillon-backup.service"


def test_the_units_call_the_cli_as_it_is():
    def keys(unit: str) -> dict[str, str]:
        return {key: value for _, key, value in unit_entries(DEPLOY / "systemd" / unit)}

    run = keys("maillon.service")["ExecStart"].split()
    backup = keys("maillon-backup.service")["ExecStart"].split()
    assert run[0] == backup[0] == REAL_BINARY
    assert build_parser().parse_args(run[1:]).data == Path(DEFAULT_DATA)
    args = build_parser().parse_args(backup[1:])
    assert (args.command, args.data, args.out) == ("backup", Path(DEFAULT_DATA), None)
    timer = keys("maillon-backup.timer")
    assert timer["OnCalendar"] and timer["Persistent"] == "true" and timer["WantedBy"] == "timers.target"
    sysusers = (DEPLOY / "systemd" / "maillon.sysusers").read_text()
    assert re.search(rf"^u maillon - .* {DEFAULT_DATA}$", sysusers, re.M)


def verify_units(tmp_path: Path, units: dict[str, str]) -> None:
    """``systemd-analyze verify``, failing on any warning about these units.

    verify wants each ExecStart binary to exist: Maillon's is swapped for
    one that does, in a copy. It prints warnings (an unknown key, a bad
    value) without failing, so any line naming one of the units fails.
    """
    stand_in = sys.executable
    paths = []
    for name, text in units.items():
        path = tmp_path / name
        path.write_text(text.replace(REAL_BINARY, stand_in))
        paths.append(str(path))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *paths], capture_output=True, text=True,
                            timeout=30)  # fmt: skip
    output = result.stdout + result.stderr
    complaints = [line for line in output.splitlines() if any(name in line for name in units)]
    assert result.returncode == 0 and not complaints, output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_units(tmp_path):
    units = ("maillon.service", "maillon-backup.service", "maillon-backup.timer")
    verify_units(tmp_path, {name: (DEPLOY / "systemd" / name).read_text() for name in units})


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_yunohost_unit(tmp_path):
    text = (DEPLOY / "yunohost" / "conf" / "systemd.service").read_text()
    text = text.replace("__INSTALL_DIR__/venv/bin/maillon", REAL_BINARY)
    text = text.replace("__DATA_DIR__", "/home/yunohost.app/maillon").replace("__APP__", "maillon")
    verify_units(tmp_path, {"maillon.service": text})


# node.toml.example --------------------------------------------------------------


def test_the_example_configuration_loads_and_names_every_field(tmp_path):
    text = (DEPLOY / "node.toml.example").read_text()
    init_node(tmp_path, Config(name="placeholder"))  # a key beside it, as `maillon init` leaves
    (tmp_path / "node.toml").write_text(text)
    config = load_node(tmp_path).config
    assert set(tomllib.loads(text)) == {f.name for f in fields(Config)}
    assert config.port == DEFAULT_PORT and config.host == "127.0.0.1"


def test_the_example_configuration_lists_every_runtime_setting():
    text = (DEPLOY / "node.toml.example").read_text()
    for name in SETTINGS:
        assert re.search(rf"^#\s+{name}\s", text, re.M), name
    assert "maillon settings --data DIR NAME VALUE" in text


# nginx ------------------------------------------------------------------------


def body_sizes(text: str) -> list[int]:
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    found = re.findall(r"client_max_body_size\s+(\d+)([kKmMgG]?);", text)
    return [int(number) * units[unit.lower()] for number, unit in found]


def test_the_proxy_serves_tls_with_hsts_and_passes_federation_bodies_whole():
    text = (DEPLOY / "nginx" / "maillon.conf").read_text()
    assert re.search(r"ssl_certificate\s+/etc/letsencrypt/live/\S+/fullchain\.pem;", text)
    assert re.search(r"ssl_certificate_key\s+/etc/letsencrypt/live/\S+/privkey\.pem;", text)
    assert re.search(r'add_header Strict-Transport-Security "max-age=\d+.*" always;', text)
    assert re.search(rf"server 127\.0\.0\.1:{DEFAULT_PORT};", text)
    # No URI after the upstream: the signed request line reaches the node unchanged.
    assert set(re.findall(r"proxy_pass\s+(\S+);", text)) == {"http://maillon_node"}
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP"):
        assert re.search(rf"proxy_set_header {header} ", text), header
    sizes = body_sizes(text)
    assert sizes and min(sizes) >= MAX_BODY
    federation = re.search(r"location /fed/v1/ \{(.*?)\}", text, re.S).group(1)
    assert body_sizes(federation) == [MAX_BODY]
    assert "deny all;" in re.search(r"location /upload/ \{(.*?)\}", text, re.S).group(1)


def test_the_yunohost_proxy_passes_federation_bodies_whole():
    text = (DEPLOY / "yunohost" / "conf" / "nginx.conf").read_text()
    assert set(re.findall(r"proxy_pass\s+(\S+);", text)) == {"http://127.0.0.1:__PORT__"}
    assert body_sizes(text) and min(body_sizes(text)) >= MAX_BODY


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "maillon.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_both_configurations(tmp_path):
    cert, key = self_signed(tmp_path)
    site = (DEPLOY / "nginx" / "maillon.conf").read_text()
    site = re.sub(r"/etc/letsencrypt/live/[^/]+/(fullchain|chain)\.pem", str(cert), site)
    site = re.sub(r"/etc/letsencrypt/live/[^/]+/privkey\.pem", str(key), site)
    (tmp_path / "site.conf").write_text(site)
    # YunoHost's location goes inside the domain's server block, which YunoHost writes.
    location = (DEPLOY / "yunohost" / "conf" / "nginx.conf").read_text()
    location = location.replace("__PORT__", str(DEFAULT_PORT))
    (tmp_path / "yunohost.conf").write_text(f"server {{\n listen 8443;\n server_name ynh.test;\n{location}}}")
    # Everything nginx writes goes under tmp_path: the test needs no root.
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp_paths = "".join(f"    {kind}_temp_path {tmp_path / kind};\n" for kind in kinds)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n{temp_paths}    access_log off;\n"
        f"    include {tmp_path / 'site.conf'};\n    include {tmp_path / 'yunohost.conf'};\n}}\n"
    )
    command = ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", "stderr"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


# YunoHost -----------------------------------------------------------------------


def manifest() -> dict:
    return tomllib.loads((DEPLOY / "yunohost" / "manifest.toml").read_text())


def test_the_yunohost_manifest_has_what_packaging_v2_requires():
    m = manifest()
    assert m["packaging_format"] == 2 and m["id"] == "maillon" and m["name"]
    assert m["description"]["en"] and m["description"]["fr"]
    assert re.fullmatch(r"[0-9a-z.+-]+~ynh\d+", m["version"])
    assert isinstance(m["maintainers"], list)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert m["version"].split("~")[0] == project["version"] and m["upstream"]["license"] == project["license"]
    integration = m["integration"]
    for key in ("yunohost", "helpers_version", "architectures", "multi_instance", "ldap", "sso", "disk"):
        assert key in integration, key
    assert integration["ram"].keys() == {"build", "runtime"}
    install = m["install"]
    assert install["domain"]["type"] == "domain" and install["init_main_permission"]["type"] == "group"
    assert install["role"]["choices"] == list(ROLES)
    resources = m["resources"]
    main = resources["sources"]["main"]
    assert main["url"].startswith("https://") and re.fullmatch(r"[0-9a-f]{64}", main["sha256"])
    for key in ("system_user", "install_dir", "data_dir", "ports", "apt"):
        assert key in resources, key
    assert resources["permissions"]["main"]["url"] == "/"
    assert resources["permissions"]["federation"]["url"] == "/fed/v1"
    assert resources["ports"]["main"]["default"] == DEFAULT_PORT


def test_the_yunohost_scripts_exist_and_parse():
    scripts = DEPLOY / "yunohost" / "scripts"
    for name in ("install", "remove", "backup", "restore", "upgrade"):
        path = scripts / name
        assert path.stat().st_mode & stat.S_IXUSR, name
        text = path.read_text()
        assert "source /usr/share/yunohost/helpers" in text, name
        if shutil.which("bash"):
            assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0, name
    install = (scripts / "install").read_text()
    templates = {"ynh_config_add_nginx": "nginx.conf", "ynh_config_add_systemd": "systemd.service"}
    for helper, template in templates.items():
        assert helper in install and (DEPLOY / "yunohost" / "conf" / template).exists(), helper
    # The database comes back through `maillon restore` (checks, then a resync from the hub).
    assert "maillon_bin)\" restore --data" in (scripts / "restore").read_text()
    assert "maillon_bin)\" backup --data" in (scripts / "backup").read_text()
    assert tomllib.loads((DEPLOY / "yunohost" / "tests.toml").read_text())["test_format"] == 1.0


# docs ---------------------------------------------------------------------------


def test_every_deploy_file_is_explained_in_docs_deploy():
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for path in sorted(p for p in DEPLOY.rglob("*") if p.is_file()):
        relative = path.relative_to(ROOT).as_posix()
        parent = path.parent.relative_to(ROOT).as_posix() + "/"
        assert relative in doc or parent in doc, relative
