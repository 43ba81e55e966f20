"""Join the two tools' requests (as the server logged them) and per-item scores, and print the
parity table. Called by `run`; usable alone on a finished run's output folder."""

import argparse
import csv
import glob
import json
import math
import os
import sys


def wilson(k, n, z=1.959964):
    if n == 0:
        return (float("nan"),) * 3
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return p, max(0.0, c - h), min(1.0, c + h)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def mmlu_text(question, choices):
    # lm-eval's doc_to_text for MMLU; used only to find which item a request is about.
    return f"{question.strip()}\nA. {choices[0]}\nB. {choices[1]}\nC. {choices[2]}\nD. {choices[3]}\nAnswer:"


def load_items(data, gsm8k_limit, subjects, mmlu_limit):
    """(benchmark, key) -> (the final user turn lm-eval's template gives, a fragment to search)."""
    items = {}
    with open(os.path.join(data, "gsm8k", "test.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= gsm8k_limit:
                break
            q = json.loads(line)["question"]
            items[("gsm8k", str(i))] = (f"Question: {q}\nAnswer:", q.strip())
    for s in subjects:
        with open(os.path.join(data, "mmlu", "test", f"{s}_test.csv"), newline="", encoding="utf-8") as f:
            for i, row in enumerate(csv.reader(f)):
                if i >= mmlu_limit:
                    break
                items[(s, str(i))] = (mmlu_text(row[0], row[1:5]), row[0].strip())
    return items


def requests_by_item(path, items):
    """The last answered request for each item, found by its final user turn."""
    exact = {}
    for key, (text, _) in items.items():
        exact.setdefault(text, []).append(key)
    out, unmatched = {}, 0
    for line in read_jsonl(path):
        if line.get("error") or line.get("endpoint") != "/chat/completions":
            continue
        messages = line["request"]["messages"]
        last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        keys = exact.get(last)
        if not keys:  # not lm-eval's layout: find the question inside it
            keys = [k for k, (_, frag) in items.items() if frag and frag in last]
        if len(keys) > 1:  # the same question twice: tell subjects apart by the description
            keys = [k for k in keys if k[0] == "gsm8k" or k[0].replace("_", " ") in system] or keys
        if not keys:
            unmatched += 1
            continue
        for k in keys:
            out[k] = line
    return out, unmatched


def touchstone_scores(out, subjects):
    scores = {}
    for path in glob.glob(os.path.join(out, "ts", "*", "samples.jsonl")):
        for s in read_jsonl(path):
            if s.get("status") != "scored":
                continue
            sid = s["sample_id"]
            key = ("gsm8k", sid) if "/" not in sid else tuple(sid.split("/", 1))
            scores[key] = float(s["score"])
    return scores


def lm_eval_scores(out):
    scores = {}
    for path in glob.glob(os.path.join(out, "lm", "**", "samples_parity_*.jsonl"), recursive=True):
        task = os.path.basename(path)[len("samples_parity_"):].rsplit("_", 1)[0]
        bench = "gsm8k" if task == "gsm8k" else task[len("mmlu_"):]
        for s in read_jsonl(path):
            scores[(bench, str(s["doc_id"]), s["filter"])] = float(s["exact_match"])
    return scores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--gsm8k-limit", type=int, default=250)
    ap.add_argument("--mmlu-limit", type=int, default=40)
    ap.add_argument("--subjects", nargs="*", default=[])
    a = ap.parse_args()

    items = load_items(a.data, a.gsm8k_limit, a.subjects, a.mmlu_limit)
    ts_req, ts_unmatched = requests_by_item(os.path.join(a.out, "touchstone-requests.jsonl"), items)
    lm_req, lm_unmatched = requests_by_item(os.path.join(a.out, "lm-eval-requests.jsonl"), items)
    ts_sc = touchstone_scores(a.out, a.subjects)
    lm_sc = lm_eval_scores(a.out)
    filt = {"gsm8k": "flexible-extract"}

    def row(name, keys):
        n = len(keys)
        same_prompt = sum(1 for k in keys if k in ts_req and k in lm_req and ts_req[k]["request"]["messages"] == lm_req[k]["request"]["messages"])
        same_resp = sum(1 for k in keys if k in ts_req and k in lm_req and ts_req[k]["response"] == lm_req[k]["response"])
        lm = [lm_sc.get((k[0], k[1], filt.get(k[0], "get_response"))) for k in keys]
        ts = [ts_sc.get(k) for k in keys]
        same_score = sum(1 for x, y in zip(lm, ts) if x is not None and x == y)
        lm_n, ts_n = sum(x is not None for x in lm), sum(y is not None for y in ts)
        lp, ll, lh = wilson(sum(x for x in lm if x is not None), lm_n)
        tp, tl, th = wilson(sum(y for y in ts if y is not None), ts_n)
        pct = lambda k: f"{100 * k / n:.1f}% ({k}/{n})" if n else "-"
        return (f"| {name} | {n} | {pct(same_prompt)} | {pct(same_resp)} | {pct(same_score)} | "
                f"{lp:.3f} [{ll:.3f}, {lh:.3f}] (n={lm_n}) | {tp:.3f} [{tl:.3f}, {th:.3f}] (n={ts_n}) |"), (n, same_prompt, same_score)

    print("| benchmark | items | same prompt (bytes) | same response | same item score | lm-eval score [95% CI] | Touchstone score [95% CI] |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    gsm = sorted((k for k in items if k[0] == "gsm8k"), key=lambda k: int(k[1]))
    r, tot = row(f"gsm8k (first {a.gsm8k_limit}, 0-shot)", gsm)
    print(r)
    totals = [tot]
    mmlu_all = []
    for s in a.subjects:
        keys = sorted((k for k in items if k[0] == s), key=lambda k: int(k[1]))
        mmlu_all += keys
        r, _ = row(f"mmlu {s} (5-shot)", keys)
        print(r)
    if mmlu_all:
        r, tot = row(f"mmlu, {len(a.subjects)} subjects (first {a.mmlu_limit} each)", mmlu_all)
        print(r)
        totals.append(tot)
    n = sum(t[0] for t in totals)
    both_same = [k for k in items if k in ts_req and k in lm_req and ts_req[k]["response"] == lm_req[k]["response"]]
    agree = sum(1 for k in both_same if lm_sc.get((k[0], k[1], filt.get(k[0], "get_response"))) == ts_sc.get(k))
    print(f"| **all** | {n} | {100 * sum(t[1] for t in totals) / n:.1f}% | | {100 * sum(t[2] for t in totals) / n:.1f}% | | |")
    print()
    print(f"Where the server gave both tools the same answer, the two scorers agree on {agree} of {len(both_same)} items.")
    print("Scores: GSM8K is lm-eval's exact_match with its flexible-extract filter against Touchstone's `numeric`;"
          " MMLU is lm-eval's generative exact_match (get_response filter) against Touchstone's `choice`."
          " CIs are Wilson 95% intervals on the per-item scores, computed the same way for both tools.")
    if ts_unmatched or lm_unmatched:
        print(f"Requests not matched to an item: Touchstone {ts_unmatched}, lm-eval {lm_unmatched}.")
    # Generation settings each tool sent (they decide the answer as much as the prompt does).
    def params(reqs, bench):
        seen = set()
        for k, line in reqs.items():
            if (k[0] == "gsm8k") == (bench == "gsm8k"):
                p = {f: line["request"].get(f) for f in ("max_tokens", "temperature", "stop")}
                seen.add(json.dumps(p, sort_keys=True))
        return " / ".join(sorted(seen))
    for bench in ("gsm8k", "mmlu"):
        print(f"Request settings, {bench}: lm-eval {params(lm_req, bench)}; Touchstone {params(ts_req, bench)}.")
    # Every item where the tools disagree, with the reason.
    keys = gsm + mmlu_all
    diffs = []
    for k in keys:
        t, l = ts_req.get(k), lm_req.get(k)
        prompt_same = t is not None and l is not None and t["request"]["messages"] == l["request"]["messages"]
        ls, tsc = lm_sc.get((k[0], k[1], filt.get(k[0], "get_response"))), ts_sc.get(k)
        if prompt_same and ls == tsc:
            continue
        resp = lambda x: (x["response"][0] if x and x["response"] else None)
        diffs.append({"item": "/".join(k), "same_prompt": prompt_same, "same_response": resp(t) == resp(l),
                      "lm_eval_score": ls, "touchstone_score": tsc, "lm_eval_response": resp(l), "touchstone_response": resp(t)})
    with open(os.path.join(a.out, "mismatches.jsonl"), "w", encoding="utf-8") as f:
        for d in diffs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    if diffs:
        print(f"\n{len(diffs)} item(s) differ (all in {os.path.join(a.out, 'mismatches.jsonl')}):")
        for d in diffs[:40]:
            print(f"- {d['item']}: prompt {'same' if d['same_prompt'] else 'DIFFERENT'}, response "
                  f"{'same' if d['same_response'] else 'different'}, lm-eval {d['lm_eval_score']} vs Touchstone "
                  f"{d['touchstone_score']}; answer {json.dumps((d['touchstone_response'] or '')[-160:], ensure_ascii=False)}")


if __name__ == "__main__":
    sys.exit(main())
