-- Demo data for examples/offline/db-archival.yaml: 600 app events, one every two hours over
-- the last 50 days, so 240 of them are older than 30 days. Running it again starts afresh.
-- Load it with (from the repository root):
--   mkdir -p .nightshift && node -e "require('better-sqlite3')('.nightshift/archive-demo.db').exec(require('fs').readFileSync('examples/offline/archive-demo.sql', 'utf8'))"

DROP TABLE IF EXISTS events_archive;
DROP TABLE IF EXISTS events;

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  -- UTC, as SQLite's datetime() writes it, so it compares with datetime('now', …).
  created_at TEXT NOT NULL,
  kind TEXT NOT NULL,
  user_id INTEGER NOT NULL
);

WITH RECURSIVE step(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM step WHERE i < 600)
INSERT INTO events (created_at, kind, user_id)
SELECT
  datetime('now', printf('-%d hours', i * 2 - 1)),
  CASE i % 3 WHEN 0 THEN 'signup' WHEN 1 THEN 'login' ELSE 'purchase' END,
  i % 50
FROM step;
