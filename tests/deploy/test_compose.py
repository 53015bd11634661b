"""The container files agree with the native stack and with the Compose specification.

No Docker engine runs here or in CI, so nothing is built or started: docker-compose.yml is checked against the
Compose specification by dclint and the Dockerfile by dockerfile-utils (both from package.json), and the rest
is read as data and compared with the Procfile, as bin/stack reads it, and with .env.example.
"""

import importlib.machinery
import importlib.util
import json
import operator
import re
import subprocess
from functools import cache, reduce
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.browser.accessibility import missing_tool

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
NODE_TOOLS = ROOT / "node_modules" / ".bin"

BACKING_SERVICES = {"db", "redis"}
# The Procfile's release step runs in the service named migrate; its other processes keep their names.
SERVICE_OF_PROCESS = {"release": "migrate", "web": "web", "worker": "worker", "beat": "beat"}
SITE_SERVICES = set(SERVICE_OF_PROCESS.values())
ONE_SHOT_SERVICES = {"migrate"}
HEALTH_CHECKED_PROCESSES = ["web", "worker", "beat"]

# `${NAME}`, `${NAME:-default}`, `${NAME:?error}` and `$NAME`; `$$` is a literal dollar sign.
INTERPOLATION = re.compile(r"\$\$|\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@cache
def compose() -> dict:
    """docker-compose.yml as Compose reads it, the `<<` merges of its extension fields done."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def services() -> dict[str, dict]:
    return compose()["services"]


@cache
def stack() -> ModuleType:
    """bin/stack, the native stack, as a module: its own reading of the Procfile is the one compared."""
    loader = importlib.machinery.SourceFileLoader("stack", str(ROOT / "bin" / "stack"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("stack", loader))
    loader.exec_module(module)
    return module


def procfile() -> dict[str, list[str]]:
    return stack().read_procfile(ROOT / "Procfile")


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions in order, as (INSTRUCTION, arguments), continuation lines joined."""
    instructions = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _space, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
    return instructions


def documented_variables() -> list[str]:
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.MULTILINE)


def strings_in(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.items() for part in item for text in strings_in(part)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return [value] if isinstance(value, str) else []


def lint(tool: str, *arguments: str | Path) -> list:
    """A linter's JSON report; the linters come from package.json (`npm ci`), and the test stops without them."""
    path = NODE_TOOLS / tool
    if not path.is_file():
        missing_tool(
            f"{tool} is missing ({path}): run `npm ci --no-audit --no-fund` at the repository root "
            "(Node.js and npm on Debian: apt-get install -y nodejs npm)."
        )
    # From the repository, whatever the file's folder: dclint looks for its configuration from there.
    result = subprocess.run([path, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60)
    # Both exit 1 when they find something; a report that is not there means the tool itself failed.
    assert result.stdout.strip(), f"{tool} printed no report (exit status {result.returncode}): {result.stderr}"
    return json.loads(result.stdout)


def dclint(path: Path) -> list[dict]:
    """dclint's findings on a compose file, warnings included."""
    return [
        message
        for report in lint("dclint", "--formatter", "json", "--no-color", path)
        for message in report["messages"]
    ]


def dockerfile_lint(path: Path) -> list[dict]:
    """dockerfile-utils' findings on a Dockerfile, warnings included."""
    return lint("dockerfile-utils", "lint", "--json", path)


def test_compose_has_the_procfile_processes_and_their_backing_services() -> None:
    assert set(procfile()) == set(SERVICE_OF_PROCESS)
    assert set(services()) == SITE_SERVICES | BACKING_SERVICES


@pytest.mark.parametrize("process", SERVICE_OF_PROCESS)
def test_each_service_runs_its_procfile_command(process: str) -> None:
    assert services()[SERVICE_OF_PROCESS[process]]["command"] == procfile()[process]


def test_the_image_runs_the_web_command_by_default() -> None:
    commands = [arguments for keyword, arguments in dockerfile() if keyword == "CMD"]
    assert len(commands) == 1
    # Exec form (a JSON array), so that gunicorn is PID 1 and receives `docker stop`'s SIGTERM.
    assert json.loads(commands[0]) == procfile()["web"]


def test_the_image_is_python_slim_and_runs_as_a_user_other_than_root() -> None:
    instructions = dockerfile()
    keywords = [keyword for keyword, _arguments in instructions]
    base_image = next(arguments for keyword, arguments in instructions if keyword == "FROM").split()[0]
    assert base_image.startswith("python:3.11-slim")
    users = [(index, arguments) for index, (keyword, arguments) in enumerate(instructions) if keyword == "USER"]
    assert users, "The Dockerfile never leaves root."
    index, user = users[-1]
    assert index < keywords.index("CMD")
    assert user.partition(":")[0] not in ("root", "0")


def test_the_image_collects_static_files_at_build() -> None:
    assert any("manage.py collectstatic" in arguments for keyword, arguments in dockerfile() if keyword == "RUN")


def test_the_env_file_stays_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored or ".env*" in ignored


def test_long_running_services_have_a_health_check_and_restart() -> None:
    for name, service in services().items():
        if name in ONE_SHOT_SERVICES:
            assert service["restart"] == "no", name
            assert "healthcheck" not in service, name
        else:
            assert service["healthcheck"]["test"], name
            assert service["restart"] == "unless-stopped", name


@pytest.mark.parametrize("process", HEALTH_CHECKED_PROCESSES)
def test_site_processes_are_checked_by_the_healthcheck_command(process: str) -> None:
    assert services()[process]["healthcheck"]["test"] == ["CMD", "python", "manage.py", "healthcheck", process]


@pytest.mark.parametrize("name", sorted(SITE_SERVICES))
def test_site_services_wait_for_healthy_backing_services_and_the_migrations(name: str) -> None:
    expected = {backing: {"condition": "service_healthy"} for backing in BACKING_SERVICES}
    if name not in ONE_SHOT_SERVICES:
        expected["migrate"] = {"condition": "service_completed_successfully"}
    assert services()[name]["depends_on"] == expected


def test_every_variable_compose_uses_or_sets_is_documented() -> None:
    interpolated = {match for text in strings_in(compose()) for match in INTERPOLATION.findall(text) if match}
    site_environment = {variable for name in SITE_SERVICES for variable in services()[name].get("environment", {})}
    # The pattern finds what is surely there, so that the comparison below cannot pass by finding nothing.
    assert interpolated >= {"POSTGRES_PASSWORD", "WEB_PORT"}
    assert sorted((interpolated | site_environment) - set(documented_variables())) == []


def test_each_variable_is_documented_once() -> None:
    variables = documented_variables()
    assert sorted({variable for variable in variables if variables.count(variable) > 1}) == []


def test_dclint_finds_nothing_in_the_compose_file() -> None:
    assert dclint(COMPOSE_FILE) == []


# Each breaks a copy of the compose file in one place; dclint must report that place, so that the test above
# cannot pass by running a linter that checks nothing. The copy is written back without the file's anchors,
# so dclint's style rules also speak about it: only the breakage's own report is looked for.
@pytest.mark.parametrize(
    ("keys", "value", "rule", "where"),
    [
        # `restart_policy` belongs under `deploy`: a service itself has no such key in the specification.
        pytest.param(
            ["services", "web", "restart_policy"],
            "always",
            "invalid-schema",
            'instancePath="/services/web"',
            id="unknown-key",
        ),
        pytest.param(
            ["services", "web", "depends_on", "migrate", "condition"],
            "service_finished",
            "invalid-schema",
            'instancePath="/services/web/depends_on"',
            id="unknown-depends-on-condition",
        ),
        pytest.param(
            ["services", "db", "image"], "postgres", "service-image-require-explicit-tag", '"db"', id="untagged-image"
        ),
    ],
)
def test_dclint_reports_a_broken_compose_file(
    tmp_path: Path, keys: list[str], value: str, rule: str, where: str
) -> None:
    # A deep copy that shares nothing: the services' merged parts are shared objects, which the YAML writer
    # would turn back into anchors, and which a change to one service would change in all.
    broken = json.loads(json.dumps(compose()))
    *parents, key = keys
    reduce(operator.getitem, parents, broken)[key] = value
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(yaml.safe_dump(broken, sort_keys=False), encoding="utf-8")
    reported = [message for message in dclint(copy) if message["rule"] == rule]
    assert any(message["type"] == "error" and where in message["message"] for message in reported), reported


def test_dockerfile_utils_finds_nothing_in_the_dockerfile() -> None:
    assert dockerfile_lint(DOCKERFILE) == []


@pytest.mark.parametrize(
    ("line", "error"),
    [
        pytest.param("COPPY . .", "Unknown instruction: COPPY", id="unknown-instruction"),
        pytest.param("EXPOSE 80a", "Invalid containerPort: 80a", id="invalid-port"),
    ],
)
def test_dockerfile_utils_reports_a_broken_dockerfile(tmp_path: Path, line: str, error: str) -> None:
    copy = tmp_path / "Dockerfile"
    copy.write_text(DOCKERFILE.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    assert error in [finding["message"] for finding in dockerfile_lint(copy)]
