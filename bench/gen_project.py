#!/usr/bin/env python3
"""Generate a synthetic tminus project and the equivalent Hugo site for the build benchmark.

Usage: gen_project.py --pages N [--seed S] --tminus DIR [--hugo DIR]

Both sites get the SAME Markdown bodies: N training guides of ~400-800 words each, with
several `##` headings, paragraphs, a list, a table and two fenced code blocks (bash, sql,
yaml, python, json) whose content differs on every page, so nothing can be cached.

Deterministic: page i depends only on (seed, i), so page 42 is identical whatever N is.
Python 3 standard library only.
"""

import argparse
import json
import os
import random

SYSTEMS = ["Field Service Hub", "PartsPoint", "the dispatch console", "the mobile app",
           "the ERP bridge", "the scheduler", "the sync gateway", "the reporting portal"]
ACTORS = ["engineers", "dispatchers", "depot managers", "planners", "the service desk",
          "floor walkers", "change champions", "the cutover team", "team leaders", "DBAs"]
VERBS = ["open", "review", "confirm", "update", "assign", "close", "export", "check",
         "reconcile", "escalate", "approve", "print", "search for", "filter", "hand over"]
OBJECTS = ["the job list", "a work order", "the parts request", "the customer signature",
           "the daily route", "an overdue visit", "the timesheet", "the asset history",
           "the stock level", "a follow-up job", "the handover note", "the site contact"]
WHENS = ["before the morning briefing", "at the end of each visit", "during the first week",
         "after go-live", "when the van stock is low", "as soon as the job is complete",
         "before you leave the depot", "within two working hours", "every Friday afternoon",
         "when the customer is not on site"]
ADVERBS = ["carefully", "first", "again", "straight away", "from the console", "on the app",
           "with your team leader", "in the new screen", "once", "without waiting"]
EXTRAS = [
    "The old FieldTrack screen is read-only from the evening of your go-live date.",
    "If something looks wrong, raise it with the service desk rather than working around it.",
    "Floor walkers are on site for the first two weeks and can show you this in person.",
    "Nothing you do in the training environment reaches a real customer.",
    "The quick reference card shows the same steps on a single page.",
    "Your depot manager can see the same information in the planning board.",
    "This replaces the paper job sheet that used to travel with the van.",
    "Photos and signatures upload automatically when the phone has signal again.",
    "Dispatch sees the change within a few seconds of you saving it.",
    "Write short, factual notes: the next engineer will read them on a small screen.",
]
HEADINGS = ["Before you start", "Signing in", "Your job list", "Starting a job",
            "Recording parts", "Completing a visit", "Handing over to dispatch",
            "Working offline", "Common problems", "Getting help", "Reports and exports",
            "Planning the week", "Checking stock", "Customer signatures", "Overtime and travel",
            "What changes for you", "Permissions", "Notifications", "Closing the day",
            "Escalations", "Audit trail", "Data you can trust", "Keyboard shortcuts",
            "Filters and saved views", "Attachments", "Safety checks"]
LANGS = ["bash", "sql", "yaml", "python", "json"]
TABLES = ["jobs", "work_orders", "parts_requests", "visits", "assets", "timesheets", "depots"]
DEPOTS = ["boston", "manchester", "leeds", "lyon", "new-york", "glasgow", "bristol", "dublin"]


def cap(s):
    return s[:1].upper() + s[1:]


def sentence(r):
    s = "{a} {v} {o} {w}".format(
        a=cap(r.choice(ACTORS)), v=r.choice(VERBS), o=r.choice(OBJECTS), w=r.choice(WHENS))
    roll = r.random()
    if roll < 0.25:
        s += " in " + r.choice(SYSTEMS)
    elif roll < 0.4:
        s += ", " + r.choice(ADVERBS)
    elif roll < 0.5:
        s += " (job `FSH-%06d`)" % r.randrange(1000000)
    if r.random() < 0.15:
        s = s.replace(" the ", " **the** ", 1)
    return s + "."


def paragraph(r):
    parts = [sentence(r) for _ in range(r.randint(2, 4))]
    if r.random() < 0.5:
        parts.insert(r.randrange(len(parts) + 1), r.choice(EXTRAS))
    return " ".join(parts)


def bullet_list(r):
    items = []
    for _ in range(r.randint(4, 7)):
        items.append("- %s %s %s." % (cap(r.choice(VERBS)), r.choice(OBJECTS), r.choice(WHENS)))
    if r.random() < 0.5:
        items = ["%d. %s" % (i + 1, it[2:]) for i, it in enumerate(items)]
    return "\n".join(items)


def table(r, n):
    rows = ["| Depot | Open jobs | Target (h) | Owner |", "|---|---:|---:|---|"]
    for _ in range(r.randint(4, 7)):
        rows.append("| %s | %d | %.1f | %s |" % (
            r.choice(DEPOTS).title(), r.randrange(5, 400), r.uniform(1, 48), r.choice(ACTORS)))
    rows.append("| Total (page %d) | %d | — | — |" % (n, r.randrange(400, 4000)))
    return "\n".join(rows)


def code(r, lang, n):
    depot = r.choice(DEPOTS)
    num = r.randrange(10000, 99999)
    if lang == "bash":
        lines = ["#!/usr/bin/env bash", "set -euo pipefail",
                 'DEPOT="%s"  # page %d' % (depot, n)]
        for _ in range(r.randint(3, 8)):
            lines.append(r.choice([
                'curl -fsS "https://fsh.contoso.example/api/v2/depots/$DEPOT/jobs?since=%d" | jq \'.items | length\'' % num,
                "az postgres flexible-server restart --name psql-fsh-%s-%d --resource-group rg-fsh" % (depot, r.randrange(99)),
                'for id in $(seq %d %d); do echo "checking job FSH-$id"; done' % (num, num + r.randrange(5, 50)),
                "kubectl -n fsh rollout status deploy/fsh-api-%s --timeout=%ds" % (depot, r.randrange(60, 600)),
                "grep -c 'ERROR' /var/log/fsh/sync-%d.log || true" % r.randrange(1000),
                'test "$(date +%%H)" -lt %d && echo "inside the window"' % r.randrange(1, 23),
            ]))
    elif lang == "sql":
        lines = ["-- page %d: open jobs at %s" % (n, depot)]
        for _ in range(r.randint(2, 4)):
            t = r.choice(TABLES)
            lines += [
                "SELECT id, status, assigned_to, updated_at",
                "FROM %s" % t,
                "WHERE depot = '%s' AND id > %d" % (depot, num + r.randrange(1000)),
                "  AND status IN ('open', 'in_progress')",
                "ORDER BY updated_at DESC LIMIT %d;" % r.randrange(10, 500),
            ]
        lines.append("UPDATE %s SET status = 'closed' WHERE id = %d;" % (r.choice(TABLES), num))
    elif lang == "yaml":
        lines = ["# page %d" % n, "depot: %s" % depot, "sync:",
                 "  interval_seconds: %d" % r.randrange(5, 300),
                 "  retries: %d" % r.randrange(1, 9), "notifications:"]
        for _ in range(r.randint(2, 6)):
            lines += ["  - event: %s" % r.choice(["job.assigned", "job.closed", "part.low", "visit.late"]),
                      "    to: [%s]" % r.choice(["dispatch", "depot-manager", "service-desk"]),
                      "    threshold: %d" % r.randrange(1, 100)]
    elif lang == "python":
        lines = ["import csv", "", "THRESHOLD = %d  # page %d" % (r.randrange(1, 500), n), "",
                 "def overdue(rows, depot=%r):" % depot,
                 '    """Jobs at `depot` older than THRESHOLD hours."""',
                 "    out = []", "    for row in rows:",
                 "        if row['depot'] == depot and int(row['age_h']) > THRESHOLD:",
                 "            out.append(row['id'])"]
        for _ in range(r.randint(1, 4)):
            lines.append("    out.sort(key=lambda j: j[-%d:])" % r.randrange(1, 6))
        lines += ["    return out", "",
                  "with open('jobs-%d.csv') as f:" % num,
                  "    print(len(overdue(csv.DictReader(f))))"]
    else:  # json
        obj = {"page": n, "depot": depot, "job": "FSH-%06d" % num,
               "parts": [{"sku": "P-%05d" % r.randrange(100000), "qty": r.randrange(1, 12)}
                         for _ in range(r.randint(1, 4))],
               "signed": r.random() < 0.5, "duration_minutes": r.randrange(15, 480)}
        lines = json.dumps(obj, indent=2).split("\n")
    return "```%s\n%s\n```" % (lang, "\n".join(lines))


def page(seed, n):
    """(title, summary, markdown body) of page n."""
    r = random.Random(seed * 1_000_003 + n)
    title = "%s: %s %s (guide %d)" % (cap(r.choice(SYSTEMS)), r.choice(HEADINGS),
                                        r.choice(["for " + a for a in ACTORS]), n)
    summary = sentence(r).replace("`", "").replace("*", "")
    langs = r.sample(LANGS, 2)
    headings = r.sample(HEADINGS, r.randint(5, 7))
    target = r.randint(450, 750)
    blocks = [paragraph(r), paragraph(r)]
    words = lambda: sum(len(b.split()) for b in blocks)
    extras = {1: bullet_list(r), 2: code(r, langs[0], n), 3: table(r, n), 4: code(r, langs[1], n)}
    for i, h in enumerate(headings):
        blocks.append("## " + h)
        blocks.append(paragraph(r))
        if i in extras:
            blocks.append(extras[i])
        if i >= 4 and words() < target:
            blocks.append(paragraph(r))
    while words() < target:
        blocks.insert(len(blocks) - 1, paragraph(r))
    return title, summary, "\n\n".join(blocks) + "\n"


def q(s):
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


PROJECT_YAML = """\
project: Benchmark Cutover
system: Field Service Hub
version: "1.0"
timezone: Europe/London
go_live: 2027-03-29T18:00
audiences:
  all-staff:
    to: [all-staff@contoso.example]
roster:
  - role: cutover-lead
    name: Priya Shah
    email: priya.shah@contoso.example
  - role: training-lead
    name: Sophie Martin
    email: sophie.martin@contoso.example
"""

HUGO_CONFIG = """\
baseURL = "https://bench.example/"
title = "Benchmark Cutover"
languageCode = "en"
# Only what tminus builds too: home, the guides list and one page per guide.
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]

[markup.highlight]
codeFences = true
noClasses = false

[markup.tableOfContents]
startLevel = 2
endLevel = 3
"""

BASEOF = """\
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
<link rel="stylesheet" href="{{ "assets/style.css" | relURL }}"><link rel="stylesheet" href="{{ "assets/syntax.css" | relURL }}"></head>
<body>
<nav><a href="{{ "/" | relURL }}">Dashboard</a> <a href="{{ "guides/" | relURL }}" aria-current="page">Training</a> <a href="{{ "cutover/" | relURL }}">Cutover</a> <a href="{{ "runbooks/" | relURL }}">Runbooks</a> <a href="{{ "checklists/" | relURL }}">Checklists</a> <a href="{{ "comms/" | relURL }}">Comms</a></nav>
<main>{{ block "main" . }}{{ end }}</main>
</body></html>
"""

SINGLE = """\
{{ define "main" }}<article><h1>{{ .Title }}</h1><p class="summary">{{ .Summary }}</p>
<nav class="toc">{{ .TableOfContents }}</nav>
{{ .Content }}</article>{{ end }}
"""

LIST = """\
{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> — {{ .Params.summary }}</li>{{ end }}</ul>{{ end }}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20270329)
    ap.add_argument("--tminus", required=True, help="folder for the tminus project")
    ap.add_argument("--hugo", help="folder for the equivalent Hugo site")
    a = ap.parse_args()

    write(os.path.join(a.tminus, "content", "project.yaml"), PROJECT_YAML)
    if a.hugo:
        write(os.path.join(a.hugo, "config.toml"), HUGO_CONFIG)
        write(os.path.join(a.hugo, "layouts", "_default", "baseof.html"), BASEOF)
        write(os.path.join(a.hugo, "layouts", "_default", "single.html"), SINGLE)
        write(os.path.join(a.hugo, "layouts", "_default", "list.html"), LIST)
        write(os.path.join(a.hugo, "content", "guides", "_index.md"), "---\ntitle: Training\n---\n")
    total_words = 0
    for n in range(1, a.pages + 1):
        title, summary, body = page(a.seed, n)
        total_words += len(body.split())
        name = "guide-%05d.md" % n
        write(os.path.join(a.tminus, "content", "training", name),
              "---\ntitle: %s\nkind: guide\nduration: 30m\nsummary: %s\n---\n%s" % (q(title), q(summary), body))
        if a.hugo:
            write(os.path.join(a.hugo, "content", "guides", name),
                  "---\ntitle: %s\nsummary: %s\n---\n%s" % (q(title), q(summary), body))
    print("generated %d pages, %d words (%.0f per page)" % (a.pages, total_words, total_words / max(a.pages, 1)))


if __name__ == "__main__":
    main()
