#!/usr/bin/env python3
"""Compares the data files of two refusal-lab reports (e.g. `run` and `run --spark local[2]` on the same model).

    bench/compare-reports.py SITE_A SITE_B [--rel 1e-5]

Each site's newest run (runs/<time>/data) is read. Every number must lie within rel x the scale of its quantity
(the largest |value| of that quantity in SITE_A: a figure's series, a table's column, a field of run.json); numbers
printed with few decimals (table CSVs) may also differ by one unit of their last printed digit, when the two values
straddle a rounding boundary. Every other value (verdicts, greedy completions, labels) must be equal. Times, dates,
the summary's sweep service and the SHA-256 prefixes of float vectors (the direction's, which any last-bit
difference changes) are the only fields skipped. Exits 1 and lists the differences otherwise.
"""
import csv
import json
import math
import re
import sys
from pathlib import Path

# SHA-256 prefixes of float vectors (the refusal direction): any last-bit difference changes them, so they are masked
HASH = re.compile(r"sha256:[0-9a-f]+")
HASH_KEYS = {"sha256"}
SKIP_KEYS = {"took", "tookSeconds", "tookMillis", "fromRun", "started", "finished", "time", "duration", "load time", "sweeps",
             "published", "runId", "run"}


def newest_run(site):
    runs = sorted((Path(site) / "runs").iterdir())
    if not runs:
        sys.exit(f"{site}: no runs/")
    return runs[-1] / "data"


def number(x):
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return None
    return None


def decimals(s):
    if not isinstance(s, str) or "e" in s.lower():
        return None
    m = re.fullmatch(r"-?\d*\.(\d+)", s.strip())
    return len(m.group(1)) if m else 0 if re.fullmatch(r"-?\d+", s.strip()) else None


class Comparison:
    def __init__(self, rel):
        self.rel = rel
        self.problems = []
        self.numbers = 0
        self.rounding = 0
        self.others = 0
        self.max_rel = 0.0

    def value(self, where, a, b, scale):
        na, nb = number(a), number(b)
        if na is not None and nb is not None:
            self.numbers += 1
            if math.isnan(na) or math.isnan(nb):
                if not (math.isnan(na) and math.isnan(nb)):
                    self.problems.append(f"{where}: {a!r} vs {b!r}")
                return
            if math.isinf(na) or math.isinf(nb):
                if na != nb:
                    self.problems.append(f"{where}: {a!r} vs {b!r}")
                return
            d = abs(na - nb)
            s = max(scale, 1e-30)
            self.max_rel = max(self.max_rel, d / s)
            if d <= self.rel * s:
                return
            dec = decimals(a) if isinstance(a, str) else None
            if dec is not None and dec == decimals(b) and d <= 1.0001 * 10 ** (-dec):
                self.rounding += 1  # printed values on either side of a rounding boundary
                return
            self.problems.append(f"{where}: {a!r} vs {b!r} (difference {d:.3g}, scale {scale:.3g})")
        else:
            self.others += 1
            if isinstance(a, str) and isinstance(b, str):
                a, b = HASH.sub("sha256:*", a), HASH.sub("sha256:*", b)
            if a != b:
                self.problems.append(f"{where}: {a!r} vs {b!r}")


def walk_json(cmp, where, a, b, scales, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in SKIP_KEYS or k in HASH_KEYS:
                continue
            if k not in a or k not in b:
                cmp.problems.append(f"{where}: key {path}/{k} only in one report")
                continue
            walk_json(cmp, where, a[k], b[k], scales, f"{path}/{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            cmp.problems.append(f"{where}: {path} has {len(a)} vs {len(b)} items")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            walk_json(cmp, where, x, y, scales, f"{path}[]" if not isinstance(x, dict) or "name" not in x else f"{path}[{x['name']}]")
    else:
        cmp.value(f"{where} {path}", a, b, scales.get(path, 0.0))


def json_scales(x, path="", out=None):
    out = {} if out is None else out
    if isinstance(x, dict):
        for k, v in x.items():
            json_scales(v, f"{path}/{k}", out)
    elif isinstance(x, list):
        for v in x:
            json_scales(v, f"{path}[]" if not isinstance(v, dict) or "name" not in v else f"{path}[{v['name']}]", out)
    else:
        n = number(x)
        if n is not None and math.isfinite(n):
            out[path] = max(out.get(path, 0.0), abs(n))
    return out


def compare_csv(cmp, name, fa, fb):
    ra, rb = list(csv.reader(open(fa))), list(csv.reader(open(fb)))
    if len(ra) != len(rb):
        cmp.problems.append(f"{name}: {len(ra)} vs {len(rb)} lines")
        return
    if not ra:
        return
    header = ra[0]
    scales = [0.0] * len(header)
    for row in ra[1:]:
        for j, c in enumerate(row[: len(header)]):
            n = number(c)
            if n is not None and math.isfinite(n):
                scales[j] = max(scales[j], abs(n))
    for i, (x, y) in enumerate(zip(ra, rb)):
        if len(x) != len(y):
            cmp.problems.append(f"{name} line {i + 1}: {len(x)} vs {len(y)} cells")
            continue
        for j, (c, d) in enumerate(zip(x, y)):
            col = header[j] if j < len(header) else str(j)
            cmp.value(f"{name} line {i + 1} [{col}]", c, d, scales[j] if j < len(scales) else 0.0)


def main():
    args = sys.argv[1:]
    rel = 1e-5
    if "--rel" in args:
        k = args.index("--rel")
        rel = float(args[k + 1])
        del args[k : k + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    da, db = newest_run(args[0]), newest_run(args[1])
    cmp = Comparison(rel)
    fa = sorted(p.relative_to(da) for p in da.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(db) for p in db.rglob("*") if p.is_file())
    if fa != fb:
        cmp.problems.append(f"different files: only in A {sorted(set(fa) - set(fb))}, only in B {sorted(set(fb) - set(fa))}")
    files = 0
    for rel_path in sorted(set(fa) & set(fb)):
        a, b = da / rel_path, db / rel_path
        files += 1
        if rel_path.suffix == ".json":
            ja, jb = json.load(open(a)), json.load(open(b))
            walk_json(cmp, str(rel_path), ja, jb, json_scales(ja))
        elif rel_path.suffix == ".csv":
            compare_csv(cmp, str(rel_path), a, b)
        elif a.read_bytes() != b.read_bytes():
            cmp.problems.append(f"{rel_path}: differs")
    print(f"{files} data files, {cmp.numbers} numbers (largest difference {cmp.max_rel:.3g} of its quantity's scale, "
          f"{cmp.rounding} printed values one last digit apart), {cmp.others} other values")
    for p in cmp.problems[:200]:
        print("DIFF", p)
    if cmp.problems:
        print(f"{len(cmp.problems)} differences")
        sys.exit(1)
    print("same report")


if __name__ == "__main__":
    main()
