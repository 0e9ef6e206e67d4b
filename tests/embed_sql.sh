#!/bin/sh
# embed_sql.sh — turn schema/*.sql into C strings so the DDL lives only in
# schema/ and is still compiled into the binary. Output: schema_sql[] in file
# order (queue.sql first, then migrations/NNN_*.sql by number).
set -e
echo "/* generated from schema/ by tests/embed_sql.sh; do not edit */"
echo "#include <stddef.h>"
echo "const char *const schema_sql[] = {"
for f in "$@"; do
  echo "  /* $f */"
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/  "/' -e 's/$/\\n"/' "$f"
  echo "  ,"
done
echo "  NULL"
echo "};"
echo "const size_t schema_sql_count = $#;"
