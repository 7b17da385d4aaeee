import os
import pathlib

import pytest

from premortem.config import Config
from premortem.engine import ScanOptions, scan

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"


def run_scan(path, select=None, config=None, **kw):
    path = str(path)
    root = path if os.path.isdir(path) else os.path.dirname(path)
    own = os.path.join(root, ".premortem.yaml")
    if config is None and os.path.isfile(own):  # the scanned directory's config, as the CLI finds it
        from premortem.config import load_config
        from premortem.rules.registry import load_rules

        config = load_config(own, load_rules())
    return scan([path], root, config or Config(), ScanOptions(select=list(select or []), **kw))


@pytest.fixture
def scan_dir():
    return run_scan


def shared_or_skip(*parts):
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not present (../shared is only in CI and developer checkouts)")
    return p
