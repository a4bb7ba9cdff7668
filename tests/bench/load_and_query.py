"""Peer of load_and_query.lua in plain Python (csv module, as the earlier
Python tool did without pandas): the same histories and top genres for
every user. It computes no recommendations, so it is the lighter job."""
import os
import sys
from collections import defaultdict, Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "py"))
import movielens as ml  # noqa: E402

rows = ml.interactions()
mv = ml.movies()
by_user = defaultdict(list)
for i, (u, item, ts, ev) in enumerate(rows):
    by_user[u].append((ts, i, item, ev))
hist_rows = genres = 0
for u, mine in by_user.items():
    mine.sort(reverse=True)
    seen, out = set(), []
    for ts, _, item, ev in mine:
        if item not in seen:
            seen.add(item)
            out.append(item)
    hist_rows += min(20, len(out))
    counts = Counter(g for item in seen for g in mv[item]["genres"].split("|") if g != "(no genres listed)")
    genres += len(counts)
print(f"users={len(by_user)} history_rows={hist_rows} genres={genres} recs={len(by_user) * 20}")
