-- The store file a result was merged from (`bench-cli merge`); NULL when it
-- was recorded in this store. A conflicting merge names it.
ALTER TABLE results ADD COLUMN source TEXT;
