#!/bin/sh
# batch_output.lua end to end on the three real batch outputs of the seed
# samples, every figure of the SUMMARY recomputed by python3 from the same
# files and the MovieLens CSVs (tests/py/movielens.py); then --record,
# --limit, --format json, malformed, missing, empty and mixed files, and
# s3:// URLs against moto's S3 server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
cd "$WORK" || exit 1
S=$ROOT/scripts/batch_output.lua
SEED=$MLPZ_SHARED/seed-samples
UP=$SEED/batch-output-user-personalization-20201105-161225.json
SI=$SEED/batch-output-similar-items-20201106-042152.json
PR=$SEED/batch-output-personalized-ranking-20201106-044648.json
PY="import sys, json, collections; sys.path.insert(0, '$ROOT/tests/py'); import movielens as ml"

# expected FILE: the lines the table report must contain, computed from the
# file with Python's json and from the CSVs with Python's csv.
expected() {
    python3 -c "$PY
records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mv = ml.movies(); rows = ml.interactions()
ok = [r for r in records if r.get('error') is None and r.get('output')]
lists = [r['output']['recommendedItems'] for r in ok]
distinct = {i for l in lists for i in l}
known = len(distinct & set(mv))
print('records: %d' % len(records))
print('records_with_errors: %d' % (len(records) - len(ok)))
print('distinct_recommended_items: %d' % len(distinct))
print('catalogue_coverage: %.1f%% (%s of %s movies)' % (100 * known / len(mv), f'{known:,}', f'{len(mv):,}'))
users_of = collections.defaultdict(set)
for u, item, ts, ev in rows: users_of[item].add(u)
kind = records[0]['input']
if 'itemId' in kind:
    counts = collections.Counter(tuple(l) for l in lists)
    top, n = counts.most_common(1)[0]
    print('identical_lists: %d of %d records got the same list (starting %s)' % (n, len(lists), ', '.join(top[:3])))
    popular = [k for k, v in sorted(users_of.items(), key=lambda kv: -len(kv[1]))[:len(top)]]
    print(\"%d of its %d items are among the dataset's %d most popular movies\" % (len(set(top) & set(popular)), len(top), len(top)))
    inside = [len(users_of.get(r['input']['itemId'], ())) for r in ok if tuple(r['output']['recommendedItems']) == top]
    others = sorted(len(users_of.get(r['input']['itemId'], ())) for r in ok if tuple(r['output']['recommendedItems']) != top)
    m = len(others) // 2
    med = others[m] if len(others) % 2 else (others[m - 1] + others[m]) / 2
    print(\"those records' items have at most %d users in the dataset (median %s for the other records)\" % (max(inside), med if med != int(med) else int(med)))
else:
    users = {u for u, _, _, _ in rows}
    matched = counted = 0
    for r in ok:
        u = r['input']['userId']
        if u not in users: continue
        g = collections.Counter(x for i in r['output']['recommendedItems'][:5] if i in mv
                                for x in mv[i]['genres'].split('|') if x != '(no genres listed)')
        top = sorted(g.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        mine = [x for x, _ in ml.top_genres(rows, u, mv)[:3]]
        counted += 1; matched += top in mine
    print('top_genre_match: %d of %d records (%.1f%%)' % (matched, counted, 100 * matched / counted))
# Titles of a few recommended ids, from movies.csv.
for r in (ok[0], ok[len(ok) // 2], ok[-1]):
    print(mv[r['output']['recommendedItems'][0]]['title'])
    print(mv[r['output']['recommendedItems'][-1]]['title'])
" "$1"
}

# expect_lines NAME FILE: every line of FILE appears in the output.
expect_lines() {
    if [ ! -s "$2" ]; then fail "$name: $1" "no reference lines"; return; fi
    missing=$(while IFS= read -r want; do grep -qF -- "$want" "$WORK/out" || echo "$want"; done < "$2")
    if [ -z "$missing" ]; then pass "$name: $1 ($(wc -l < "$2") lines)"; else fail "$name: $1" "missing: $missing"; fi
}

# record_headers: the "RECORD N: USER|ITEM id" section titles of the output.
record_headers() {
    grep -Ec '^\*+ RECORD [0-9]+: (USER|ITEM) [^ ]+ \*+$' "$WORK/out"
}

for f in "$UP" "$SI" "$PR"; do
    kind=$(basename "$f" | sed 's/^batch-output-//; s/-[0-9-]*\.json$//')
    run "$kind" "$MLPZ_BIN" "$S" "$f"
    expect_status 0
    expect_err "says what it read" "^Read 50 $kind records from "
    n=$(record_headers)
    if [ "$n" -eq 50 ]; then pass "$name: 50 records shown"; else fail "$name: 50 records shown" "got $n"; fi
    expect_out "SUMMARY section" '^\*+ SUMMARY \*+$'
    expect_out "job type" "^job_type: $kind$"
    expect_out "no malformed lines" '^malformed_lines: 0$'
    expected "$f" > "$WORK/want.txt" || : > "$WORK/want.txt"
    expect_lines "summary figures and titles match an independent computation" "$WORK/want.txt"
done

run "user-personalization sections" "$MLPZ_BIN" "$S" "$UP" --record 1
for section in "RECORD 1: USER 581" "RECORD 1: RECENT USER INTERACTIONS" "RECORD 1: USER TOP GENRES" \
               "RECORD 1: RECOMMENDED ITEMS"; do
    expect_out "section $section" "^\*+ $section \*+$"
done
expect_out "the summary still covers the file" '^Over all 50 records of the file \(1 shown\)$'
run "similar-items sections" "$MLPZ_BIN" "$S" "$SI" --record 2
expect_out "section ITEM" '^\*+ RECORD 2: ITEM 127194 \*+$'
expect_out "item title" '^Title: The D Train \(2015\)$'
expect_out "section SIMILAR ITEMS" '^\*+ RECORD 2: SIMILAR ITEMS \*+$'
expect_out "says the list is shared" 'the same list as 27 other records'
expect_out "probably a fallback" 'probably a popularity fallback for items with too few interactions'
expect_out "IDENTICAL LISTS section" '^\*+ IDENTICAL LISTS \*+$'
run "ranking sections" "$MLPZ_BIN" "$S" "$PR" --record 31
for section in "RECORD 31: USER 0" "RECORD 31: UNRANKED vs RERANKED ITEMS" "RECORD 31: RERANKED ITEMS"; do
    expect_out "section $section" "^\*+ $section \*+$"
done
expect_out "unknown user said, recommendations still shown" '^User 0 is not in the dataset'
expect_out "reranked titles" 'Poltergeist \(1982\)'

# --- --record / --limit -------------------------------------------------------
run "--limit 5" "$MLPZ_BIN" "$S" "$SI" --limit 5
expect_status 0
n=$(record_headers)
if [ "$n" -eq 5 ]; then pass "$name: 5 records shown"; else fail "$name: 5 records shown" "got $n"; fi
expect_out "the fifth is record 5" '^\*+ RECORD 5: ITEM 169982 \*+$'
expect_out "summary over 50" '^records: 50$'
run "--record 3" "$MLPZ_BIN" "$S" "$SI" --record 3
n=$(record_headers)
want=$(python3 -c "import json, sys; print(json.loads(open(sys.argv[1]).readlines()[2])['input']['itemId'])" "$SI")
if [ "$n" -eq 1 ] && grep -Eq "^\*+ RECORD 3: ITEM $want \*+$" "$WORK/out"; then pass "$name: only record 3 ($want)"
else fail "$name: only record 3 ($want)" "$n records: $(grep RECORD "$WORK/out" | head -3)"; fi
run "--record 51" "$MLPZ_BIN" "$S" "$SI" --record 51
expect_status 2
expect_err "says there is none" "there is no record 51: .* has 50"
expect_one_line_error
run "--record and --limit" "$MLPZ_BIN" "$S" "$SI" --record 1 --limit 2
expect_status 2
expect_one_line_error

# --- --format json -------------------------------------------------------------
run "ranking json" "$MLPZ_BIN" "$S" "$PR" --format json
expect_status 0
expect_py "every record's reranked items, scores and titles as in the file" "$PY
doc = json.load(sys.stdin)
mv = ml.movies()
records = [json.loads(l) for l in open('$PR')]
for n, r in enumerate(records, 1):
    u = r['input']['userId']
    info = doc.get('record_%d_user_%s' % (n, u))
    if not info or info['user_id'] != u: print('record', n, 'info', info); break
    rows = doc['record_%d_reranked_items' % n]['rows']
    if [x['ITEM_ID'] for x in rows] != r['output']['recommendedItems']: print('ids of', n); break
    if any(abs(x['SCORE'] - s) > 1e-9 for x, s in zip(rows, r['output']['scores'])): print('scores of', n); break
    if any(x['TITLE'] != mv[x['ITEM_ID']]['title'] for x in rows): print('titles of', n); break
    side = doc['record_%d_unranked_vs_reranked_items' % n]
    if [x['Unranked Movies'] for x in side] != [mv[i]['title'] for i in r['input']['itemList']]: print('unranked', n); break
if 'User 0 is not in the dataset' not in doc['record_31_user_0'].get('note', ''): print('user 0 note')
s = doc['summary']
if s['records'] != 50 or s['records_with_errors'] != 0 or s['not_a_reordering_of_item_list'] != 0: print(s)
if s['distinct_recommended_items'] != len({i for r in records for i in r['output']['recommendedItems']}): print(s)
"
run "similar-items json" "$MLPZ_BIN" "$S" "$SI" --format json --limit 1
expect_status 0
expect_py "identical lists as Python groups them" "$PY
doc = json.load(sys.stdin)
lists = collections.Counter(tuple(json.loads(l)['output']['recommendedItems']) for l in open('$SI'))
groups = [(n, ', '.join(k[:3])) for k, n in lists.most_common() if n > 1]
got = [(g['COUNT'], g['STARTING WITH']) for g in doc['identical_lists']['rows']]
if got != groups: print(got, groups)
if list(doc) != ['record_1_item_75341', 'record_1_similar_items', 'identical_lists', 'summary']: print(list(doc))
"
run "csv" "$MLPZ_BIN" "$S" "$UP" --format csv --record 2
expect_status 0
expect_out "summary as a table" '^distinct_recommended_items,725$'
expect_out "recommendations as a table" '^# RECORD 2: RECOMMENDED ITEMS$'

# --- errors in the file ---------------------------------------------------------
python3 -c "
import sys
lines = open(sys.argv[1]).readlines()
lines[1] = lines[1][:60] + '\n'
lines[3] = '{\"input\": {\"userId\": \"42\"}, \"error\": \"User not found in the solution version\"}\n'
open('bad.json', 'w').writelines(lines)
" "$UP"
run "one malformed line" "$MLPZ_BIN" "$S" bad.json
expect_status 2
expect_err "FILE:LINE message" "^bad.json:2: not valid JSON: the line ends before the JSON does \(truncated\?\)$"
expect_err "last line counts them" "^batch_output.lua: bad.json: 1 malformed line of 50 \(listed above\); the other records are shown$"
n=$(record_headers)
if [ "$n" -eq 49 ]; then pass "$name: the 49 other records shown"; else fail "$name: the 49 other records shown" "got $n"; fi
expect_out "record 3 still there" '^\*+ RECORD 3: USER 169 \*+$'
expect_out "the error record listed" '^Error: User not found in the solution version$'
expect_out "RECORDS WITH ERRORS" '^\*+ RECORDS WITH ERRORS \*+$'
expect_out "summary counts" '^records_with_errors: 1$'
expect_out "summary malformed" '^malformed_lines: 1$'

run "missing file" "$MLPZ_BIN" "$S" no-such.json
expect_status 2
expect_err "names it" "cannot open no-such.json: No such file or directory"
expect_one_line_error
: > empty.json
run "empty file" "$MLPZ_BIN" "$S" empty.json
expect_status 2
expect_err "says empty" "empty.json: empty file"
expect_one_line_error
run "not JSON Lines" "$MLPZ_BIN" "$S" "$MLPZ_DATA/movies.csv"
expect_status 2
expect_err "says so" "movies.csv: not a Personalize batch output file"
expect_one_line_error
run "a batch input file" "$MLPZ_BIN" "$S" "$SEED/batch-input-similar-items-20201106-042152.json"
expect_status 2
expect_err "says it is an input file" "this is a batch input record; give the job's output file"
expect_one_line_error
{ head -n 2 "$UP"; head -n 1 "$SI"; } > mixed.json
run "mixed types" "$MLPZ_BIN" "$S" mixed.json
expect_status 2
expect_err "names the first line that differs" "^batch_output.lua: mixed.json:3: a similar-items record .* in a file of user-personalization records"
expect_one_line_error
run "no file" "$MLPZ_BIN" "$S"
expect_status 2
expect_one_line_error

# --- s3:// ----------------------------------------------------------------------
start_moto MOTO || { fail "moto server" "did not start"; exit 1; }
export AWS_ACCESS_KEY_ID=$MOTO_AK AWS_SECRET_ACCESS_KEY=$MOTO_SK AWS_REGION=us-east-1
python3 -c "
import boto3, sys
s3 = boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y')
s3.create_bucket(Bucket='mlpz-out')
s3.put_object(Bucket='mlpz-out', Key='out/batch.json.out', Body=open(sys.argv[1], 'rb').read())
" "$SI"
run "local" "$MLPZ_BIN" "$S" "$SI"
sed '/^file: /d' "$WORK/out" > local.txt
run "s3 URL" "$MLPZ_BIN" "$S" s3://mlpz-out/out/batch.json.out --endpoint-url "$MOTO_URL"
expect_status 0
expect_out "names the URL" '^file: s3://mlpz-out/out/batch.json.out$'
if sed '/^file: /d' "$WORK/out" | cmp -s - local.txt; then pass "$name: same report as the local file"
else fail "$name: same report as the local file" "$(sed '/^file: /d' "$WORK/out" | diff - local.txt | head -5)"; fi
run "s3 missing key" "$MLPZ_BIN" "$S" s3://mlpz-out/out/none.out --endpoint-url "$MOTO_URL"
expect_status 3
expect_err "says what failed" "GetObject s3://mlpz-out/out/none.out failed: NoSuchKey"
expect_one_line_error
run "s3 no key" "$MLPZ_BIN" "$S" s3://mlpz-out/
expect_status 2
expect_one_line_error
