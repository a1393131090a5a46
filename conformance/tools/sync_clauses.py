"""Regenerate bbrl_conformance/_clauses.json from spec/*.md (or check it is in sync).

Usage, from the repository root:
    python conformance/tools/sync_clauses.py           # rewrite the registry
    python conformance/tools/sync_clauses.py --check   # exit 1 if it is out of sync
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bbrl_conformance._clauses import REGISTRY_FILE, dump_registry, parse_spec_dir

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "spec"
REGISTRY = ROOT / "conformance" / "bbrl_conformance" / REGISTRY_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, do not write")
    args = parser.parse_args(argv)
    clauses = parse_spec_dir(SPEC_DIR)
    expected = dump_registry(clauses)
    current = REGISTRY.read_text(encoding="utf-8") if REGISTRY.is_file() else ""
    if args.check:
        if current != expected:
            print(f"{REGISTRY} is out of sync with {SPEC_DIR}: run {sys.argv[0]}")
            return 1
        return 0
    REGISTRY.write_text(expected, encoding="utf-8")
    print(f"wrote {len(clauses)} clauses to {REGISTRY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
