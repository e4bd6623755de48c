"""OCR languages from the operator's setting, through the runtime's parser, to tesseract.

A Russian page drawn here with Pillow in DejaVu Sans is read by the real parser child
with the setting ``["eng", "rus"]`` (the ``rus`` pack is installed by
scripts/bootstrap.sh), and not with English alone; a language whose pack is not
installed stops the runtime at start-up, naming the Debian package.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.parsing import IsolatedParser, UnstructuredParser
from ingest.parsing.ocr_languages import require_ocr_languages
from kernel.errors import ConfigurationError
from kernel.settings import IngestSettings, Settings
from ragline.runtime import open_parser, open_runtime

pytestmark = pytest.mark.service

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CONTRACT = [
    "Договор поставки оборудования",
    "Покупатель оплачивает счёт в течение",
    "тридцати дней после получения товара.",
    "Invoice 4471",
]
#: Words tesseract reads exactly with the Russian pack (and never with English alone).
RUSSIAN_WORDS = ["Договор", "поставки", "оборудования", "Покупатель", "товара"]


def installed_packs() -> set[str]:
    listing = subprocess.run(
        ["tesseract", "--list-langs"], capture_output=True, text=True, check=True
    ).stdout
    return {line.strip() for line in listing.splitlines()[1:]}


@pytest.fixture(scope="module")
def russian_parser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IsolatedParser]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("ocr-languages"),
        ingest=IngestSettings(ocr_languages=["eng", "rus"]),
    )
    parser = open_parser(settings)
    parser.start()
    yield parser
    parser.close()


def russian_page(size: tuple[int, int] = (1400, 340)) -> Image.Image:
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 44)
    for index, line in enumerate(CONTRACT):
        draw.text((30, 30 + 70 * index), line, fill=0, font=font)
    return page


def words(text: str) -> list[str]:
    return text.replace(".", " ").split()


def test_the_rus_pack_is_installed_and_fra_is_not() -> None:
    # The tests below rely on both: bootstrap installs rus; fra stands for a missing pack.
    assert shutil.which("tesseract")
    packs = installed_packs()
    assert {"eng", "rus"} <= packs
    assert "fra" not in packs


def test_a_russian_picture_is_read_with_the_configured_russian_pack(
    russian_parser: IsolatedParser, tmp_path: Path
) -> None:
    source = tmp_path / "contract.png"
    russian_page().save(source, "PNG", dpi=(300, 300))
    document = russian_parser.parse(source)
    assert document.format == "png"
    read = words(document.text)
    for word in RUSSIAN_WORDS:
        assert word in read
    assert "4471" in read  # English and digits still read alongside


def test_a_russian_picture_is_not_read_as_russian_with_english_only(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    # The session's parser has the default setting, ["eng"].
    source = tmp_path / "contract.png"
    russian_page().save(source, "PNG", dpi=(300, 300))
    text = parser.parse(source).text
    assert not any(word in words(text) for word in RUSSIAN_WORDS)
    assert not any("а" <= letter <= "я" for letter in text.lower())  # no Cyrillic at all
    assert "4471" in words(text)


def test_a_scanned_russian_pdf_page_is_read_with_the_configured_russian_pack(
    russian_parser: IsolatedParser, tmp_path: Path
) -> None:
    # A page that is only a picture: no text layer, so every word comes from OCR.
    source = tmp_path / "scan.pdf"
    russian_page((1700, 2200)).convert("RGB").save(source, "PDF", resolution=200)
    document = russian_parser.parse(source)
    assert document.format == "pdf"
    assert {e.metadata.get("source") for e in document.elements} == {"ocr"}
    read = words(document.text)
    for word in RUSSIAN_WORDS:
        assert word in read


def test_a_pack_that_is_not_installed_stops_the_runtime_naming_the_package(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, ingest=IngestSettings(ocr_languages=["eng", "fra"]))
    with pytest.raises(ConfigurationError) as info:
        open_runtime(settings)
    message = info.value.message
    assert "tesseract-ocr-fra" in message
    assert "RAGLINE_INGEST__OCR_LANGUAGES" in message
    assert "tesseract-ocr-eng" not in message  # only what is missing is named
    assert not (tmp_path / "registry.db").exists()  # refused before anything was opened


def test_a_missing_pack_refuses_each_parser_before_any_child_starts(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="tesseract-ocr-chi-sim, tesseract-ocr-fra"):
        IsolatedParser(
            timeout_s=60,
            memory_mb=3072,
            max_bytes=1_000_000,
            scratch_dir=tmp_path / "scratch",
            ocr_languages=("rus", "chi_sim", "fra"),
        )
    with pytest.raises(ConfigurationError, match="tesseract-ocr-fra"):
        UnstructuredParser(max_bytes=1_000_000, ocr_languages=["fra"])
    # With OCR off the languages are never used, so nothing is required of them.
    UnstructuredParser(max_bytes=1_000_000, ocr=False, ocr_languages=["fra"])


def test_no_language_at_all_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least one"):
        require_ocr_languages([])
