"""Where the project's bundled data lives (schemas/ and seeds/ beside the packages)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
SEEDS_DIR = PROJECT_ROOT / "seeds"
