"""Command line: ``python -m knowledge {import,validate,search,build-index,checklist}``."""

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

    p_check = sub.add_parser("checklist", help="print a personal materials checklist (two codes: merged)")
    p_check.add_argument("codes", nargs="+", metavar="CODE", help="theme code(s), e.g. 43PCN0009 43PCP0022")
    p_check.add_argument(
        "--fact",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="what the person told us, e.g. applicant=father, parents_same_ethnicity=false",
    )

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
    if args.command == "checklist":
        from knowledge.checklist import run_checklist

        return run_checklist(args.codes, args.fact)
    return 2


if __name__ == "__main__":
    sys.exit(main())
