#!/bin/sh
# demo.sh BUILD_DIR: what `make demo` runs after building — a real study,
# end to end on this machine: `hpsearch run` starts a coordinator and two
# workers, tunes an MLP on Fashion-MNIST, stores everything in SQLite and
# prints the best trial; then the history is queried with plain SQL.
set -eu
build=${1:-build}
bin="$build/bin"
out=demo-out
db="$out/demo.db"
spec=examples/demo-fashion-mnist.yaml
mkdir -p "$out"
# a fresh study each time: the demo shows a whole run
rm -f "$db" "$db-wal" "$db-shm"

echo "== hpsearch validate $spec"
"$bin/hpsearch" validate "$spec"
echo
echo "== hpsearch run $spec --workers 2 --db $db"
"$bin/hpsearch" run "$spec" --workers 2 --db "$db"
echo
echo "== hpsearch trials demo-fashion-mnist --db $db --sort value --limit 5"
"$bin/hpsearch" trials demo-fashion-mnist --db "$db" --sort value --limit 5
echo
echo "== parameters against the objective, with plain SQL (json_extract over trials.params)"
"$bin/hpsearch" sql --db "$db" \
  "SELECT number, round(value, 4) AS val_error,
          json_extract(params, '$.lr') AS lr, json_extract(params, '$.hidden') AS hidden,
          json_extract(params, '$.batch_size') AS batch_size
     FROM trials WHERE state = 'completed' ORDER BY value LIMIT 5"
echo
echo "== hpsearch report demo-fashion-mnist --db $db  (bias-variance decomposition of the best trial)"
"$bin/hpsearch" report demo-fashion-mnist --db "$db"
echo
echo "== learning curve of the best trial (plain SQL over the metrics table)"
"$bin/hpsearch" sql --db "$db" \
  "SELECT m.step AS epoch, round(max(CASE WHEN m.name = 'train_loss' THEN m.value END), 4) AS train_loss,
          round(max(CASE WHEN m.name = 'val_loss' THEN m.value END), 4) AS val_loss,
          round(max(CASE WHEN m.name = 'val_error' THEN m.value END), 4) AS val_error
     FROM metrics m
    WHERE m.trial_id = (SELECT id FROM trials WHERE state = 'completed' ORDER BY value LIMIT 1)
      AND m.step >= 0
    GROUP BY m.step ORDER BY m.step"
echo
echo "The database is $db; query it with: $bin/hpsearch sql --db $db \"SELECT ...\""
