"""The fault switches: `RECONCILER_FAULTS` and the options of `reconciler local serve`."""

from __future__ import annotations

import pytest
from tests.cli_runner import CliRunner

import reconciler.local
from reconciler.cli import app
from reconciler.local.faults import Faults, faults_from_env, parse_faults


def test_parse_the_documented_example():
    f = parse_faults("latency=50-200ms,429=0.3,5xx=0.05,529=0.02,drop=0.01,commit503=0.02,retry_after=1,seed=7")
    assert f == Faults(latency_ms=(50, 200), rate_429=0.3, rate_5xx=0.05, rate_529=0.02, drop=0.01,
                       commit_503=0.02, retry_after=1, seed=7)
    assert f.active
    assert parse_faults("latency=30ms").latency_ms == (30, 30)
    assert parse_faults("latency=0.1s,blocked=0.5,409=0.1").latency_ms == (100, 100)
    assert faults_from_env({}) is None and faults_from_env({"RECONCILER_FAULTS": " "}) is None
    assert not Faults().active


@pytest.mark.parametrize("spec", ["nonsense=1", "429", "429=1.5", "429=0.6,5xx=0.6", "latency=200-50ms"])
def test_bad_specs_are_refused(spec):
    with pytest.raises(ValueError):
        parse_faults(spec)


def test_local_serve_takes_fault_options_over_the_environment(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(reconciler.local, "serve", lambda root, host, port, faults, token=None: seen.update(faults=faults, token=token))
    monkeypatch.setenv("RECONCILER_FAULTS", "latency=5ms,429=0.5,seed=1")
    result = CliRunner().invoke(app, ["local", "serve", "--dir", str(tmp_path), "--rate-429", "0.2",
                                      "--rate-5xx", "0.1", "--drop", "0.05", "--commit-503", "0.01",
                                      "--latency", "10-20ms", "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert seen["faults"] == Faults(latency_ms=(10, 20), rate_429=0.2, rate_5xx=0.1, drop=0.05,
                                    commit_503=0.01, seed=9)


def test_local_serve_without_faults(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(reconciler.local, "serve", lambda root, host, port, faults, token=None: seen.update(faults=faults, token=token))
    monkeypatch.delenv("RECONCILER_FAULTS", raising=False)
    result = CliRunner().invoke(app, ["local", "serve", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert seen["faults"] is None


def test_local_serve_refuses_bad_faults(tmp_path, monkeypatch):
    monkeypatch.setattr(reconciler.local, "serve", lambda *a, **k: None)
    result = CliRunner().invoke(app, ["local", "serve", "--dir", str(tmp_path), "--rate-429", "3"])
    assert result.exit_code == 1
