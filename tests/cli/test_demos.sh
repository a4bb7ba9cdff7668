#!/bin/sh
# The four demos end to end on the real ml-latest-small files, their values
# cross-checked with tests/py/movielens.py (an independent reading).
. "$(dirname "$0")/lib.sh"
cd "$WORK" || exit 1
PY="import sys, json; sys.path.insert(0, '$ROOT/tests/py'); import movielens as ml"
S=$ROOT/scripts

# --- ranking.lua ---------------------------------------------------------
run "ranking 42" "$MLPZ_BIN" "$S/ranking.lua" 42 --seed 1
expect_status 0
for section in "USER INFO" "ITEM IDS INFO" "RECENT USER INTERACTIONS" "USER TOP GENRES" \
               "RERANKED ITEMS" "UNRANKED vs RERANKED ITEMS"; do
    expect_out "section $section" "^\*+ $section \*+$"
done
expect_out "user id shown" "^user_id: 42$"
expect_err "says it uses the local recommender" "embedded local recommender"
cp "$WORK/out" "$WORK/ranking-1.txt"
run "ranking 42 again" "$MLPZ_BIN" "$S/ranking.lua" 42 --seed 1
if cmp -s "$WORK/out" "$WORK/ranking-1.txt"; then pass "ranking: --seed reproduces the output"
else fail "ranking: --seed reproduces the output" "two runs with --seed 1 differ"; fi
run "ranking seed 2" "$MLPZ_BIN" "$S/ranking.lua" 42 --seed 2
if cmp -s "$WORK/out" "$WORK/ranking-1.txt"; then fail "ranking: another seed picks other movies" "same output"
else pass "ranking: another seed picks other movies"; fi

run "ranking json" "$MLPZ_BIN" "$S/ranking.lua" 302 --seed 1 --format json
expect_status 0
expect_py "history and genres match an independent computation" "$PY
doc = json.load(sys.stdin)
rows = ml.interactions(); mv = ml.movies()
want = ml.history(rows, '302', 20)
got = [(r['ITEM_ID'], r['EVENT_TYPE'], r['DATE']) for r in doc['recent_user_interactions']]
if got != want: print('history', got[:3], want[:3])
for r in doc['recent_user_interactions']:
    if r['TITLE'] != mv[r['ITEM_ID']]['title']: print('title of', r['ITEM_ID'], r['TITLE'])
want = ml.top_genres(rows, '302', mv)
got = [(r['GENRE'], r['COUNT']) for r in doc['user_top_genres']]
if got != want: print('genres', got, want)
"
expect_py "reranked is a permutation, scores descending, unscored last" "$PY
doc = json.load(sys.stdin)
ids = doc['item_ids_info']['item_ids']
ranked = doc['reranked_items']['rows']
if sorted(ids) != sorted(r['ITEM_ID'] for r in ranked): print('not a permutation')
if len(ids) != 20: print('expected 20 random movies, got', len(ids))
scores = [r['SCORE'] for r in ranked]
known = [s for s in scores if s is not None]
if scores[:len(known)] != known: print('unscored items are not last', scores)
if known != sorted(known, reverse=True): print('scores not descending', known)
if known and abs(sum(known) - 1) > 1e-3: print('scores do not sum to 1:', sum(known))
side = doc['unranked_vs_reranked_items']
if [r['Reranked Movies'] for r in side] != [r['TITLE'] for r in ranked]: print('side by side differs')
"
run "ranking -i" "$MLPZ_BIN" "$S/ranking.lua" 1 -i 260,1196,1,999999999 --format csv
expect_status 2
expect_err "unknown item in -i named" "unknown item id '999999999'"
expect_one_line_error
run "ranking -i ok" "$MLPZ_BIN" "$S/ranking.lua" 1 -i 260,1196,1 --format csv
expect_status 0
expect_out "csv section header" "^# RERANKED ITEMS$"
expect_out "csv header row" "^ITEM_ID,TITLE,GENRES,SCORE$"

# --- user_personalization.lua ---------------------------------------------
run "user_personalization random" "$MLPZ_BIN" "$S/user_personalization.lua" --seed 1
expect_status 0
expect_out "says the user was picked at random" "randomly selecting a user"
for section in "USER INFO" "RECENT USER INTERACTIONS" "USER TOP GENRES" "USER RECOMMENDATIONS" \
               "TOP USER vs RECOMMENDATIONS GENRES"; do
    expect_out "section $section" "^\*+ $section \*+$"
done
run "user_personalization 595 json" "$MLPZ_BIN" "$S/user_personalization.lua" 595 --format json
expect_status 0
expect_py "595: history, genres over all items, 20 of 50 recommendations unseen" "$PY
doc = json.load(sys.stdin)
rows = ml.interactions(); mv = ml.movies()
hist = ml.history(rows, '595')
got = [(r['ITEM_ID'], r['EVENT_TYPE'], r['DATE']) for r in doc['recent_user_interactions']]
if got != hist[:20]: print('history', got[:2], hist[:2])
want = ml.top_genres(rows, '595', mv)
if [(r['GENRE'], r['COUNT']) for r in doc['user_top_genres']] != want: print('genres differ')
recs = doc['user_recommendations']['rows']
if len(recs) != 20: print('shown', len(recs))
seen = {i for i, _, _ in hist}
if any(r['ITEM_ID'] in seen for r in recs): print('recommends seen items')
if any(r['TITLE'] != mv[r['ITEM_ID']]['title'] for r in recs): print('wrong titles')
if 'First 20 of 50' not in doc['user_recommendations']['note']: print(doc['user_recommendations']['note'])
side = doc['top_user_vs_recommendations_genres']
if [r['User Top Genres'] for r in side][:len(want)] != [g for g, _ in want]: print('side by side')
"

# --- similar_items.lua -----------------------------------------------------
run "similar_items 260" "$MLPZ_BIN" "$S/similar_items.lua" 260
expect_status 0
expect_out "item info title" "^Title: Star Wars: Episode IV - A New Hope \(1977\)$"
expect_out "item info genres" "^Genres: Action\|Adventure\|Sci-Fi$"
expect_out "similar to Star Wars IV: Empire Strikes Back" "^\| +1196 +\| +Star Wars: Episode V"
run "similar_items random" "$MLPZ_BIN" "$S/similar_items.lua" --seed 1 --format json
expect_status 0
expect_py "random item: 20 similar items, none the item itself" "$PY
doc = json.load(sys.stdin)
item = doc['item_info']['item_id']
rows = doc['item_recommendations']['rows']
if len(rows) != 20: print(len(rows))
if any(r['ITEM_ID'] == item for r in rows): print('item similar to itself')
if 'randomly selecting' not in doc['item_info']['note']: print('no random note')
"

# --- batch_input.lua -------------------------------------------------------
for kind in user-personalization similar-items personalized-ranking; do
    rm -f batch-input-*.json
    run "batch_input $kind" "$MLPZ_BIN" "$S/batch_input.lua" "$kind" --seed 7
    expect_status 0
    file=$(ls batch-input-"$kind"-*.json 2>/dev/null)
    case "$file" in
        batch-input-"$kind"-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9].json)
            pass "batch_input $kind: file name $file" ;;
        *) fail "batch_input $kind: file name" "got '$file'" ;;
    esac
    cp "$file" "$WORK/out" 2>/dev/null
    expect_py "50 records in Personalize's format, byte-compatible with json.dumps" "$PY
lines = sys.stdin.read().split('\n')
if lines[-1] != '': print('no final newline')
lines = lines[:-1]
if len(lines) != 50: print('records', len(lines))
mv = ml.movies(); users = {u for u, _, _, _ in ml.interactions()}
keys = {'user-personalization': ['userId'], 'similar-items': ['itemId'],
        'personalized-ranking': ['userId', 'itemList']}['$kind']
firsts = []
for l in lines:
    r = json.loads(l)
    if json.dumps(r) != l: print('layout differs from json.dumps:', l); break
    if list(r) != keys: print('keys', list(r)); break
    if 'userId' in r and r['userId'] not in users: print('unknown user', r['userId'])
    if 'itemId' in r and r['itemId'] not in mv: print('unknown item', r['itemId'])
    if 'itemList' in r and (len(r['itemList']) != 20 or len(set(r['itemList'])) != 20 or any(i not in mv for i in r['itemList'])): print('bad itemList')
    firsts.append(r.get('userId', r.get('itemId')))
if len(set(firsts)) != len(firsts): print('repeated ids')
"
done
sample=$MLPZ_SHARED/seed-samples/batch-input-personalized-ranking-20201106-044648.json
if python3 -c "import json,sys; l=open('$sample').readline().rstrip('\n'); sys.exit(json.dumps(json.loads(l)) != l)"; then
    pass "batch_input: the real sample's layout is json.dumps's"
else fail "batch_input: the real sample's layout is json.dumps's" "sample differs"; fi
# --records, --items-per-rank, --users, --items, -o
printf '1\n42\n# a comment\n\n595\n' > users.txt
printf '260\n1196\n1\n318\n2571\n' > items.txt
run "batch_input --users" "$MLPZ_BIN" "$S/batch_input.lua" user-personalization --users users.txt -o up.json
expect_status 0
if [ "$(cat up.json)" = "$(printf '{"userId": "1"}\n{"userId": "42"}\n{"userId": "595"}')" ]; then
    pass "batch_input --users: the file's users, in order"
else fail "batch_input --users: the file's users, in order" "$(cat up.json)"; fi
run "batch_input --users --records" "$MLPZ_BIN" "$S/batch_input.lua" user-personalization --users users.txt --records 2 -o up2.json
expect_status 0
[ "$(wc -l < up2.json)" -eq 2 ] && pass "$name: first 2" || fail "$name: first 2" "$(cat up2.json)"
run "batch_input ranking from files" "$MLPZ_BIN" "$S/batch_input.lua" personalized-ranking --users users.txt \
    --items items.txt --items-per-rank 4 --seed 5 -o rank.json
expect_status 0
cp rank.json "$WORK/out"
expect_py "itemLists of 4 distinct ids from the file" "
import json, sys
pool = {'260', '1196', '1', '318', '2571'}
recs = [json.loads(l) for l in sys.stdin]
if [r['userId'] for r in recs] != ['1', '42', '595']: print('users', recs)
for r in recs:
    if len(r['itemList']) != 4 or len(set(r['itemList'])) != 4 or not set(r['itemList']) <= pool: print(r)
"
run "batch_input ranking from files again" "$MLPZ_BIN" "$S/batch_input.lua" personalized-ranking --users users.txt \
    --items items.txt --items-per-rank 4 --seed 5 -o rank2.json
cmp -s rank.json rank2.json && pass "$name: --seed repeats the picks" || fail "$name: --seed repeats the picks" "differ"
run "batch_input similar-items --items --records" "$MLPZ_BIN" "$S/batch_input.lua" similar-items --items items.txt --records 3 -o sim.json
expect_status 0
if [ "$(cut -c1-30 sim.json | tr -d '\n')" = '{"itemId": "260"}{"itemId": "1196"}{"itemId": "1"}' ]; then pass "$name: first 3 items"
else fail "$name: first 3 items" "$(cat sim.json)"; fi
run "batch_input --items-per-rank 3" "$MLPZ_BIN" "$S/batch_input.lua" personalized-ranking --records 4 --items-per-rank 3 -o r3.json
expect_status 0
cp r3.json "$WORK/out"
expect_py "4 records of 3 items" "
import json, sys
recs = [json.loads(l) for l in sys.stdin]
if len(recs) != 4 or any(len(r['itemList']) != 3 for r in recs): print(recs)
"
printf '1\n99999\nabc\n42\n' > badusers.txt
run "batch_input unknown ids" "$MLPZ_BIN" "$S/batch_input.lua" user-personalization --users badusers.txt -o never.json
expect_status 2
expect_err "first bad id with file:line" "^badusers.txt:2: unknown user id '99999'$"
expect_err "last bad id with file:line, nothing written" "badusers.txt:3: unknown user id 'abc' \(2 unknown ids in badusers.txt; nothing written\)"
[ ! -e never.json ] && pass "$name: no file" || fail "$name: no file" "never.json written"
run "batch_input too few items" "$MLPZ_BIN" "$S/batch_input.lua" personalized-ranking --items items.txt -o never.json
expect_status 2
expect_err "says so" "items.txt has 5 items, fewer than --items-per-rank 20"
run "batch_input missing id file" "$MLPZ_BIN" "$S/batch_input.lua" similar-items --items nowhere.txt
expect_status 2
expect_err "names it" "cannot read nowhere.txt: No such file"
expect_one_line_error
run "batch_input --records 0" "$MLPZ_BIN" "$S/batch_input.lua" similar-items --records 0
expect_status 2
expect_err "range" "--records needs a whole number from 1 to 1000000"

# The real samples, rebuilt from their own ids, byte for byte.
for sample in "$MLPZ_SHARED"/seed-samples/batch-input-similar-items-*.json \
              "$MLPZ_SHARED"/seed-samples/batch-input-user-personalization-*.json; do
    base=$(basename "$sample")
    kind=$(echo "$base" | sed 's/^batch-input-//; s/-[0-9]*-[0-9]*\.json$//')
    python3 -c "import json,sys; [print(list(json.loads(l).values())[0]) for l in open('$sample')]" > ids.txt
    flag=--users; [ "$kind" = similar-items ] && flag=--items
    run "batch_input rebuilds $base" "$MLPZ_BIN" "$S/batch_input.lua" "$kind" $flag ids.txt -o rebuilt.json
    if cmp -s rebuilt.json "$sample"; then pass "$name: byte for byte"
    else fail "$name: byte for byte" "$(diff rebuilt.json "$sample" | head -3)"; fi
done

# A folder deleted under the running script: writing fails even for root.
mkdir gone
(cd gone && rmdir "$WORK/gone" && "$MLPZ_BIN" "$S/batch_input.lua" similar-items > "$WORK/out" 2> "$WORK/err"); status=$?
name="batch_input where the folder cannot be written"
expect_status 2
expect_err "names the file" "cannot write batch-input-similar-items-[0-9-]+\\.json\\.tmp-[0-9]+: No such file"
expect_one_line_error
if [ ! -e gone ] && [ -z "$(ls -A . | grep -E '^batch-input-similar-items-.*tmp')" ]; then pass "$name: nothing left behind"
else fail "$name: nothing left behind" "$(ls -A .)"; fi
run "batch_input bad type" "$MLPZ_BIN" "$S/batch_input.lua" user-ranking
expect_status 2
expect_err "names the valid types" "user-personalization, similar-items or personalized-ranking"
expect_one_line_error

# --- bad input ---------------------------------------------------------------
run "unknown user" "$MLPZ_BIN" "$S/user_personalization.lua" 99999
expect_status 2
expect_err "explains" "unknown user id '99999'.*610 users \(ids 1 to 610\)"
expect_one_line_error
run "unknown item" "$MLPZ_BIN" "$S/similar_items.lua" abc
expect_status 2
expect_err "explains" "unknown item id 'abc'.*search"
expect_one_line_error
run "missing data folder" "$MLPZ_BIN" "$S/ranking.lua" 42 --data "$WORK/nowhere"
expect_status 2
expect_err "says how to get data" "make data"
expect_one_line_error
mkdir bad && cp "$MLPZ_DATA/movies.csv" bad/ && printf 'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,four,964981247\n' > bad/ratings.csv
run "malformed ratings" "$MLPZ_BIN" "$S/ranking.lua" 1 --data bad
expect_status 2
expect_err "names file and line" "ratings.csv:3"
expect_one_line_error
run "bad flag" "$MLPZ_BIN" "$S/ranking.lua" --bogus
expect_status 2
expect_err "names the option" "unknown option '--bogus'"
run "bad number" "$MLPZ_BIN" "$S/user_personalization.lua" 1 -n 0
expect_status 2
expect_err "names the option and range" "--num-results needs a whole number from 1 to 500, got '0'"
run "bad format" "$MLPZ_BIN" "$S/ranking.lua" 1 --format xml
expect_status 2
expect_err "lists formats" "--format must be one of csv, json, table"
run "help" "$MLPZ_BIN" "$S/ranking.lua" --help
expect_status 0
expect_out "usage line" "^usage: mlpz-lua ranking.lua"
expect_out "lists --seed" "--seed N"
