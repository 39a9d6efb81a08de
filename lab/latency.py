#!/usr/bin/env python3
"""lab/latency.py: latency histograms of gwlbsim run, and the reports of
lab/sweep and lab/soak.  Python 3 standard library only.

  latency.py summary HIST...          the histograms (gwlbsim run
                                      --latency-hist) merged: one JSON
                                      object, microseconds
  latency.py sweep-report DIR         DIR/results.jsonl (lab/sweep) ->
                                      DIR/table.txt, DIR/targets.txt,
                                      DIR/sweep.dat, DIR/sweep.gp and, with
                                      gnuplot, DIR/sweep-*.svg

A histogram file is what lab/sim_hist.c writes: '#' comment lines (one of
them "# samples N min X max Y sum S") and one "lower_ns upper_ns count"
line per non-empty bucket.  Percentiles are computed as gwlbsim computes
them: the upper bound of the bucket holding the ceil(n * q)-th smallest
sample, clamped to [min, max], so merging the files of several runs gives
the percentiles of all their samples together, to the bucket (1/128).
"""
import json
import math
import os
import shutil
import subprocess
import sys

LIMIT = 1 << 40			# SIM_HIST_LIMIT: the last bucket holds the rest
PCTS = (("p50", 500000), ("p90", 900000), ("p99", 990000), ("p999", 999000))


class Hist:
    def __init__(self):
        self.buckets = {}	# lower -> [upper, count]
        self.n = 0
        self.min = None
        self.max = 0
        self.sum = 0

    def read(self, path):
        with open(path) as f:
            for line in f:
                w = line.split()
                if not w:
                    continue
                if w[0] == "#":
                    if len(w) >= 9 and w[1] == "samples":
                        n, mn, mx, sm = int(w[2]), int(w[4]), int(w[6]), int(w[8])
                        if n:
                            self.min = mn if self.min is None else min(self.min, mn)
                            self.max = max(self.max, mx)
                        self.sum += sm
                    continue
                lo, hi, c = int(w[0]), int(w[1]), int(w[2])
                b = self.buckets.setdefault(lo, [hi, 0])
                b[1] += c
                self.n += c
        return self

    def quantile(self, ppm):
        if self.n == 0:
            return None
        rank = max(1, (self.n * ppm + 999999) // 1000000)
        seen = 0
        for lo in sorted(self.buckets):
            hi, c = self.buckets[lo]
            seen += c
            if seen >= rank:
                u = self.max if hi == LIMIT - 1 else hi
                return max(min(u, self.max), self.min or 0)
        return self.max

    def summary(self):
        """Microseconds, rounded to the ns as gwlbsim prints them."""
        if self.n == 0:
            return {"samples": 0}
        r = {"samples": self.n}
        for name, ppm in PCTS:
            r[name] = round(self.quantile(ppm) / 1e3, 3)
        r["max"] = round(self.max / 1e3, 3)
        r["min"] = round((self.min or 0) / 1e3, 3)
        r["mean"] = round(self.sum / self.n / 1e3, 3)
        return r


def merged(paths):
    h = Hist()
    for p in paths:
        h.read(p)
    return h


# --- lab/sweep's report -------------------------------------------------------

def fmt(v, f="%.1f"):
    return "-" if v is None else f % v


def combo_key(r):
    return (str(r["size"]), r["enis"], r["flows"])


def combo_name(k):
    size, enis, flows = k
    return "size %s, %d ENI%s, %d flows" % (size, enis, "" if enis == 1 else "s", flows)


def combo_slug(k):
    size, enis, flows = k
    return "%s-e%d-f%d" % (str(size).replace("-", "to"), enis, flows)


def at(rows, path, pct):
    for r in rows:
        if r["path"] == path and r["pct"] == pct:
            return r
    return None


def lat(r, p):
    if r is None or not r.get("latency_us"):
        return None
    return r["latency_us"].get(p)


def ratio(a, b):
    return a / b if a is not None and b else None


def sweep_report(d):
    res = [json.loads(l) for l in open(os.path.join(d, "results.jsonl")) if l.strip()]
    meta = {}
    mp = os.path.join(d, "meta.json")
    if os.path.exists(mp):
        meta = json.load(open(mp))
    steps = [r for r in res if r.get("kind") == "step"]
    maxes = {combo_key(r): r for r in res if r.get("kind") == "max"}
    combos = sorted({combo_key(r) for r in steps},
                    key=lambda k: ("-" in str(k[0]), int(str(k[0]).split("-")[0]), k[1], k[2]))
    paths = [p for p in ("gwlbtund", "reflect") if any(r["path"] == p for r in steps)]
    out = []
    p = out.append
    p("gwlbtun lab/sweep: latency and loss against offered load, return traffic on")
    for k in ("started", "commit", "machine", "load", "duration", "setup", "gwlbtund options"):
        if k in meta:
            p("%s %s" % ((k + ":").ljust(9), meta[k]))
    p("")
    p("Per combination, the maximum is what came back at full speed (gwlbsim run --rate 0) through")
    p("gwlbtund (or the reflector when gwlbtund is not in the run); every step offers a share of it to")
    p("each path.  offered/delivered: kpps sent / received back; loss: 1 - matched/sent; latency: round")
    p("trips in us of the packets that came back right; CPU: the appliance process's utime+stime, % of")
    p("one CPU over the step's sending time, and CPU-seconds per million delivered packets.")
    p("drops sock/veth/gwi/gwo/backlog/gw/kq/cap/late: what was counted dropped during the step: the")
    p("appliance's UDP receive buffer (RcvbufErrors: gwlbtund's or reflect's socket full), rx+tx_dropped")
    p("of the veth (both ends), of gwlbtund's gwi- and of its gwo- links (a full queue), the host's input backlog")
    p("(softnet_stat: netdev_max_backlog exceeded, whole host), gwlbtund's own drop counters and")
    p("kernel_drops, gwlbsim's packet socket (replies that came back but were never judged), and replies")
    p("that reached the GWLB link after gwlbsim stopped waiting (3 s after its last send): lost by lateness")
    p("(the link's packet counter less what gwlbsim received: ARP and the like add a few).")
    for k in combos:
        rows = [r for r in steps if combo_key(r) == k]
        m = maxes.get(k)
        p("")
        p("%s: maximum %s kpps (%s)" % (combo_name(k), fmt(m and m["delivered_pps"] / 1e3),
          m["path"] if m else "?"))
        p("%-9s %5s | %8s %8s %8s %9s | %8s %8s %8s %8s %8s | %6s %8s | %s" % (
          "path", "load%", "target", "offered", "deliverd", "loss%", "p50", "p90", "p99",
          "p99.9", "max", "CPU%", "CPUs/Mp", "drops sock/veth/gwi/gwo/backlog/gw/kq/cap/late"))
        for path in paths:
            for r in sorted([r for r in rows if r["path"] == path], key=lambda r: r["pct"]):
                l = r.get("latency_us") or {}
                drops = "/".join("-" if r.get(x) is None else str(r[x]) for x in (
                    "appl_udp_rcvbuf_errors", "appl_veth_drops", "gwi_drops", "gwo_drops", "backlog_drops", "gw_drops",
                    "gw_kernel_drops", "capture_drops", "late"))
                p("%-9s %5d | %8.1f %8.1f %8.1f %9s | %8s %8s %8s %8s %8s | %6s %8s | %s%s" % (
                  path, r["pct"], r["target_pps"] / 1e3, r["offered_pps"] / 1e3,
                  r["delivered_pps"] / 1e3, fmt(r["loss"] * 100 if r["loss"] is not None else None, "%.4f"),
                  fmt(l.get("p50")), fmt(l.get("p90")), fmt(l.get("p99")), fmt(l.get("p999")),
                  fmt(l.get("max")), fmt(r.get("cpu_pct"), "%.0f"), fmt(r.get("cpu_s_per_mpkt"), "%.2f"),
                  drops, "  MISMATCHED %d" % r["mismatched"] if r.get("mismatched") else ""))
    table = "\n".join(out) + "\n"
    open(os.path.join(d, "table.txt"), "w").write(table)

    # the targets of issue 15, as ratios from this run
    t = []
    q = t.append
    q("Targets (issue 15), evaluated on this run; '-' where the run lacks the step or the path:")
    q("  loss80:  loss at 80 % of the maximum below 0.01 %, every size mix")
    q("  queue:   p99 at 80 % at most 3x p99 at 10 % (no standing queue)")
    q("  vs refl: gwlbtund's p99 at most 1.5x the reflector's at the same offered load (10 % and 80 %)")
    q("%-36s %-9s | %9s %-4s | %7s %-4s | %7s %7s %-4s" % ("combination", "path", "loss80%", "",
      "p99x", "", "@10%", "@80%", ""))
    verdicts = []
    def mark(ok):
        if ok is None:
            return "-"
        verdicts.append(ok)
        return "ok" if ok else "FAIL"
    for k in combos:
        rows = [r for r in steps if combo_key(r) == k]
        for path in paths:
            r80, r10 = at(rows, path, 80), at(rows, path, 10)
            loss80 = r80["loss"] * 100 if r80 and r80["loss"] is not None else None
            qx = ratio(lat(r80, "p99"), lat(r10, "p99"))
            v10 = v80 = None
            if path == "gwlbtund":
                v10 = ratio(lat(r10, "p99"), lat(at(rows, "reflect", 10), "p99"))
                v80 = ratio(lat(r80, "p99"), lat(at(rows, "reflect", 80), "p99"))
            q("%-36s %-9s | %9s %-4s | %7s %-4s | %7s %7s %-4s" % (
              combo_name(k), path, fmt(loss80, "%.4f"), mark(None if loss80 is None else loss80 < 0.01),
              fmt(qx, "%.2f"), mark(None if qx is None else qx <= 3),
              fmt(v10, "%.2f"), fmt(v80, "%.2f"),
              mark(None if v10 is None and v80 is None else all(v <= 1.5 for v in (v10, v80) if v is not None))
              if path == "gwlbtund" else ""))
    q("%d of %d evaluated targets met" % (sum(verdicts), len(verdicts)))
    targets = "\n".join(t) + "\n"
    open(os.path.join(d, "targets.txt"), "w").write(targets)

    # data and plot: one SVG per combination, latency (log) and loss against offered %
    dat = os.path.join(d, "sweep.dat")
    with open(dat, "w") as f:
        f.write("# one block per combination and path (gnuplot index = %d * combination + path)\n" % len(paths))
        f.write("# pct offered_kpps delivered_kpps loss_pct p50_us p99_us p999_us max_us cpu_pct\n")
        for k in combos:
            for path in paths:
                f.write("# %s, %s\n" % (combo_name(k), path))
                for r in sorted([r for r in steps if combo_key(r) == k and r["path"] == path],
                                key=lambda r: r["pct"]):
                    l = r.get("latency_us") or {}
                    f.write("%d %.3f %.3f %.6f %s %s %s %s %s\n" % (
                        r["pct"], r["offered_pps"] / 1e3, r["delivered_pps"] / 1e3,
                        (r["loss"] or 0) * 100, l.get("p50", "NaN"), l.get("p99", "NaN"),
                        l.get("p999", "NaN"), l.get("max", "NaN"),
                        "NaN" if r.get("cpu_pct") is None else "%.1f" % r["cpu_pct"]))
                f.write("\n\n")
    gp = os.path.join(d, "sweep.gp")
    colors = {"p50": "#1b9e77", "p99": "#d95f02", "p999": "#7570b3"}
    dash = {"gwlbtund": 1, "reflect": 2}
    pt = {"gwlbtund": 7, "reflect": 2}	# filled circles, crosses
    with open(gp, "w") as f:
        f.write("# gnuplot script written by lab/latency.py; run: cd %s && gnuplot sweep.gp\n" % d)
        f.write("set terminal svg size 900,700 dynamic font 'sans,11' background '#ffffff'\n")
        for ci, k in enumerate(combos):
            m = maxes.get(k)
            f.write("set output 'sweep-%s.svg'\n" % combo_slug(k))
            f.write("set multiplot layout 2,1 title \"%s (max %s kpps)\"\n" % (
                combo_name(k), fmt(m and m["delivered_pps"] / 1e3)))
            f.write("set xlabel 'offered, kpps (what gwlbsim run sent; steps at 10-110 %% of %s kpps)'\n"
                    "set grid\nset key outside right\n" % fmt(m and m["delivered_pps"] / 1e3))
            f.write("set logscale y\nset ylabel 'round trip, us (log)'\nset xrange [0:*]\n")
            plots = []
            for pi, path in enumerate(paths):
                idx = ci * len(paths) + pi
                for col, name in ((5, "p50"), (6, "p99"), (7, "p999")):
                    plots.append("'sweep.dat' index %d using 2:%d with linespoints dt %d pt %d lw 2 lc rgb '%s' "
                                 "title '%s %s'" % (idx, col, dash[path], pt[path], colors[name], path,
                                                   name.replace("p999", "p99.9")))
            f.write("plot " + ", \\\n     ".join(plots) + "\n")
            f.write("unset logscale y\nset ylabel 'loss, %'\nset yrange [0:*]\n")
            plots = ["'sweep.dat' index %d using 2:4 with linespoints dt %d pt %d lw 2 lc rgb '#444444' title '%s loss'"
                     % (ci * len(paths) + pi, dash[path], pt[path], path) for pi, path in enumerate(paths)]
            f.write("plot " + ", \\\n     ".join(plots) + "\n")
            f.write("set autoscale y\nunset multiplot\n")
    plotted = False
    if shutil.which("gnuplot"):
        r = subprocess.run(["gnuplot", "sweep.gp"], cwd=d, capture_output=True, text=True)
        plotted = r.returncode == 0
        if not plotted:
            sys.stderr.write("gnuplot failed: %s\n" % r.stderr[-500:])
    sys.stdout.write(table + "\n" + targets)
    if plotted:
        print("\nplots: " + " ".join(os.path.join(d, "sweep-%s.svg" % combo_slug(k)) for k in combos))
    else:
        print("\nno plot: gnuplot is not installed (Debian: apt-get install gnuplot-nox), "
              "then: cd %s && gnuplot sweep.gp" % d)


def main(argv):
    if len(argv) >= 3 and argv[1] == "summary":
        print(json.dumps(merged(argv[2:]).summary()))
        return 0
    if len(argv) == 3 and argv[1] == "sweep-report":
        sweep_report(argv[2])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
