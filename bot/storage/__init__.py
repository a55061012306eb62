"""Storage: the tables, the queries and the migrations. The only SQL in the project."""
