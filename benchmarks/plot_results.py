"""Draw the recorded benchmark tables of benchmarks/RESULTS.md as SVG charts for the docs.

    python benchmarks/plot_results.py [--results benchmarks/RESULTS.md] [--out docs/img]

Reads the fenced tables the benchmark scripts printed (GEMM: GFLOP/s of ours, NumPy/OpenBLAS and
PyTorch per case; normalization: µs per training step of ours, PyTorch and NumPy per layer and
shape; the first table of each section) and writes ``gemm.svg`` and ``norm.svg``. Re-run it after
recording new figures; the SVGs carry no timestamp, so unchanged figures give unchanged files.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from matplotlib.figure import Figure  # the object API: no pyplot state, no display backend

HERE = Path(__file__).resolve().parent


def first_table(results: str, heading: str) -> list[list[str]]:
    """The whitespace-split rows of the first fenced block after the ``## <heading>`` line."""
    section = results[results.index("## " + heading) :]
    block = re.search(r"```\n(.*?)```", section, re.S)
    if block is None:
        raise ValueError(f"plot_results: no fenced table under '## {heading}'")
    return [line.split() for line in block.group(1).splitlines() if line.strip()]


def gemm_rows(results: str) -> tuple[list[str], dict[str, list[float]]]:
    """Case labels and GFLOP/s per library for the float32 rows of the GEMM table."""
    labels, rates = [], {"ours": [], "numpy": [], "torch": []}
    for row in first_table(results, "GEMM"):
        if row[0] != "float32":
            continue
        row = [value for value in row if not value.startswith("[")]  # (a "[before]" note after the ratios)
        ours, numpy_rate, torch_rate = (float(v) for v in row[-5:-2])
        labels.append(" ".join(row[1:-5]))
        for name, value in zip(rates, (ours, numpy_rate, torch_rate)):
            rates[name].append(value)
    return labels, rates


def norm_rows(results: str) -> tuple[list[str], dict[str, list[float]]]:
    """Layer/shape labels and µs per step per library from the normalization table."""
    labels, times = [], {"ours": [], "torch": [], "numpy": []}
    for row in first_table(results, "Normalization"):
        if not row[-1].replace(".", "").isdigit() or not row[2].endswith("us"):
            continue
        labels.append(f"{row[0]} {row[1]}")
        for name, value in zip(times, row[2:5]):
            times[name].append(float(value.removesuffix("us")))
    return labels, times


def bar_chart(labels: list[str], series: dict[str, list[float]], title: str, unit: str, log: bool, path: Path) -> None:
    figure = Figure(figsize=(10, 0.35 * len(labels) + 1.5))
    axes = figure.add_subplot()
    height = 0.8 / len(series)
    for index, (name, values) in enumerate(series.items()):
        positions = [row + index * height for row in range(len(labels))]
        axes.barh(positions, values, height=height, label=name)
    axes.set_yticks([row + 0.4 - height / 2 for row in range(len(labels))], labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(unit)
    if log:
        axes.set_xscale("log")
    axes.set_title(title)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, format="svg", metadata={"Date": None})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "img")
    args = parser.parse_args()
    results = args.results.read_text(encoding="utf-8")
    args.out.mkdir(parents=True, exist_ok=True)
    labels, rates = gemm_rows(results)
    bar_chart(labels, rates, "float32 GEMM, 2 threads (higher is better)", "GFLOP/s", False, args.out / "gemm.svg")
    labels, times = norm_rows(results)
    title = "Normalization training step, 2 threads (lower is better)"
    bar_chart(labels, times, title, "µs per step (log scale)", True, args.out / "norm.svg")
    print(f"wrote {args.out / 'gemm.svg'} and {args.out / 'norm.svg'}")


if __name__ == "__main__":
    main()
