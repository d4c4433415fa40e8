#!/usr/bin/env python3
"""Checks the index.html of an aekit train run folder against the folder:

- a self-contained HTML page (doctype, inline style, no scripts, no remote
  resources);
- the metrics table has one row per data row of metrics.csv, epochs 1..N in
  order, with the same values in the columns they share (metrics.csv's
  columns; val_recon/val_kl only for a VAE, disc_accuracy only for an AAE);
- every <img src> is a file of the folder, and every PNG of the folder is
  shown.

Prints what is wrong and exits 1, or exits 0. Standard library only.
usage: python3 tests/check_run_index.py RUN_DIR
"""
import csv
import html.parser
import math
import os
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.scripts, self.tables = [], 0, []
        self.row, self.cell, self.in_table = None, None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        elif tag == "script":
            self.scripts += 1
        elif tag == "table":
            self.tables.append({"class": a.get("class", ""), "rows": []})
        elif tag == "tr" and self.tables:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[-1]["rows"].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def main():
    run = sys.argv[1]
    problems = []
    try:
        text = open(os.path.join(run, "index.html"), encoding="utf-8").read()
    except OSError as e:
        print("      index.html: %s" % e)
        sys.exit(1)
    if not text.startswith("<!DOCTYPE html>"):
        problems.append("no <!DOCTYPE html> at the start")
    if "<style>" not in text:
        problems.append("no inline <style>")
    for bad in ("http://", "https://", "<link", "<script"):
        if bad in text:
            problems.append("not self-contained: has %r" % bad)
    page = Page()
    page.feed(text)

    with open(os.path.join(run, "metrics.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    metrics = [t for t in page.tables if "metrics" in t["class"].split()]
    if len(metrics) != 1:
        problems.append("%d metrics tables (want 1)" % len(metrics))
    else:
        head, body = metrics[0]["rows"][0], metrics[0]["rows"][1:]
        if len(body) != len(rows):
            problems.append("%d table rows for %d rows of metrics.csv" % (len(body), len(rows)))
        want = ["epoch", "train_loss", "val_loss", "val_mse"]
        vae = rows and any(float(r["val_kl"]) != 0 for r in rows)
        aae = rows and any(not math.isnan(float(r["disc_accuracy"])) for r in rows)
        want += ["val_recon", "val_kl"] if vae else []
        want += ["disc_accuracy"] if aae else []
        want += ["seconds", "images_per_second", "lr"]
        if head != want:
            problems.append("columns %s, want %s" % (head, want))
        for i, (cells, r) in enumerate(zip(body, rows)):
            got = dict(zip(head, cells))
            if got.get("epoch") != str(i + 1) or r["epoch"] != str(i + 1):
                problems.append("row %d: epoch %s (metrics.csv: %s)" % (i + 1, got.get("epoch"), r["epoch"]))
            for k in head:
                if k in ("epoch", "seconds", "images_per_second"):
                    continue
                if got.get(k) != r[k]:
                    problems.append("row %d: %s is %s, metrics.csv says %s" % (i + 1, k, got.get(k), r[k]))
            if abs(float(got.get("seconds", "nan")) - float(r["seconds"])) > 0.006:
                problems.append("row %d: seconds %s vs %s" % (i + 1, got.get("seconds"), r["seconds"]))

    pngs = sorted(f for f in os.listdir(run) if f.endswith(".png"))
    for src in page.imgs:
        if "/" in src or not os.path.isfile(os.path.join(run, src)):
            problems.append("<img src=%r>: no such file in the run folder" % src)
    for f in pngs:
        if f not in page.imgs:
            problems.append("%s is not shown" % f)
    for p in problems:
        print("      index.html: " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
