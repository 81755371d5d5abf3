-- Issue 18: the case list searched by 氏名 / カナ / 記号番号 / 受付番号, and the 登録エラー worklist.
-- Kept in step with ../../sqlite by tests/schema_drift.rs.
--
-- A member's name and kana folded for search (domain::search::fold: width, spaces, hiragana and
-- small kana evened out), written by the import with the name; compared by prefix through the
-- indexes below, in code-point order (SQLite's BINARY; PostgreSQL declares them COLLATE "C").
-- Members stored before this migration are filled in by store::migrate.
ALTER TABLE members ADD COLUMN search_name TEXT COLLATE "C";
ALTER TABLE members ADD COLUMN search_kana TEXT COLLATE "C";
CREATE INDEX members_search_name ON members (insurer_id, search_name);
CREATE INDEX members_search_kana ON members (insurer_id, search_kana);
-- 記号・番号 as typed: the number (with the symbol) finds the member.
CREATE INDEX members_number ON members (insurer_id, number, symbol);
-- The notices of the members found.
CREATE INDEX notices_member ON notices (insurer_id, member_id);
