DROP INDEX notices_member;
DROP INDEX members_number;
DROP INDEX members_search_kana;
DROP INDEX members_search_name;
ALTER TABLE members DROP COLUMN search_kana;
ALTER TABLE members DROP COLUMN search_name;
