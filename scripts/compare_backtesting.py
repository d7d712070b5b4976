#!/usr/bin/env python3
"""Compare Runboard's backtest engine with backtesting.py 0.6.6 on the same data.

Runs the classic SMA-crossover strategy (backtesting.py's README example) for several
(n1, n2, commission, long-only) settings on two datasets -- backtesting.py's bundled GOOG daily
bars and Runboard's synthetic sample_series(2000, 42) -- in both engines, and prints the
differences of the main statistics. Both engines read the very same CSV file.

Setup (any machine with Python 3.9+ and the repo's Rust toolchain):

    python3 -m venv /tmp/bt && /tmp/bt/bin/pip install backtesting==0.6.6
    /tmp/bt/bin/python scripts/compare_backtesting.py

The Rust side is the ignored test `engine::compare` of the server crate, run as
`cargo test --release -p server --lib engine::compare -- --ignored --nocapture` with the CSV path
and the runs in environment variables; --rust-cmd replaces that command (e.g. a prebuilt test
binary: `<path>/server-<hash> engine::compare --ignored --nocapture`). Exit status 1 when
final equity or trade counts disagree.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import warnings

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import GOOG, SMA

RUNS = [
    # n1, n2, commission, long_only
    (10, 20, 0.0, False),
    (10, 20, 0.002, False),
    (5, 30, 0.0, False),
    (5, 30, 0.002, False),
    (20, 50, 0.002, False),
    (50, 200, 0.0, False),
    (3, 7, 0.002, False),
    (10, 20, 0.002, True),
    (15, 40, 0.0, True),
]

# backtesting.py stat name -> Runboard Stats field; durations are compared in seconds.
STATS = {
    "Equity Final [$]": "equity_final",
    "# Trades": "trades",
    "Return [%]": "return_pct",
    "Exposure Time [%]": "exposure_time_pct",
    "Equity Peak [$]": "equity_peak",
    "Buy & Hold Return [%]": "buy_hold_return_pct",
    "Return (Ann.) [%]": "return_ann_pct",
    "Volatility (Ann.) [%]": "volatility_ann_pct",
    "CAGR [%]": "cagr_pct",
    "Sharpe Ratio": "sharpe",
    "Sortino Ratio": "sortino",
    "Calmar Ratio": "calmar",
    "Max. Drawdown [%]": "max_drawdown_pct",
    "Avg. Drawdown [%]": "avg_drawdown_pct",
    "Max. Drawdown Duration": "max_drawdown_duration_secs",
    "Avg. Drawdown Duration": "avg_drawdown_duration_secs",
    "Win Rate [%]": "win_rate_pct",
    "Best Trade [%]": "best_trade_pct",
    "Worst Trade [%]": "worst_trade_pct",
    "Avg. Trade [%]": "avg_trade_pct",
    "Max. Trade Duration": "max_trade_duration_secs",
    "Avg. Trade Duration": "avg_trade_duration_secs",
    "Profit Factor": "profit_factor",
    "Expectancy [%]": "expectancy_pct",
    "SQN": "sqn",
    "Kelly Criterion": "kelly",
}


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


def py_value(v):
    if isinstance(v, pd.Timedelta):
        return v.total_seconds()
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def run_python(csv_path):
    df = pd.read_csv(csv_path, index_col=0, parse_dates=True)
    df.columns = [c.capitalize() for c in df.columns]
    out = {}
    for n1, n2, comm, lo in RUNS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt = Backtest(df, SmaCross, cash=10_000, commission=comm)
            s = bt.run(n1=n1, n2=n2, long_only=lo)
        out[spec(n1, n2, comm, lo)] = {k: py_value(s[k]) for k in STATS}
    return out


def spec(n1, n2, comm, lo):
    return f"{n1}:{n2}:{comm}:{str(lo).lower()}"


def rust(cmd, **env):
    full_env = dict(os.environ, **env)
    res = subprocess.run(shlex.split(cmd), check=True, capture_output=True, text=True,
                         env=full_env)
    return res.stdout


def run_rust(cmd, csv_path):
    stdout = rust(cmd, RUNBOARD_COMPARE_CSV=csv_path,
                  RUNBOARD_COMPARE_RUNS=",".join(spec(*r) for r in RUNS))
    out = {}
    for line in stdout.splitlines():
        if line.startswith("COMPARE "):
            obj = json.loads(line[len("COMPARE "):])
            out[obj["spec"]] = obj["stats"]
    if len(out) != len(RUNS):
        sys.exit(f"the engine printed {len(out)} of {len(RUNS)} runs:\n{stdout}")
    return out


def compare(name, py, rs):
    worst_equity = 0.0
    trade_mismatch = 0
    worst_rel = {}
    print(f"\n== {name} ==")
    print(f"{'run (n1:n2:comm:long_only)':<28} {'equity py':>14} {'equity rust':>14} "
          f"{'|diff|':>10} {'trades':>7} {'sharpe py':>10} {'sharpe rs':>10}")
    for key, p in py.items():
        r = rs[key]
        de = abs(p["Equity Final [$]"] - r["equity_final"])
        worst_equity = max(worst_equity, de)
        if int(p["# Trades"]) != r["trades"]:
            trade_mismatch += 1
        print(f"{key:<28} {p['Equity Final [$]']:>14.6f} {r['equity_final']:>14.6f} {de:>10.2e} "
              f"{int(p['# Trades']):>3}/{r['trades']:<3} {p['Sharpe Ratio'] or float('nan'):>10.6f} "
              f"{r['sharpe'] or float('nan'):>10.6f}")
        for bt_name, field in STATS.items():
            a, b = p[bt_name], r.get(field)
            if a is None and b is None:
                continue
            if a is None or b is None:
                worst_rel[bt_name] = max(worst_rel.get(bt_name, 0.0), float("inf"))
                print(f"   {bt_name}: backtesting.py {a} vs engine {b}")
                continue
            rel = abs(a - b) / max(abs(a), 1e-12)
            worst_rel[bt_name] = max(worst_rel.get(bt_name, 0.0), rel)
    print(f"largest |final equity difference|: {worst_equity:.3e} $; trade-count mismatches: "
          f"{trade_mismatch}")
    print("largest relative difference per statistic:")
    for k, v in worst_rel.items():
        print(f"   {k:<24} {v:.2e}")
    return worst_equity, trade_mismatch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rust-cmd",
                    default="cargo test -q --release -p server --lib engine::compare -- "
                            "--ignored --nocapture")
    ap.add_argument("--workdir", default=None, help="where to write the CSV files")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="bt-compare-")
    os.makedirs(work, exist_ok=True)

    goog = os.path.join(work, "goog.csv")
    g = GOOG.copy()
    g.index.name = "date"
    g.columns = [c.lower() for c in g.columns]
    g.to_csv(goog)

    sample = os.path.join(work, "sample.csv")
    rust(args.rust_cmd, RUNBOARD_COMPARE_EXPORT=sample)

    failed = False
    for name, path in [("GOOG (backtesting.py bundled, 2148 daily bars)", goog),
                       ("sample_series(2000, 42) (synthetic)", sample)]:
        worst, mismatches = compare(name, run_python(path), run_rust(args.rust_cmd, path))
        failed |= mismatches > 0 or worst > 1e-6
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
