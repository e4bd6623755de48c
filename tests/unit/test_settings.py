import json
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from kernel.errors import ConfigurationError
from kernel.settings import Settings, ensure_local_key

pytestmark = pytest.mark.unit


def test_keys_never_appear_when_settings_are_printed(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, api_keys=json.dumps({"sk-very-secret": ["admin"]}))
    assert "sk-very-secret" not in repr(s)
    assert "sk-very-secret" not in s.model_dump_json()
    assert s.key_roles() == {"sk-very-secret": frozenset({"admin"})}


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"k": "admin"}', '{"": ["a"]}'])
def test_malformed_key_maps_are_refused(tmp_path: Path, raw: str) -> None:
    with pytest.raises((ValidationError, ConfigurationError)) as info:
        Settings(data_dir=tmp_path, api_keys=raw)
    assert "JSON object" in str(info.value)


def test_distributed_mode_refuses_to_start_without_keys(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="RAGLINE_API_KEYS"):
        Settings(data_dir=tmp_path, mode="distributed")


def test_environment_is_read_with_prefix_and_nesting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RAGLINE_LIMITS__MAX_UPLOAD_MB", "7")
    s = Settings()
    assert s.data_dir == tmp_path
    assert s.limits.max_upload_mb == 7


def test_embedded_mode_creates_one_private_local_key(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    key = ensure_local_key(s)
    assert key is not None and key.startswith("rl-")
    key_file = tmp_path / "api_keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert s.key_roles() == {key: frozenset({"admin", "public"})}
    assert ensure_local_key(s) is None  # not replaced on the next start


def test_configured_keys_suppress_the_local_key(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, api_keys=json.dumps({"k": ["a"]}))
    assert ensure_local_key(s) is None
    assert not (tmp_path / "api_keys.json").exists()


def test_log_level_is_read_validated_and_used_by_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from kernel.settings import get_settings
    from ragline import cli

    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RAGLINE_LOG_LEVEL", "debug")
    assert Settings().log_level == "DEBUG"
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, log_level="chatty")

    seen: list[str] = []

    def configure(settings: Settings | None, level: str | None = None) -> None:
        assert settings is not None  # read even when the level is given (for the format)
        seen.append((level or settings.log_level).upper())

    monkeypatch.setattr(cli, "configure_logging", configure)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        # `ask` fails to connect, but the callback has configured logging by then.
        runner.invoke(cli.app, ["ask", "q", "--key", "k", "--server", "http://127.0.0.1:9"])
        runner.invoke(
            cli.app,
            ["--log-level", "error", "ask", "q", "--key", "k", "--server", "http://127.0.0.1:9"],
        )
    finally:
        get_settings.cache_clear()
    assert seen == ["DEBUG", "ERROR"]


def test_embedding_backend_and_onnx_dir_are_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = Settings(data_dir=tmp_path)
    assert (s.models.embedding_backend, s.models.onnx_dir) == ("auto", None)
    monkeypatch.setenv("RAGLINE_MODELS__EMBEDDING_BACKEND", "onnx")
    monkeypatch.setenv("RAGLINE_MODELS__ONNX_DIR", str(tmp_path / "onnx"))
    s = Settings(data_dir=tmp_path)
    assert (s.models.embedding_backend, s.models.onnx_dir) == ("onnx", tmp_path / "onnx")
    with pytest.raises(ValidationError, match="embedding_backend"):
        Settings(data_dir=tmp_path, models={"embedding_backend": "gpu"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="must be an absolute path"):
        Settings(data_dir=tmp_path, models={"onnx_dir": "relative/onnx"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cpus", "threads"), [(1, 1), (2, 1), (3, 1), (4, 2), (8, 4), (16, 8), (64, 8)]
)
def test_ingestion_threads_are_half_the_cpus_from_one_to_eight(cpus: int, threads: int) -> None:
    from kernel.settings import lane_threads

    assert lane_threads(cpus) == threads


def test_the_default_lane_threads_follow_this_machine_and_a_setting_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kernel.settings import lane_threads, usable_cpus

    assert Settings(data_dir=tmp_path).workers.general_threads == lane_threads(usable_cpus())
    monkeypatch.setenv("RAGLINE_WORKERS__GENERAL_THREADS", "3")
    assert Settings(data_dir=tmp_path).workers.general_threads == 3
