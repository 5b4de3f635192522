"""Configuration: defaults, production rules, and one clear message per bad variable."""

import inspect
import re
from dataclasses import fields
from pathlib import Path

import pytest
from cxlab import config as config_module
from cxlab.config import Config, ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_put_everything_under_the_var_dir(tmp_path):
    config = Config.from_environ({"CXLAB_VAR_DIR": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path}/cxlab.db"
    assert config.store_url == str(tmp_path / "store")
    assert config.outbox_dir == tmp_path / "outbox"
    assert config.smtp_url is None and config.webhook_url is None


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = Config.from_environ({"CXLAB_VAR_DIR": str(tmp_path)}).secret_key
    second = Config.from_environ({"CXLAB_VAR_DIR": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgresql_urls_use_the_shipped_driver(tmp_path):
    config = Config.from_environ(
        {"CXLAB_VAR_DIR": str(tmp_path), "CXLAB_DATABASE_URL": "postgresql://u:p@db:5432/cx"}
    )
    assert config.database_url == "postgresql+psycopg://u:p@db:5432/cx"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CXLAB_ENV", "staging"),
        ("CXLAB_DATABASE_URL", "not a url"),
        ("CXLAB_DATABASE_URL", "mysql://root@localhost/cx"),
        ("CXLAB_SMTP_URL", "http://mail.example.com"),
        ("CXLAB_SMTP_URL", "smtp://mail.example.com:abc"),
        ("CXLAB_WEBHOOK_URL", "hooks.slack.com/x"),
        ("CXLAB_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
        ("CXLAB_METRICS_TOKEN", "short"),
        ("CXLAB_SESSION_IDLE_MINUTES", "0"),
        ("CXLAB_SESSION_MAX_HOURS", "forever"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, variable, value):
    with pytest.raises(ConfigError, match=f"^{variable}: "):
        Config.from_environ({"CXLAB_VAR_DIR": str(tmp_path), variable: value})


@pytest.mark.parametrize("secret", [None, "short", "a" * 64])
def test_production_refuses_a_missing_or_weak_secret(tmp_path, secret):
    environ = {"CXLAB_VAR_DIR": str(tmp_path), "CXLAB_ENV": "production"}
    if secret:
        environ["CXLAB_SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="^CXLAB_SECRET_KEY: "):
        Config.from_environ(environ)
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_a_strong_secret(tmp_path):
    strong = "Zq8-vX2_mN4pL7rT1wY5sA9dF3gH6jK0"
    config = Config.from_environ(
        {"CXLAB_VAR_DIR": str(tmp_path), "CXLAB_ENV": "production", "CXLAB_SECRET_KEY": strong}
    )
    assert config.secret_key == strong


def test_security_settings_are_read_once(tmp_path):
    config = Config.from_environ({
        "CXLAB_VAR_DIR": str(tmp_path), "CXLAB_TRUSTED_PROXIES": "127.0.0.1 10.0.0.0/8",
        "CXLAB_METRICS_TOKEN": "t" * 16, "CXLAB_SESSION_IDLE_MINUTES": "30",
        "CXLAB_SESSION_MAX_HOURS": "8"})
    assert [str(n) for n in config.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert config.metrics_token == "t" * 16
    assert (config.session_idle_minutes, config.session_max_hours) == (30, 8)
    defaults = Config.from_environ({"CXLAB_VAR_DIR": str(tmp_path)})
    assert defaults.trusted_proxies == () and defaults.metrics_token is None
    assert (defaults.session_idle_minutes, defaults.session_max_hours) == (60, 12)


def test_static_dashboard_periods_are_the_dashboards_own(tmp_path):
    """The periods a sync may render as static pages are those a dashboard offers."""
    from cxlab.config import DASHBOARD_PERIODS
    from cxlab.dashboards.view import PERIODS

    assert tuple(PERIODS) == DASHBOARD_PERIODS
    defaults = Config.from_environ({"CXLAB_VAR_DIR": str(tmp_path)})
    assert defaults.dashboard_static_periods == DASHBOARD_PERIODS
    chosen = Config.from_environ({"CXLAB_VAR_DIR": str(tmp_path),
                                  "CXLAB_DASHBOARD_STATIC_PERIODS": "7d"})
    assert chosen.dashboard_static_periods == ("all", "7d")
    with pytest.raises(ConfigError, match="'14d' is not a dashboard period"):
        Config.from_environ({"CXLAB_VAR_DIR": str(tmp_path),
                             "CXLAB_DASHBOARD_STATIC_PERIODS": "all,14d"})


def test_every_config_field_is_documented_with_its_variable():
    """As datasette's test_docs: a setting added without a line in
    docs/configuration.md, or a line left for a setting that is gone, fails here."""
    documented = re.findall(r"^\| `(CXLAB_[A-Z_]+)` \|",
                            (ROOT / "docs" / "configuration.md").read_text(), re.MULTILINE)
    variables = [field.metadata.get("variable") for field in fields(Config)]
    assert None not in variables, "every Config field names its variable: setting(...)"
    assert sorted(set(variables) - set(documented)) == []  # undocumented settings
    assert sorted(set(documented) - set(variables)) == []  # documented, but no such field
    assert len(documented) == len(set(documented))


def test_from_environ_reads_exactly_the_variables_the_fields_name():
    read = set(re.findall(r'"(CXLAB_[A-Z_]+)"', inspect.getsource(Config.from_environ)))
    assert read == {field.metadata["variable"] for field in fields(Config)}


def test_no_other_module_reads_a_cxlab_variable():
    reading = re.compile(r"""(environ\.get|getenv|environ\[)\(?\s*["']CXLAB_""")
    sources = [path for folder in ("platform/cxlab", "survey_server", "scheduled")
               for path in (ROOT / folder).rglob("*.py")]
    offenders = [str(path.relative_to(ROOT)) for path in sources
                 if path.resolve() != Path(config_module.__file__).resolve()
                 and reading.search(path.read_text())]
    assert offenders == []
