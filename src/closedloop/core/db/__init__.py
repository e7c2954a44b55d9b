"""The one place that writes in bulk and knows how SQLite and PostgreSQL differ.

Apps describe what to write (a model, its columns, rows of Python values) and this package
decides how: the SQL each database wants, the parameter limits, the value formats, the
pragmas, the index work around large loads. Nothing outside it tests `connection.vendor`
(but `closedloop.backup`, whose whole job differs per database).

- `vendor`: facts and SQL fragments that differ per database (epoch seconds, JSON casts,
  "one of these values" lists), value adapters, planner statistics, SQLite pragmas, and
  fast `fetch`/`execute` on the driver's own cursor.
- `chunks`: splitting id lists and rows into statements the database accepts.
- `insert`: multi-row INSERT with conflict handling (ignore / upsert) and RETURNING, from
  tuples or from dicts with the model's defaults; UPDATE of many rows by key.
- `columns`: the column-array writer of the demo loader (COPY on PostgreSQL), emptying
  tables, and resetting id sequences.
- `indexes`: secondary indexes of a table, dropped for a large load and built again after
  it, either within the load's transaction or crash-safely with a recorded list.

Table and column names always come from `Model._meta`.
"""
