"""The risk backtest on a large generated scenario, and the time of the features in bulk.

    python bench/risk_backtest.py --debtors 20000 --cut 2026-07-01 [--seed 11] [--boosting]
    python bench/risk_backtest.py --features-only --debtors 100000

Prints the backtest's tables (markdown) and the seconds each step took.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recouvrement.domain.risk_features import history_features  # noqa: E402
from recouvrement.services.risk_backtest import as_markdown, backtest  # noqa: E402
from recouvrement.entrypoints.risk_scenario import generate, true_probabilities  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debtors", type=int, default=20_000)
    parser.add_argument("--cut", type=date.fromisoformat, default=date(2026, 7, 1))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--boosting", action="store_true")
    parser.add_argument("--features-only", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    scenario = generate(args.debtors, seed=args.seed)
    made = time.perf_counter()
    led = scenario.ledger
    print(f"scenario: {args.debtors} debtors, {len(led.invoices)} invoices, "
          f"{len(led.reminders)} reminder items, {len(led.dossiers)} dossiers, "
          f"{len(led.promises)} promises, {len(led.plans)} plans, {len(led.disputes)} disputes "
          f"in {made - start:.1f} s")
    features = history_features(led, args.cut)
    done = time.perf_counter()
    print(f"history features of {len(features)} debtors as of {args.cut}: {done - made:.2f} s")
    if args.features_only:
        return
    result = backtest(led, args.cut, boosting=args.boosting,
                      truth=lambda open_: true_probabilities(scenario, open_, args.cut, 30))
    print(f"backtest (training on {result['training_examples']} examples, scoring "
          f"{result['debtors']} debtors{', with gradient boosting' if args.boosting else ''}): "
          f"{time.perf_counter() - done:.1f} s\n")
    print(as_markdown(result))


if __name__ == "__main__":
    main()
