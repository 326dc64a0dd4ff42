"""Where the bundled data lives: schemas/ and seeds/, found through their packages so that the same
code works from a checkout (editable install) and from an installed wheel."""

from pathlib import Path

import newswatch.schemas
import newswatch.seeds

SCHEMAS_DIR = Path(newswatch.schemas.__file__).resolve().parent
SEEDS_DIR = Path(newswatch.seeds.__file__).resolve().parent
DEMO_FEEDS_DIR = SEEDS_DIR / "demo" / "feeds"  # the only local feed files allowed by default
# The checkout's root (benchmarks, infra/ scripts); in an installed wheel it is site-packages' parent
# and only the bundled data above is used.
PROJECT_ROOT = SEEDS_DIR.parent
