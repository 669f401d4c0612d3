"""Regenerate the README's benchmark table from benchmarks/results.json (run.py's output).

    python benchmarks/readme_table.py [--results benchmarks/results.json] [--readme README.md]
                                      [--print]

The table goes between the lines ``<!-- bench-table:start -->`` and
``<!-- bench-table:end -->`` of the README, with the date of the run, the command
line, the machine's facts (CPU, cores, threads, load average, library versions, NumPy's
sgemm GFLOP/s) and one row per case: both times, the ratio with its interquartile range,
the goal, the conv's share of sgemm, and the peak memory per step where it was measured.
``--print`` writes the block to stdout and leaves the README alone.
"""
import argparse
import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def _ms(v):
    return f"{v:.3g}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def table(results):
    m, st = results["machine"], results["settings"]
    sg = m.get("sgemm_1024_gflops", {})
    lines = [
        f"Measured {results.get('date', '(date not recorded)')} with `{results.get('command', 'python benchmarks/run.py')}`: "
        f"{m.get('processor')}, {m.get('cores')} cores, {st['threads']} thread(s) for both libraries "
        f"(Numba layer {m.get('numba_threading_layer')}), torch {m.get('torch')}, numpy {m.get('numpy')}, "
        f"numba {m.get('numba')}; NumPy sgemm 1024³ {sg.get('numpy', float('nan')):.0f} GFLOP/s, "
        f"PyTorch {sg.get('torch', float('nan')):.0f} GFLOP/s; load average at the start "
        f"{_load(m.get('load_average'))}, at the end {_load(m.get('load_average_end'))}. "
        f"Ratio = median of {st['rounds']} paired rounds (minigen / PyTorch, IQR in brackets); "
        f"✓ = goal met.",
        "",
        "| case | minigen ms | PyTorch ms | ratio [IQR] | goal | conv % of sgemm | peak MB per step (minigen / PyTorch) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["results"]:
        goal = "–" if r.get("goal") is None else f"{r['goal']:g}"
        mark = " ✓" if r.get("met") else ""
        share = f"{100 * r['sgemm_share_minigen']:.0f} %" if "sgemm_share_minigen" in r else ""
        mem = r.get("peak_memory_mb") or {}
        peak = (f"{mem['minigen']:.0f} / {mem['torch']:.0f}"
                if mem.get("minigen") is not None and mem.get("torch") is not None else "")
        lines.append(f"| {r['case']} | {_ms(r['minigen_ms'])} | {_ms(r['torch_ms'])} | "
                     f"{r['ratio']:.2f}{mark} [{r['ratio_q1']:.2f}–{r['ratio_q3']:.2f}] | {goal} | "
                     f"{share} | {peak} |")
    return "\n".join(lines)


def _load(v):
    return "?" if not v else "/".join(f"{x:.1f}" for x in v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=os.path.join(REPO, "benchmarks", "results.json"))
    ap.add_argument("--readme", default=os.path.join(REPO, "README.md"))
    ap.add_argument("--print", action="store_true", help="print the block, do not edit the README")
    args = ap.parse_args()
    with open(args.results) as fh:
        block = table(json.load(fh))
    if args.print:
        print(block)
        return
    with open(args.readme) as fh:
        text = fh.read()
    if START not in text or END not in text:
        raise SystemExit(f"{args.readme} has no {START} ... {END} block to replace")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(args.readme + ".tmp", "w") as fh:
        fh.write(head + START + "\n" + block + "\n" + END + tail)
    os.replace(args.readme + ".tmp", args.readme)
    print(f"wrote the table of {args.results} into {args.readme}")


if __name__ == "__main__":
    main()
