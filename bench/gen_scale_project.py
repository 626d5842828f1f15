#!/usr/bin/env python3
"""The 100,000-recipient project (issue 16): the repository's example project (content/)
with its `all-staff` audience replaced by a CSV of N people (default 100,000) spread over
seven zones and two locales, and optionally a send ledger.

    python3 bench/gen_scale_project.py OUT [--people N] [--seed S] [--ledger [--sent K]]

Writes OUT/content/ (a copy of the example with content/audiences/all-staff.csv and the
project file pointing at it). Deterministic for a given seed: person i gets zone
ZONES[i % 7] (blank for every seventh, so the audience's project zone applies) and the
locale `fr` for one in five (else blank or `en`).

--ledger also writes OUT/.tminus/sent.jsonl as `comms send` would have left it after
sending "get-ready" of the main rollout to everyone (a `claim` then a `sent` record per
recipient: 2 x N lines), so `build` and `comms status` have a ledger to read; --sent K
(1 to 3) also marks "almost-here" and "final-reminder" sent (2 x K x N lines).
"""

import argparse
import json
import random
import re
import shutil
from pathlib import Path

ZONES = [
    "",  # the project's zone (Europe/London)
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
]
FIRST = ["Ana", "Bo", "Chidi", "Dee", "Erik", "Fatima", "Gus", "Hana", "Ivan", "Jo",
         "Kemal", "Lena", "Mateo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Okafor", "Smith", "Martin", "Nowak", "Garcia", "Chen", "Dubois", "Kowalski",
        "Patel", "Murphy", "Rossi", "Jensen", "Silva", "Ahmed", "Novak", "Kim"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--ledger", action="store_true")
    ap.add_argument("--sent", type=int, default=1, choices=[1, 2, 3])
    args = ap.parse_args()

    repo = Path(__file__).resolve().parent.parent
    out: Path = args.out
    if (out / "content").exists():
        shutil.rmtree(out / "content")
    shutil.copytree(repo / "content", out / "content")

    project = out / "content" / "project.yaml"
    text = project.read_text()
    text, n = re.subn(
        r"(?m)^  all-staff:\n    to: \[all-staff@contoso\.example\]\n",
        "  all-staff:\n    file: audiences/all-staff.csv\n",
        text,
    )
    assert n == 1, "the example's all-staff audience was not found in project.yaml"
    project.write_text(text)

    rng = random.Random(args.seed)
    people = []
    lines = ["email,name,locale,timezone"]
    for i in range(args.people):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        email = f"{name.lower().replace(' ', '.')}.{i}@contoso.example"
        locale = "fr" if i % 5 == 0 else ("en" if i % 2 else "")
        zone = ZONES[i % len(ZONES)]
        lines.append(f"{email},{name},{locale},{zone}")
        people.append((email, locale or "en"))
    (out / "content" / "audiences" / "all-staff.csv").write_text("\n".join(lines) + "\n")

    if args.ledger:
        ledger = out / ".tminus" / "sent.jsonl"
        ledger.parent.mkdir(parents=True, exist_ok=True)
        with ledger.open("w") as f:
            for day, message in [(15, "get-ready"), (22, "almost-here"), (27, "final-reminder")][: args.sent]:
                for i, (email, locale) in enumerate(people):
                    key = {"id": message, "wave": "main-rollout", "to": email}
                    mid = f"<{i:08x}.{message}@contoso.example>"
                    at = f"2027-03-{day}T{9 + i // 40000:02d}:{(i // 700) % 60:02d}:{i % 60:02d}Z"
                    claim = {"event": "claim", "at": at, **key, "locale": locale,
                             "message_id": mid, "send_at": f"2027-03-{day}T09:00:00Z", "pid": 4242}
                    sent = {"event": "sent", "at": at, **key, "locale": locale,
                            "message_id": mid, "reply": "250 2.0.0 Ok: queued as 4F2A1", "pid": 4242}
                    f.write(json.dumps(claim, separators=(",", ":")) + "\n")
                    f.write(json.dumps(sent, separators=(",", ":")) + "\n")
    print(f"{out}: {args.people} people in all-staff" + (", with a ledger" if args.ledger else ""))


if __name__ == "__main__":
    main()
