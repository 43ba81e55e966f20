"""Loaders for the parity tasks: the authors' files in ../shared/data, read with the standard
library (no type guessing: "2.50" stays "2.50", "None" stays "None"), into the same fields as the
Hugging Face copies lm-evaluation-harness's own tasks use (cais/mmlu, openai/gsm8k), so that the
stock prompt templates apply unchanged."""

import csv
import json
import os
from pathlib import Path

import datasets

# <repo>/bench/parity/tasks/utils.py -> <repo>/../shared/data
DEFAULT_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def _data_dir():
    return Path(os.environ.get("PARITY_DATA_DIR", DEFAULT_DATA))


def _mmlu_split(subject, split):
    path = _data_dir() / "mmlu" / split / f"{subject}_{split}.csv"
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            question, a, b, c, d, answer = row
            rows.append(
                {"question": question, "subject": subject, "choices": [a, b, c, d], "answer": "ABCD".index(answer.strip())}
            )
    return datasets.Dataset.from_list(rows)


def load_mmlu(subject, **_):
    return datasets.DatasetDict({"test": _mmlu_split(subject, "test"), "dev": _mmlu_split(subject, "dev")})


def load_gsm8k(**_):
    path = _data_dir() / "gsm8k" / "test.jsonl"
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rows = [{"question": r["question"], "answer": r["answer"]} for r in rows]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})
