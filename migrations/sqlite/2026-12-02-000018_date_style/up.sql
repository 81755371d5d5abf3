-- Issue 18 (5): how the insurer's pages show dates (設定 → 表示). Kept in step with the other
-- backend by tests/schema_drift.rs.
--
-- date_style: 'iso' (2026-10-21, the default) or 'wareki' (令和8年10月21日). Pages only: letters to
-- members always use 和暦, e-mails 2026年10月21日, files and the API ISO 8601.
ALTER TABLE insurers ADD COLUMN date_style TEXT NOT NULL DEFAULT 'iso' CHECK (date_style IN ('iso', 'wareki'));
