package postgres

// ReadAccountSQL is the account read's statement, for the EXPLAIN test.
const ReadAccountSQL = readAccountSQL
