"""bench-cli's pytest harness: per-test outcomes and, on request, which
functions each test executes. Loaded with `-p bench_pytest_plugin`; talks to
bench-cli only through the environment and one JSON file."""
import json
import os
import sys
import threading

import pytest

_RESULTS = os.environ.get("BENCH_RESULTS")
_SELECT = os.environ.get("BENCH_SELECT")
_COVER = os.environ.get("BENCH_COVER") == "1"
_ROOT = os.environ.get("BENCH_ROOT", os.getcwd()).rstrip("/") + "/"

_phases = {}
_covered = {}


def pytest_collection_modifyitems(session, config, items):
    if not _SELECT:
        return
    with open(_SELECT, encoding="utf-8") as f:
        wanted = set(json.load(f))
    keep = [i for i in items if i.nodeid in wanted]
    drop = [i for i in items if i.nodeid not in wanted]
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not _COVER:
        yield
        return
    seen = set()

    def profile(frame, event, arg):
        if event == "call":
            seen.add(frame.f_code)

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        funcs = set()
        for code in seen:
            name = code.co_filename
            if name.startswith(_ROOT):
                funcs.add("%s:%d" % (name[len(_ROOT):], code.co_firstlineno))
        _covered[item.nodeid] = sorted(funcs)


def pytest_runtest_logreport(report):
    phases = _phases.setdefault(report.nodeid, {})
    if hasattr(report, "wasxfail"):
        phases[report.when] = "skipped"
    elif report.failed:
        phases[report.when] = "failed"
    elif report.skipped:
        phases[report.when] = "skipped"
    else:
        phases[report.when] = "passed"


def _outcome(phases):
    values = phases.values()
    if "failed" in values:
        return "failed"
    if "skipped" in values:
        return "skipped"
    return "passed" if phases.get("call") == "passed" else "failed"


def pytest_sessionfinish(session, exitstatus):
    if not _RESULTS:
        return
    data = {
        "outcomes": {k: _outcome(v) for k, v in _phases.items()},
        "covered": _covered,
    }
    with open(_RESULTS, "w", encoding="utf-8") as f:
        json.dump(data, f, sort_keys=True)
