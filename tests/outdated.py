"""Fail when a dependency of benchbase-suite is not at its newest release (tox env "newest").

    python tests/outdated.py --extras test,ae --pinned torch

Checks the distribution's own requirements (with those extras), not what they
pull in: a dependency may hold one of its own back. A newest release that pip
cannot install beside the others (dask 2026.11.0 before distributed 2026.11.0 is
published, while we require dask[distributed]) is reported as held back, not as
a failure: no upgrade could reach it.
"""

import argparse
import importlib.metadata
import json
import subprocess
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def direct_requirements(extras: list[str]) -> dict[str, Requirement]:
    """Our requirements that apply here, by canonical name, markers dropped."""
    wanted = {}
    for line in importlib.metadata.requires("benchbase-suite") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra})
                                 for extra in extras or [""]):
            requirement.marker = None
            wanted[canonicalize_name(requirement.name)] = requirement
    return wanted


def installable(name: str, version: str, requirements: list[Requirement]) -> str | None:
    """None when pip resolves name==version beside all our requirements, else why not."""
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
         *map(str, requirements), f"{name}=={version}"],
        capture_output=True, text=True)
    if probe.returncode == 0:
        return None
    errors = [line for line in probe.stderr.splitlines()
              if line.startswith("ERROR") and "yanked" not in line]
    if any("conflicting dependencies" in line for line in errors):
        return "pip: it conflicts with the other requirements' newest installable releases"
    return errors[0][:200] if errors else f"pip exit {probe.returncode}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="", help="comma-separated extras installed")
    parser.add_argument("--pinned", action="append", default=[],
                        help="a dependency pinned on purpose (repeatable)")
    args = parser.parse_args()
    requirements = direct_requirements(list(filter(None, args.extras.split(","))))
    wanted = set(requirements) - {canonicalize_name(name) for name in args.pinned}
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--outdated", "--format", "json"],
        capture_output=True, text=True, check=True).stdout
    behind = []
    for package in json.loads(listing):
        if canonicalize_name(package["name"]) not in wanted:
            continue
        newest = f"{package['name']} {package['version']} (newest {package['latest_version']})"
        why_not = installable(package["name"], package["latest_version"],
                              list(requirements.values()))
        if why_not:
            print(f"held back: {newest}; {why_not}", file=sys.stderr)
        else:
            behind.append(newest)
    if behind:
        print("not at their newest release:", ", ".join(behind), file=sys.stderr)
        return 1
    print(f"all {len(wanted)} dependencies are at their newest installable release:",
          ", ".join(sorted(wanted)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
