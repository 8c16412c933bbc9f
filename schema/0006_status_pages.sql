-- Ids for status pages.
CREATE SEQUENCE status_page_ids;
