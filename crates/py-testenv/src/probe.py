"""Describes the interpreter the tests run under: its version, the paths the
sandbox must mount, and the installed distributions (for the fingerprint)."""
import json
import os
import sys
from importlib import metadata

packages = sorted(
    {"%s==%s" % (d.metadata["Name"], d.version) for d in metadata.distributions() if d.metadata["Name"]},
    key=str.lower,
)
paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
paths.update(p for p in sys.path if p and os.path.isdir(p))
print(json.dumps({"version": sys.version, "packages": packages, "paths": sorted(paths)}))
