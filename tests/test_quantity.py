"""Kubernetes quantities as the API server reads them."""
import pytest

from premortem.k8s.quantity import cpu_millicores, format_bytes, is_milli_memory, memory_bytes, parse_quantity


@pytest.mark.parametrize("text, expected", [
    ("512Mi", 512 * 2 ** 20), ("2Gi", 2 * 2 ** 30), ("1.5Gi", 3 * 2 ** 29), ("300Ki", 300 * 1024),
    ("1Ti", 2 ** 40), ("129M", 129_000_000), ("1G", 10 ** 9), ("128k", 128_000), ("1e9", 10 ** 9),
    ("5E2", 500), (" 64Mi ", 64 * 2 ** 20), (536870912, 536870912), (1.5, 2),
    ("512m", 1),  # milli-bytes, rounded up like the API server
])
def test_memory_bytes(text, expected):
    assert memory_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "Mi", "512 Mi", "512MB", "2gi", "{{ .Values.mem }}", None, True, [1], "-1Gi", "1e99"])
def test_not_quantities_are_none_never_guessed(text):
    assert memory_bytes(text) is None


@pytest.mark.parametrize("text, expected", [("250m", 250), ("1", 1000), ("1.5", 1500), ("0.1", 100), (2, 2000),
                                            ("100u", 1), ("2k", 2_000_000)])
def test_cpu_millicores(text, expected):
    assert cpu_millicores(text) == expected


def test_parse_quantity_keeps_precision():
    assert parse_quantity("0.5Gi") == 2 ** 29
    assert parse_quantity("100m") * 10 == 1  # exact decimal, no float drift


def test_milli_memory_is_recognised():
    assert is_milli_memory("512m") and is_milli_memory(" 1536m")
    assert not is_milli_memory("512Mi") and not is_milli_memory("512M") and not is_milli_memory(512)


@pytest.mark.parametrize("n, text", [(512 * 2 ** 20, "512Mi"), (2 * 2 ** 30, "2Gi"), (3 * 2 ** 29, "1.5Gi"),
                                     (10 ** 9, "953.67Mi"), (300 * 1024, "300Ki"), (12, "12B"), (2 ** 40, "1Ti")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text
