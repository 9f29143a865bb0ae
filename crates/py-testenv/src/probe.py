"""Describes the interpreter the tests run under: its version, the paths the
sandbox must show (its prefixes' bin and lib, and sys.path), the installed
distributions (for the fingerprint), and which of the project's own top-level
packages (argv[1:]) the environment could import without the snapshot."""
import json
import os
import sys
from importlib import metadata, util

packages = sorted(
    {"%s==%s" % (d.metadata["Name"], d.version) for d in metadata.distributions() if d.metadata["Name"]},
    key=str.lower,
)
paths = {os.path.dirname(os.path.realpath(sys.executable)), os.path.dirname(os.path.abspath(sys.executable))}
for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
    for part in ("bin", "lib", "lib64", "pyvenv.cfg"):
        paths.add(os.path.join(prefix, part))
paths.update(p for p in sys.path if p)
providers = metadata.packages_distributions()
installed = {}
for name in sys.argv[1:]:
    try:
        spec = util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        where = spec.origin or ", ".join(spec.submodule_search_locations or [])
        dists = providers.get(name) or ["(no distribution: %s)" % where]
        installed[name] = dists[0]
print(
    json.dumps(
        {
            "version": sys.version,
            "packages": packages,
            "paths": sorted(p for p in paths if os.path.exists(p)),
            "installed": installed,
        }
    )
)
