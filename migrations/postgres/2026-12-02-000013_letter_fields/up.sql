-- Issue 15 part 7: what the letters print. Kept in step with the other backend by
-- tests/schema_drift.rs. Every column is nullable: a letter never states what the data does not show.
--
-- How the insurer calls itself in the letters (当組合, 当共済組合, 当会 …). NULL: by its kind
-- (健康保険組合 当組合, 共済組合等 当共済組合).
ALTER TABLE insurers ADD COLUMN issuer_word TEXT;
-- The representative's title and name printed under the insurer name (e.g. 理事長　山田 太郎).
ALTER TABLE insurers ADD COLUMN representative TEXT;

-- 生年月日 from the notices file's optional column; NULL: not known (資格情報のお知らせ then omits it).
ALTER TABLE members ADD COLUMN birth_date DATE;

-- The 〒 + address block of a 長3 window envelope. The member's address from the notices file's
-- optional columns (郵便番号 as 123-4567); without it the letter goes 気付 the employer at the
-- employer's postal address (edited on the employer page); without either, no address is printed.
ALTER TABLE members ADD COLUMN postal_code TEXT;
ALTER TABLE members ADD COLUMN address TEXT;
ALTER TABLE employers ADD COLUMN postal_code TEXT;
ALTER TABLE employers ADD COLUMN address TEXT;
