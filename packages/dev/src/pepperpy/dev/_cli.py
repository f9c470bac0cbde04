"""The ``pepperpy`` command line (console script of pepperpy-dev)."""

from __future__ import annotations

import argparse
import sys

from pepperpy.dev._doctor import doctor, info


def main(argv: list[str] | None = None) -> int:
    """Run ``pepperpy doctor`` or ``pepperpy info AREA``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="pepperpy", description="PepperPy developer tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_doctor = sub.add_parser("doctor", help="check the PepperPy installation")
    p_doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    p_info = sub.add_parser("info", help="describe one area, e.g. 'pepperpy info net'")
    p_info.add_argument("area")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        report = doctor()
        print(report.to_json() if args.json else report.text())
        return 0 if report.ok else 1
    text = info(args.area)
    print(text)
    return 0 if "is not installed" not in text else 1


if __name__ == "__main__":
    sys.exit(main())
