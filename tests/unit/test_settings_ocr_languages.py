"""RAGLINE_INGEST__OCR_LANGUAGES: a JSON list of tesseract pack names, never empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ingest.parsing.ocr_languages import debian_package
from kernel.settings import IngestSettings, Settings

pytestmark = pytest.mark.unit


def test_english_is_the_default(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).ingest.ocr_languages == ["eng"]


def test_the_languages_are_read_from_the_environment_as_a_json_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RAGLINE_INGEST__OCR_LANGUAGES", '["eng", "rus", "chi_sim"]')
    assert Settings().ingest.ocr_languages == ["eng", "rus", "chi_sim"]


def test_a_language_named_twice_is_kept_once_in_order() -> None:
    assert IngestSettings(ocr_languages=["rus", "eng", "rus"]).ocr_languages == ["rus", "eng"]


@pytest.mark.parametrize(
    "codes",
    [["en"], ["English"], ["ENG"], ["eng+rus"], ["eng", ""], ["chi-sim"], ["../x"], ["rus_"]],
)
def test_codes_not_of_tesseracts_form_are_refused(codes: list[str]) -> None:
    with pytest.raises(ValidationError, match="tesseract codes such as eng"):
        IngestSettings(ocr_languages=codes)


def test_an_empty_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        IngestSettings(ocr_languages=[])
    monkeypatch.setenv("RAGLINE_INGEST__OCR_LANGUAGES", "[]")
    with pytest.raises(ValidationError, match="ocr_languages"):
        Settings()


@pytest.mark.parametrize(
    ("code", "package"),
    [("rus", "tesseract-ocr-rus"), ("chi_sim", "tesseract-ocr-chi-sim"),
     ("deu_latf", "tesseract-ocr-deu-latf")],
)  # fmt: skip
def test_each_pack_is_named_by_its_debian_package(code: str, package: str) -> None:
    assert debian_package(code) == package
