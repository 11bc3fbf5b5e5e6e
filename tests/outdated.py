"""Fail when a dependency of benchbase-suite is not at its newest release (tox env "newest").

    python tests/outdated.py --extras test,ae --pinned torch

Checks the distribution's own requirements (with those extras), not what they
pull in: a dependency may hold one of its own back.
"""

import argparse
import importlib.metadata
import json
import subprocess
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def direct_dependencies(extras: list[str]) -> set[str]:
    names = set()
    for line in importlib.metadata.requires("benchbase-suite") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras):
            names.add(canonicalize_name(requirement.name))
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="", help="comma-separated extras installed")
    parser.add_argument("--pinned", action="append", default=[],
                        help="a dependency pinned on purpose (repeatable)")
    args = parser.parse_args()
    wanted = direct_dependencies(list(filter(None, args.extras.split(","))))
    wanted -= {canonicalize_name(name) for name in args.pinned}
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--outdated", "--format", "json"],
        capture_output=True, text=True, check=True).stdout
    behind = [f"{p['name']} {p['version']} (newest {p['latest_version']})"
              for p in json.loads(listing) if canonicalize_name(p["name"]) in wanted]
    if behind:
        print("not at their newest release:", ", ".join(behind), file=sys.stderr)
        return 1
    print(f"all {len(wanted)} dependencies are at their newest release:",
          ", ".join(sorted(wanted)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
