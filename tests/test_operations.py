"""The operations guide and .env.example keep up with the code: every variable it reads is documented in
both, and a copy of .env.example, filled in as the guide says, passes Django's deployment checks."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where the code reads the environment, and how.
READERS = {
    "opengov/settings.py": r'\benv(?:\.\w+|_or)\(\s*"([A-Z][A-Z0-9_]+)"',
    "gunicorn.conf.py": r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"',
    "opengov/management/commands/healthcheck.py": r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"',
    "bin/stack": r'os\.environ\.get\("((?!PATH")[A-Z][A-Z0-9_]+)"',
}


def read_variables() -> set[str]:
    found = set()
    for name, pattern in READERS.items():
        found |= set(re.findall(pattern, (ROOT / name).read_text()))
    return found


def test_the_readers_are_found() -> None:
    # The patterns above must keep finding what they look for, or the tests below would pass on nothing.
    variables = read_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "STATIC_ROOT", "WEB_CONCURRENCY", "WEB_BIND", "LOG_FORMAT"} <= variables


def test_every_variable_is_in_env_example_and_the_operations_guide() -> None:
    example = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    guide = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "docs" / "operations.md").read_text()))

    variables = read_variables()
    assert sorted(variables - example) == []
    assert sorted(variables - guide) == []


def test_a_filled_in_copy_of_env_example_passes_the_deployment_checks(tmp_path: Path) -> None:
    filled = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "opengov.example.gouv.fr",
        "SITE_URL": "https://opengov.example.gouv.fr",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TRUSTED_PROXY_COUNT": "1",
    }
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={filled[name]}" if name in filled else line)
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n")
    # Only the file speaks: none of the test run's own variables.
    bare = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "ENV_FILE": str(env_file)}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
