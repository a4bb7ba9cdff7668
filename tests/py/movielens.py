"""An independent reading of the MovieLens files, for cross-checking what
mlpz-lua prints: derives interactions the way the AWS notebooks do (a click
for every rating > 1, then a watch for every rating > 3) with Python's csv
module, nothing shared with the C loader."""
import csv
import datetime
import os
from collections import Counter

DATA = os.environ["MLPZ_DATA"]


def movies():
    with open(os.path.join(DATA, "movies.csv"), encoding="utf-8", newline="") as f:
        return {r["movieId"]: r for r in csv.DictReader(f)}


def interactions():
    with open(os.path.join(DATA, "ratings.csv"), newline="") as f:
        ratings = list(csv.DictReader(f))
    rows = [(r["userId"], r["movieId"], int(r["timestamp"]), "click")
            for r in ratings if float(r["rating"]) > 1]
    rows += [(r["userId"], r["movieId"], int(r["timestamp"]), "watch")
             for r in ratings if float(r["rating"]) > 3]
    return rows


def history(rows, user, limit=None, unique=True):
    """Newest first: timestamp descending, then later row first."""
    mine = [(ts, i, item, ev) for i, (u, item, ts, ev) in enumerate(rows) if u == user]
    mine.sort(key=lambda r: (r[0], r[1]), reverse=True)
    out, seen = [], set()
    for ts, _, item, ev in mine:
        if unique and item in seen:
            continue
        seen.add(item)
        date = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        out.append((item, ev, date))
    return out[:limit] if limit else out


def top_genres(rows, user, mv):
    counts = Counter()
    for item in {item for u, item, _, _ in rows if u == user}:
        for g in mv[item]["genres"].split("|"):
            if g != "(no genres listed)":
                counts[g] += 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
