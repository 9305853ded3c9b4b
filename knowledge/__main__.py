"""Command line: ``python -m knowledge {import,validate,search,build-index}``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_import = sub.add_parser("import", help="import the official export into knowledge/catalogue/")
    p_import.add_argument("source", help="path to the hunan-onething data folder")
    p_import.add_argument("--out", default=None, help="output folder (default: knowledge/catalogue)")

    sub.add_parser("validate", help="check the catalogue against the schema")

    p_search = sub.add_parser("search", help="search the catalogue")
    p_search.add_argument("query")
    p_search.add_argument("-k", type=int, default=5)

    sub.add_parser("build-index", help="build (or reuse) the cached search index")

    args = parser.parse_args(argv)
    if args.command == "import":
        from knowledge.importer import run_import

        return run_import(args.source, args.out)
    if args.command == "validate":
        from knowledge.validate import run_validate

        return run_validate()
    if args.command == "search":
        from knowledge.search.cli import run_search

        return run_search(args.query, args.k)
    if args.command == "build-index":
        from knowledge.search.cli import run_build_index

        return run_build_index()
    return 2


if __name__ == "__main__":
    sys.exit(main())
