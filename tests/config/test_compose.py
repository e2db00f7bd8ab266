"""The production deployment files: compose.yml, the Dockerfile and .env.example, checked without a Docker
engine (``docker compose config`` too, where the compose CLI is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
COMPOSE_FILE = BASE_DIR / "compose.yml"
ENV_EXAMPLE = BASE_DIR / ".env.example"
SERVICES = {"postgres", "redis", "minio", "minio-init", "migrate", "web", "worker", "beat"}
ARGUS_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING_WITH_HEALTHCHECK = ("postgres", "redis", "minio", "web", "worker")
# ${NAME}, ${NAME:-default}, ${NAME:?error}; not $${NAME}, which compose leaves to the container's shell.
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?+-][^}]*)?\}")
_SETTING_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def documented() -> set[str]:
    """Variables .env.example lists (``NAME=value`` lines)."""
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))


def test_every_required_service_is_there(services):
    assert set(services) >= SERVICES


@pytest.mark.parametrize("name", LONG_RUNNING_WITH_HEALTHCHECK)
def test_long_running_services_have_a_health_check(services, name):
    assert services[name]["healthcheck"]["test"]


def test_postgres_has_pgvector(services):
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")


def test_postgres_is_checked_with_pg_isready(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_redis_is_checked_with_a_ping(services):
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_web_is_checked_on_001s_readiness_probe(services):
    assert "/health/ready" in " ".join(services["web"]["healthcheck"]["test"])


@pytest.mark.parametrize(
    ("service", "mount"), [("postgres", "/var/lib/postgresql/data"), ("redis", "/data"), ("minio", "/data")]
)
def test_stateful_services_keep_their_data_in_named_volumes(compose, services, service, mount):
    volumes = services[service]["volumes"]
    named = [entry.split(":")[0] for entry in volumes if entry.split(":")[1] == mount]
    assert named, f"{service} has no volume at {mount}"
    assert named[0] in compose["volumes"]


def test_minio_init_creates_the_bucket_once_minio_is_healthy(services):
    init = services["minio-init"]
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing" in " ".join(init["command"])


def test_migrate_waits_for_a_healthy_database(services):
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "migrate" in " ".join(services["migrate"]["command"])
    assert services["migrate"]["restart"] == "no"


@pytest.mark.parametrize("name", ("web", "worker", "beat"))
def test_argus_services_start_after_migrations_succeed(services, name):
    assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services[name]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"


def test_web_serves_asgi_with_the_web_tier(services):
    assert services["web"]["command"][:3] == ["python", "-m", "config.webtier"]
    assert "config.asgi:application" in services["web"]["command"]


def test_worker_and_beat_run_celery(services):
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


@pytest.mark.parametrize("name", ARGUS_SERVICES)
def test_argus_services_share_the_anchor(services, name):
    service = services[name]
    assert service["env_file"] == ".env"
    assert {
        "DATABASE_URL",
        "REDIS_URL",
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PROMETHEUS_MULTIPROC_DIR",
    } <= set(service["environment"])
    assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
    assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_every_argus_process_shares_the_metrics_directory(services):
    for name in ARGUS_SERVICES:
        directory = services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert f"metrics:{directory}" in services[name]["volumes"]


def test_every_variable_compose_interpolates_is_documented(documented):
    referenced = set(_INTERPOLATION.findall(COMPOSE_FILE.read_text()))

    assert referenced, "compose.yml interpolates nothing?"
    assert referenced - documented == set()


def test_every_variable_compose_sets_for_argus_is_documented(services, documented):
    for name in ARGUS_SERVICES:
        assert set(services[name]["environment"]) - documented == set(), name


def test_every_setting_read_from_the_environment_is_documented(documented):
    read = set(_SETTING_READ.findall((BASE_DIR / "config" / "settings.py").read_text()))

    assert {"DJANGO_SECRET_KEY", "ARGUS_CORS_ALLOWED_ORIGINS", "ARGUS_METRICS_TOKEN"} <= read  # the regex works
    assert read - documented == set()


def test_the_image_runs_as_a_non_root_user():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()

    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_the_image_collects_static_files_and_serves_with_the_web_tier():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()

    assert "pip install -r requirements/base.txt" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert re.search(
        r'^CMD \["python", "-m", "config\.webtier".*"config\.asgi:application"\]', dockerfile, flags=re.MULTILINE
    )


def test_the_build_context_leaves_out_local_state():
    ignored = (BASE_DIR / ".dockerignore").read_text().split()

    assert {".git", ".venv", ".env", "var"} <= set(ignored)


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if not docker:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_accepts_the_file(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("the docker compose CLI plugin is not installed here")
    # `config` needs no engine; it reads .env from the project directory, as a deployment would.
    shutil.copy(COMPOSE_FILE, tmp_path / "compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")

    result = subprocess.run(
        [*cli, "-f", "compose.yml", "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr


def test_vision_workers_run_as_their_own_service(services):
    assert services["vision"]["command"][-2:] == ["manage.py", "run_vision"]
