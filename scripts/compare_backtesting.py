#!/usr/bin/env python3
"""Regenerate the backtesting.py 0.6.6 reference results the engine is tested against.

Runs the classic SMA-crossover strategy (backtesting.py's README example) over a grid of
(n1, n2, commission, long-only) settings on four datasets and writes, under
server/tests/it/golden/:

* the input bars, exactly as both engines read them: sample.csv (Runboard's synthetic
  sample_series(2000, 42), exported by the engine itself), goog.csv (daily), eurusd.csv
  (hourly) and btcusd.csv (monthly), the last three being backtesting.py's bundled test data;
* reference.json: EVERY statistic backtesting.py reports for each run (the full `stats` Series
  minus `_strategy`, `_equity_curve` and `_trades`).

The comparison itself is the Rust integration test server/tests/it/golden.rs (module golden
of the one test binary `it`), which CI runs with no Python:
`cargo test -p server --test it golden:: -- --nocapture`. This script runs it at the end (skip
with --no-check).

Setup (any machine with Python 3.9+ and the repo's Rust toolchain), from the workspace root:

    python3 -m venv /tmp/bt && /tmp/bt/bin/pip install backtesting==0.6.6
    /tmp/bt/bin/python scripts/compare_backtesting.py

Encoding of values in reference.json (also written into its "conventions" field):
numbers are JSON numbers (Python's repr, so they round-trip exactly); NaN is null; +-inf is the
string "inf" / "-inf"; Timestamps (Start, End) are integer unix seconds (the data is naive,
read as UTC); Timedeltas (Duration and the four duration statistics) are seconds. A statistic
backtesting.py leaves out of the Series (it omits "Commissions [$]" when the total is 0) is
absent from the run's object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import backtesting
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import BTCUSD, EURUSD, GOOG, SMA

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "server", "tests", "it", "golden")
CASH = 10_000
COMMISSIONS = (0.0, 0.002)

# (n1, n2) pairs per dataset; every pair runs with each commission, long-short and long-only.
# The slow pairs pin the edge cases: (100, 500) makes 0 closed trades on sample.csv (one trade
# still open at the end) and 1 on goog.csv (SQN undefined); on BTCUSD long-short runs go broke
# (backtesting.py's _OutOfMoneyError), (12, 24) / (20, 40) close 1 trade and (24, 48) never
# fills an order (one BTC costs more than the cash), so nearly every statistic is NaN.
DAILY_PAIRS = [(3, 7), (5, 30), (10, 20), (15, 40), (20, 50), (50, 200), (100, 500)]
MONTHLY_PAIRS = [(2, 5), (3, 7), (4, 10), (6, 12), (10, 20), (12, 24), (20, 40), (24, 48)]

# file name -> (description, pairs). sample.csv is written by the engine (see export_sample).
DATASETS = {
    "sample.csv": ("Runboard sample_series(2000, 42): synthetic daily weekday bars, "
                   "exported by the engine", DAILY_PAIRS),
    "goog.csv": ("backtesting.test.GOOG: daily NASDAQ:GOOG bars 2004-08-19 .. 2013-03-01",
                 DAILY_PAIRS),
    "eurusd.csv": ("backtesting.test.EURUSD: hourly EUR/USD bars 2017-04-19 .. 2018-02-07",
                   DAILY_PAIRS),
    "btcusd.csv": ("backtesting.test.BTCUSD: monthly BTC/USD bars 2012-01 .. 2024-12",
                   MONTHLY_PAIRS),
}
BUNDLED = {"goog.csv": GOOG, "eurusd.csv": EURUSD, "btcusd.csv": BTCUSD}

# Not statistics: the strategy instance, the equity curve and the trades DataFrames.
SKIPPED = ("_strategy", "_equity_curve", "_trades")


class SmaCross(Strategy):
    n1 = 10
    n2 = 20
    long_only = False

    def init(self):
        close = self.data.Close
        self.sma1 = self.I(SMA, close, self.n1)
        self.sma2 = self.I(SMA, close, self.n2)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            if not self.long_only:
                self.sell()


def encode(v):
    """A statistic as JSON: see the module docstring."""
    if isinstance(v, pd.Timestamp):
        secs = v.timestamp()  # naive timestamps are taken as UTC by pandas
        assert secs == int(secs), v
        return int(secs)
    if isinstance(v, pd.Timedelta):
        secs = v.total_seconds()
        return int(secs) if secs == int(secs) else secs
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"unexpected boolean statistic {v!r}")
    if isinstance(v, (int, np.integer)):
        return int(v)
    f = float(v)  # raises for anything else: a new kind of statistic needs a decision here
    if math.isnan(f):
        return None
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return f


def export_sample(path, rust_cmd):
    env = dict(os.environ, RUNBOARD_GOLDEN_SAMPLE_CSV=path)
    subprocess.run(shlex.split(rust_cmd), check=True, cwd=ROOT, env=env)
    if not os.path.exists(path):
        sys.exit(f"{rust_cmd!r} did not write {path}")


def read(path):
    # Python's float() rounds correctly, as the engine's parser does (pandas' own fast parser
    # need not, depending on the version).
    prices = ("open", "high", "low", "close", "volume")
    df = pd.read_csv(path, index_col=0, parse_dates=True,
                     converters={c: float for c in prices})
    df.columns = [c.capitalize() for c in df.columns]
    return df


def run_dataset(name, pairs):
    df = read(os.path.join(GOLDEN, name))
    runs = []
    for n1, n2 in pairs:
        for comm in COMMISSIONS:
            for long_only in (False, True):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    bt = Backtest(df, SmaCross, cash=CASH, commission=comm)
                    s = bt.run(n1=n1, n2=n2, long_only=long_only)
                stats = {k: encode(v) for k, v in s.items() if k not in SKIPPED}
                runs.append({"dataset": name, "n1": n1, "n2": n2, "commission": comm,
                             "long_only": long_only, "stats": stats})
    return len(df), runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rust-export-cmd",
                    default="cargo test -q -p server --test it -- --ignored --exact "
                            "golden::export_sample_csv",
                    help="command that writes sample_series(2000, 42) to "
                         "$RUNBOARD_GOLDEN_SAMPLE_CSV")
    ap.add_argument("--check-cmd",
                    default="cargo test -q -p server --test it golden:: -- --nocapture",
                    help="the Rust comparison run after writing the references")
    ap.add_argument("--no-check", action="store_true", help="only write the references")
    args = ap.parse_args()
    os.makedirs(GOLDEN, exist_ok=True)

    export_sample(os.path.join(GOLDEN, "sample.csv"), args.rust_export_cmd)
    for name, frame in BUNDLED.items():
        g = frame.copy()
        g.index.name = "date"
        g.columns = [c.lower() for c in g.columns]
        g.to_csv(os.path.join(GOLDEN, name))

    datasets, runs = {}, []
    for name, (description, pairs) in DATASETS.items():
        bars, r = run_dataset(name, pairs)
        datasets[name] = {"description": description, "bars": bars}
        runs += r
        print(f"{name}: {bars} bars, {len(r)} runs")

    reference = {
        "generator": "scripts/compare_backtesting.py",
        "versions": {"backtesting": backtesting.__version__, "pandas": pd.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "strategy": "SmaCross from backtesting.py's README: on crossover(sma1, sma2) "
                    "position.close() then buy(); on crossover(sma2, sma1) position.close() "
                    "then sell() unless long_only; SMA = pandas rolling(n).mean() of Close",
        "backtest": {"cash": CASH, "other": "backtesting.py 0.6.6 defaults (spread 0, "
                     "margin 1, trade_on_close=False, hedging=False, exclusive_orders=False, "
                     "finalize_trades=False)"},
        "conventions": {
            "numbers": "JSON numbers (Python repr: exact round trip)",
            "nan": "null",
            "inf": "the strings \"inf\" / \"-inf\"",
            "timestamps": "Start, End: integer unix seconds (naive times read as UTC)",
            "timedeltas": "Duration and the four *Duration statistics: seconds",
            "absent": "a statistic backtesting.py leaves out of the stats Series is absent "
                      "(Commissions [$] when the total commission is 0)",
            "skipped": list(SKIPPED),
        },
        "datasets": datasets,
        "runs": runs,
    }
    out = os.path.join(GOLDEN, "reference.json")
    with open(out, "w") as f:
        json.dump(reference, f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"wrote {out}: {len(runs)} runs")

    if not args.no_check:
        sys.exit(subprocess.run(shlex.split(args.check_cmd), cwd=ROOT).returncode)


if __name__ == "__main__":
    main()
