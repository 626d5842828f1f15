#!/usr/bin/env python3
"""Generate a large tminus project for the search-index benchmark (BENCHMARKS.md).

    python3 benches/gen_training_project.py OUT_DIR [PAGES]

Copies the example project (content/) and adds PAGES training guides (default 10,000) with
the training front matter keys (title, audience, duration, kind, order, summary) and four
`##` sections of ~100 words each. Words come from the example's own training text plus a
long tail of generated terms drawn with a Zipf-like distribution, so the vocabulary grows
with the site the way real documentation does. Deterministic (fixed seed).
"""
import os
import random
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS = ["guide", "quick-reference", "faq", "exercise"]
AUDIENCES = ["pilot-users", "early-adopters", "all-staff", "service-desk"]


def main():
    out = sys.argv[1]
    pages = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rng = random.Random(20270329)
    if os.path.exists(out):
        shutil.rmtree(out)
    shutil.copytree(os.path.join(ROOT, "content"), os.path.join(out, "content"))
    text = ""
    for name in sorted(os.listdir(os.path.join(ROOT, "content", "training"))):
        if name.endswith(".md"):
            with open(os.path.join(ROOT, "content", "training", name), encoding="utf-8") as f:
                text += f.read().split("---", 2)[-1]
    common = sorted(set(w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)))
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "str", "an", "el", "or"]
    tail = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(30_000)})
    # Zipf-ish: word i drawn with weight 1/(i+1); the example's words are the head.
    vocab = common + tail
    weights = [1.0 / (i + 1) for i in range(len(vocab))]

    def words(n):
        return " ".join(rng.choices(vocab, weights=weights, k=n))

    tdir = os.path.join(out, "content", "training")
    for i in range(pages):
        kind = KINDS[i % len(KINDS)]
        audience = rng.sample(AUDIENCES, rng.randint(1, 2))
        title = f"{words(3).capitalize()} {i}"
        body = [words(40).capitalize() + "."]
        for s in range(4):
            body.append(f"\n## {words(3).capitalize()} {s}\n\n{words(100).capitalize()}.")
        with open(os.path.join(tdir, f"gen-{i:05}.md"), "w", encoding="utf-8") as f:
            f.write("---\n")
            f.write(f'title: "{title}"\n')
            f.write(f"audience: [{', '.join(audience)}]\n")
            f.write(f"duration: {rng.choice([10, 15, 20, 30, 45])}m\n")
            f.write(f"kind: {kind}\n")
            f.write(f"order: {10 + i}\n")
            f.write(f'summary: "{words(12).capitalize()}."\n')
            f.write("---\n")
            f.write("\n".join(body) + "\n")
    print(f"{pages} guides written to {tdir}")


if __name__ == "__main__":
    main()
