"""Write one day's synthetic accounting exports of about N open invoices.

    python bench/generate.py --invoices 100000 --out /tmp/inbox [--day 2026-03-02] [--seed 7]

About ten open invoices per debtor, ISO-style CSV (`,`, decimal point, ISO dates).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

# run as a script from a checkout: make the package importable without installing it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recouvrement.entrypoints.scenario import DemoLedger  # noqa: E402

OPEN_PER_DEBTOR = 10
PILOT_DEBTORS = 2_000


def invoices_per_debtor_for(day: date, seed: int) -> float:
    """How many invoices to issue per debtor so that about ten are open on `day`.

    Part of what is issued is already paid on the export day; a small pilot
    ledger with the same seed measures that share.
    """
    pilot = DemoLedger.generate(PILOT_DEBTORS, day, seed=seed, invoices_per_debtor=OPEN_PER_DEBTOR, days=0)
    _, open_items = pilot.snapshot(day)
    return OPEN_PER_DEBTOR * len(pilot.invoices) / max(len(open_items), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, required=True, help="open invoices wanted in the export")
    parser.add_argument("--out", type=Path, required=True, help="inbox folder to write into")
    parser.add_argument("--day", type=date.fromisoformat, default=date.today(), help="export date, YYYY-MM-DD")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.invoices < OPEN_PER_DEBTOR * 2:
        parser.error(f"--invoices must be at least {OPEN_PER_DEBTOR * 2}")

    began = time.perf_counter()
    per_debtor = invoices_per_debtor_for(args.day, args.seed)
    ledger = DemoLedger.generate(args.invoices // OPEN_PER_DEBTOR, args.day, seed=args.seed,
                                 invoices_per_debtor=per_debtor, days=0)
    generated = time.perf_counter()
    paths = ledger.write_exports(args.day, args.out, style="iso")
    written = time.perf_counter()

    customers, open_items = ledger.snapshot(args.day)
    print(f"{len(customers):,} debtors, {len(open_items):,} open invoices "
          f"({len(ledger.invoices):,} issued) on {args.day.isoformat()}")
    for path in paths:
        print(f"  {path}  {path.stat().st_size / 1e6:.1f} MB")
    print(f"generate {generated - began:.1f} s, write {written - generated:.1f} s, "
          f"total {written - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
