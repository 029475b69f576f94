"""Benchmark, run by hand: how close the AI credit forecast comes (issue #23). Prints figures.

    python benchmarks/forecast_accuracy.py [--seed 1]

A workload of agent steps with prompts drawn at random from the kinds of edits people ask for
(one to four edits, short or long wording), billed as the emulator bills them (its Underlord:
8 credits an edit and up to 40 for the prompt's length). A history of 200 recorded steps, then
100 new steps forecast from it (plan/forecast.py: the median, up to the 90th percentile), each
set against what it then cost. Media seconds are not here: they are read from the files and
exact (tests/e2e/test_costs.py).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from descript_iac.emulator.underlord import run_prompt
from descript_iac.plan.forecast import credit_estimate
from descript_iac.plan.samples import StepSample

EDITS = [
    "add Studio Sound",
    "add captions",
    "remove filler words",
    "make a highlight reel",
    "write a script",
    "add background music",
    "add a title card",
    "tighten the pacing",
]
PADDING = " and keep the speaker's tone, the intro and the outro exactly as they are"


def prompt(rng: random.Random) -> str:
    edits = rng.sample(EDITS, rng.randint(1, 4))
    text = ", then ".join(edits).capitalize()
    return text + PADDING * rng.randint(0, 5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    history = [StepSample("default", run_prompt(prompt(rng)).ai_credits) for _ in range(200)]
    estimate, basis = credit_estimate("default", history)
    actual = [run_prompt(prompt(rng)).ai_credits for _ in range(100)]
    errors = [abs(a - estimate.expected) for a in actual]
    inside = sum(estimate.low <= a <= estimate.high for a in actual)
    print(f"forecast per step: {estimate.text('AI credits')} [{basis}]")
    median, mean = statistics.median(actual), statistics.mean(actual)
    print(f"100 steps: actual median {median:.0f}, mean {mean:.1f}")
    print(f"median absolute error of the expected value: {statistics.median(errors):.1f} credits")
    print(
        f"steps within the forecast range: {inside}/100 (above its high end: "
        f"{sum(a > estimate.high for a in actual)})"
    )
    total_forecast = estimate.expected * 100
    high = estimate.high * 100
    print(f"total: forecast {total_forecast:.0f} (high {high:.0f}), actual {sum(actual)}")


if __name__ == "__main__":
    main()
